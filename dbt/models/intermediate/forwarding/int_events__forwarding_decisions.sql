{{ config(materialized='view') }}
{#- Every staged event with the forwarding decision (docs/decisions/0006-forwarding-rules.md) and
    the Events API payload fields. skip_reason is null for an eligible event; otherwise the FIRST
    reason that applies, in this order: sandbox, not_tiktok_attributed, unmapped, invalid_mapping,
    missing_pixel, missing_ip, private_ip, missing_user_agent, too_old (the macro
    forwarding_skip_reason), then missing_page_url: TikTok requires page.url on web events and the
    forwarder sends the Signal link the user came through, so an event whose link URL is unknown or
    not an http(s) URL is skipped, never sent without one. A view because eligibility depends on
    "now" (max age) and on the current attribution and mapping. -#}
with events as (
    select * from {{ ref('int_appsprint__events_attributed') }}
),

mapping as (
    select * from {{ ref('int_event_mapping') }}
),

decided as (
    select
        events.*,
        mapping.tiktok_event,
        mapping.mapping_status,
        coalesce(
            {{ forwarding_skip_reason('events', 'mapping') }},
            case
                when not (
                    lower(trim(events.link_url)) like 'https://_%'
                    or lower(trim(events.link_url)) like 'http://_%'
                ) or events.link_url is null then 'missing_page_url'
            end
        ) as skip_reason
    from events
    left join mapping
        on events.event_type = mapping.sdk_event
)

select
    event_id,
    appsprint_id,
    event_type,
    event_name,
    tiktok_event,
    mapping_status,
    skip_reason,
    occurred_at,
    {{ epoch_seconds('occurred_at') }} as event_time,
    received_at,
    environment,
    advertiser_id,
    campaign_id,
    adgroup_id,
    ad_id,
    pixel_id,
    pixel_code,
    ttclid,
    trim(ip) as ip,
    user_agent,
    nullif(trim(customer_user_id), '') as external_id_source,
    trim(link_url) as page_url,
    revenue,
    currency,
    advertiser_currency,
    is_tiktok_attributed,
    has_install,
    dlt_load_id
from decided
