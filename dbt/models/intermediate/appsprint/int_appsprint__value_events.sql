{#- The small slice of events that revenue and value-optimisation readiness read: every event
    with a revenue amount, plus every event of an SDK type currently mapped to Purchase (value
    and currency are always sent on Purchase). ~5% of all events, maintained incrementally from
    stg_appsprint__events (new dlt loads only, delete+insert on event_id), so the marts that
    aggregate money never rescan the whole event history. Attribution is NOT stored here: it is
    joined downstream, so late-resolved installs are always current. The forwarding rule's device
    checks, which depend on the event alone, are judged once per event here (device_skip_reason,
    '' = pass; NULL only on rows staged before the column existed: readers re-evaluate those).
    After mapping another SDK event to Purchase, run this model with --full-refresh to include its history. -#}
{{ config(
    materialized=incremental_materialization(),
    unique_key='event_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}

with events as (
    select * from {{ ref('stg_appsprint__events') }}
    {% if is_incremental() %}
    where {{ unprocessed_dlt_loads('dlt_load_id', ref('stg_appsprint__events'), 'dlt_load_id', 'dlt_load_id') }}
    {% endif %}
),

purchase_types as (
    select sdk_event from {{ ref('int_event_mapping') }}
    where tiktok_event in ('Purchase', 'CompletePayment')
)

select
    events.event_id,
    events.appsprint_id,
    events.event_type,
    events.event_name,
    events.occurred_at,
    events.revenue,
    events.currency,
    events.environment,
    events.ip,
    events.user_agent,
    {{ forwarding_device_skip_reason('events') }} as device_skip_reason,
    events.dlt_load_id
from events
where
    events.revenue is not null
    or events.event_type in (select purchase_types.sdk_event from purchase_types)
