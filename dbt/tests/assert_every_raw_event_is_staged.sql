{{ config(meta={'dagster': {'ref': {'name': 'stg_appsprint__events'}}}) }}
-- Staging drops nothing silently: every distinct raw event_id is exactly one staged row, and no
-- staged row lacks a raw row.
with raw_events as (
    select distinct cast(event_id as varchar(64)) as event_id
    from {{ source('appsprint', 'events') }}
),

staged as (
    select event_id from {{ ref('stg_appsprint__events') }}
)

select
    coalesce(raw_events.event_id, staged.event_id) as event_id,
    case
        when staged.event_id is null then 'raw event missing from staging'
        else 'staged event missing from raw'
    end as problem
from raw_events
full outer join staged
    on raw_events.event_id = staged.event_id
where raw_events.event_id is null or staged.event_id is null
