{{ config(materialized='view') }}
{#- Every staged event that is NOT forwarded, one row per event_id, with the reason
    (docs/forwarding.md; see int_events__forwarding_decisions for the order in which reasons are
    tested). Together with events_to_forward it covers every staged event exactly once. -#}
select
    event_id,
    skip_reason as reason,
    event_type as sdk_event,
    event_name,
    tiktok_event,
    mapping_status,
    occurred_at,
    environment,
    advertiser_id,
    campaign_id,
    adgroup_id,
    ad_id,
    pixel_code,
    appsprint_id,
    ip,
    not coalesce(user_agent is null, false) as has_user_agent,
    is_tiktok_attributed
from {{ ref('int_events__forwarding_decisions') }}
where skip_reason is not null
