{#- Incremental on dlt load ids: every raw row of a load not processed yet is (re)read
    and replaces the staged row with the same click_id (delete+insert). Loads that land late or
    out of order (a retried package) are picked up because the filter is "load id not yet seen",
    not "load id greater than the maximum". -#}
{{ config(
    materialized=incremental_materialization(),
    unique_key='click_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}

{#- the raw rows to stage, as a subquery: latest_row_per_key reads them three times -#}
{%- set source_rows -%}
(
    select * from {{ source('appsprint', 'clicks') }}
    {% if is_incremental() %}
    where {{ unprocessed_dlt_loads('_dlt_load_id', source('appsprint', 'clicks')) }}
    {% endif %}
)
{%- endset %}

with {{ latest_row_per_key('deduplicated', source_rows, 'click_id', 'updated_at desc, _dlt_load_id desc') }}

select
    cast(click_id as varchar(64)) as click_id,
    cast(link_id as varchar(64)) as link_id,
    clicked_at,
    ttclid,
    cast(campaign_id as varchar(64)) as campaign_id,
    cast(adgroup_id as varchar(64)) as adgroup_id,
    cast(ad_id as varchar(64)) as ad_id,
    placement,
    ip,
    user_agent,
    lower(os) as os,
    updated_at,
    _dlt_load_id as dlt_load_id
from deduplicated
