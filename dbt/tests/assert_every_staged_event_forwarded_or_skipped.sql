{{ config(meta={'dagster': {'ref': {'name': 'events_to_forward'}}}) }}
-- The forwarding rule decides every event: every staged event is in exactly one of
-- events_to_forward and forwarding_skips.
with staged as (
    select event_id from {{ ref('stg_appsprint__events') }}
),

outcomes as (
    select
        event_id,
        'forward' as outcome
    from {{ ref('events_to_forward') }}
    union all
    select
        event_id,
        'skip' as outcome
    from {{ ref('forwarding_skips') }}
),

counted as (
    select
        event_id,
        count(*) as outcomes
    from outcomes
    group by event_id
)

select
    coalesce(staged.event_id, counted.event_id) as event_id,
    coalesce(counted.outcomes, 0) as outcomes,
    staged.event_id is not null as is_staged
from staged
full outer join counted
    on staged.event_id = counted.event_id
where
    staged.event_id is null
    or counted.event_id is null
    or counted.outcomes <> 1
