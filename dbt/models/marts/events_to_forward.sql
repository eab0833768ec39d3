{{ config(materialized='view') }}
{#- The forwarding queue (docs/forwarding.md): every eligible event, one row per event_id, with what
    the Events API 2.0 payload needs. The forwarder sends the rows that have no `sent` row in
    event_delivery_ledger (the dbt source `forwarding`). external_id_source is the raw stable user
    id: the forwarder hashes it (SHA-256, never re-hashing a 64-hex value). value/currency are set
    when the event has revenue and always on Purchase. A view: eligibility depends on the
    `forwarding_now` var or the current time (max age `forwarding_max_age_days`). -#}
select
    event_id,
    advertiser_id,
    pixel_code,
    tiktok_event,
    event_time,
    occurred_at,
    ttclid,
    ip,
    user_agent,
    external_id_source,
    case
        when revenue is not null then revenue
        when tiktok_event in ('Purchase', 'CompletePayment') then cast(0 as {{ type_money() }})
    end as value,
    case
        when revenue is not null or tiktok_event in ('Purchase', 'CompletePayment')
            then coalesce(currency, advertiser_currency)
    end as currency,
    page_url,
    false as is_test,
    'web' as event_source,
    event_type as sdk_event,
    appsprint_id,
    campaign_id,
    adgroup_id,
    ad_id,
    pixel_id
from {{ ref('int_events__forwarding_decisions') }}
where skip_reason is null
-- implied by skip_reason is null (not too_old); stated so the scan skips old events early
and occurred_at >= {{ dbt.dateadd('day', '-1 * ' ~ var('forwarding_max_age_days', 7), forwarding_now()) }}
