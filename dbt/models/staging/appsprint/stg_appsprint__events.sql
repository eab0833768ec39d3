{#- One row per event_id: the largest table (10M+ rows), so incremental. Every raw row whose dlt
    load has not been processed yet is (re)read, deduplicated within the batch (latest updated_at)
    and replaces the staged row with the same event_id (delete+insert): re-delivered events stay
    one row, late rows are never missed. Two versions with the same updated_at are decided below. Rows the extractor could not type are in
    stg_appsprint__quarantine, not here. -#}
{{ config(
    materialized=incremental_materialization(),
    unique_key='event_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}

{#- the raw rows to stage, as a subquery: latest_row_per_key reads them three times -#}
{%- set source_rows -%}
(
    select * from {{ source('appsprint', 'events') }}
    {% if is_incremental() %}
    where {{ unprocessed_dlt_loads('_dlt_load_id', source('appsprint', 'events')) }}
    {% endif %}
)
{%- endset %}

{#- Which version of an event wins, deterministically: the latest updated_at; on a tie the later
    delivery (the later dlt load, then the later received_at); then the row's values as a stable
    key, so two versions that differ only in value give the same winner on every build. -#}
{%- set stable_key = [
    'occurred_at', 'revenue', 'currency', 'event_type', 'event_name', 'source', 'environment',
    'appsprint_id', 'customer_user_id', 'ip', 'user_agent', 'parameters',
] -%}
{%- set latest_first -%}
    updated_at desc, _dlt_load_id desc, received_at desc nulls last
    {%- for column in stable_key %}, {{ column }} asc nulls last{% endfor %}
{%- endset %}

with {{ latest_row_per_key('deduplicated', source_rows, 'event_id', latest_first) }}

select
    cast(event_id as varchar(64)) as event_id,
    cast(appsprint_id as varchar(64)) as appsprint_id,
    lower(event_type) as event_type,
    event_name,
    occurred_at,
    received_at,
    cast(revenue as {{ type_money() }}) as revenue,
    upper(currency) as currency,
    lower(source) as event_source,
    lower(environment) as environment,
    ip,
    user_agent,
    customer_user_id,
    parameters,
    updated_at,
    _dlt_load_id as dlt_load_id
from deduplicated
