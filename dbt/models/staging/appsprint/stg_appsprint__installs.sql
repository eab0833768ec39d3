{#- One row per install (appsprint_id), the latest attribution. Incremental like
    stg_appsprint__clicks: a late attribution arrives as a new version of the row in a new load
    and replaces the staged one. -#}
{{ config(
    materialized=incremental_materialization(),
    unique_key='appsprint_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}

{#- the raw rows to stage, as a subquery: latest_row_per_key reads them three times -#}
{%- set source_rows -%}
(
    select * from {{ source('appsprint', 'installs') }}
    {% if is_incremental() %}
    where {{ unprocessed_dlt_loads('_dlt_load_id', source('appsprint', 'installs')) }}
    {% endif %}
)
{%- endset %}

with {{ latest_row_per_key('deduplicated', source_rows, 'appsprint_id', 'updated_at desc, _dlt_load_id desc') }}

select
    cast(appsprint_id as varchar(64)) as appsprint_id,
    installed_at,
    lower(platform) as platform,
    app_version,
    country,
    ip,
    user_agent,
    lower(attribution__status) as attribution_status,
    lower(attribution__network) as attribution_network,
    attribution__match_type as attribution_match_type,
    attribution__confidence as attribution_confidence,
    cast(attribution__link_id as varchar(64)) as attributed_link_id,
    cast(attribution__click_id as varchar(64)) as attributed_click_id,
    updated_at,
    _dlt_load_id as dlt_load_id
from deduplicated
