{{ config(materialized='view') }}
{#- Which AppSprint event types are seen, how many, and what happens to them: the TikTok event
    they map to (or why they are dropped) and their dashboard group. One row per SDK event type
    that is seen or mapped. Counts are over all staged events; per-event outcomes (and why an
    event of a mapped type was still not sent) are in events_to_forward / forwarding_skips.
    A view: one scan of the staged events when queried (~0.2 s on 10M events) instead of a table
    rebuilt by every scheduled run. -#}
with seen as (
    select
        event_type as sdk_event,
        count(*) as events,
        sum(case when coalesce(environment, 'production') = 'production' then 1 else 0 end) as production_events,
        min(occurred_at) as first_occurred_at,
        max(occurred_at) as last_occurred_at
    from {{ ref('stg_appsprint__events') }}
    group by event_type
),

mapping as (
    select * from {{ ref('int_event_mapping') }}
)

select
    coalesce(seen.sdk_event, mapping.sdk_event) as sdk_event,
    mapping.tiktok_event,
    coalesce(mapping.mapping_status, 'unmapped') as mapping_status,
    mapping.invalid_reason,
    mapping.dashboard_group,
    coalesce(mapping.is_override, false) as is_override,
    coalesce(mapping.mapping_status, 'unmapped') = 'mapped' as is_forwarded,
    seen.sdk_event is not null as is_seen,
    cast(coalesce(seen.events, 0) as bigint) as events,
    cast(coalesce(seen.production_events, 0) as bigint) as production_events,
    seen.first_occurred_at,
    seen.last_occurred_at
from seen
full outer join mapping
    on seen.sdk_event = mapping.sdk_event
