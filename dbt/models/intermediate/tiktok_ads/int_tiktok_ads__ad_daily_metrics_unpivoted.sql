-- depends_on: {{ ref('stg_tiktok_ads__ad_daily_report') }}
-- depends_on: {{ source('tiktok_ads', 'ad_daily_report') }}
{#- TikTok's report metrics per ad-day as (metric_name, metric_value) rows, so that the TikTok
    fallback (docs/decisions/0003-fallback-and-provenance.md) picks metrics by name from a seed
    (data, not code). Every numeric metric column of the staging view is included (the raw report's,
    as of the view's last full build). A view: its one reader, int_tiktok_ads__ad_daily, aggregates
    it in the same query. -#}
{{ config(materialized='view') }}
{%- set metrics = tiktok_report_metric_columns(ref('stg_tiktok_ads__ad_daily_report')) %}
{%- if metrics | length == 0 %}
    select
        cast(null as varchar(64)) as advertiser_id,
        cast(null as varchar(64)) as ad_id,
        cast(null as date) as report_date,
        cast(null as varchar(128)) as metric_name,
        cast(null as {{ type_money() }}) as metric_value
    where 1 = 0
{%- else %}
{%- for metric in metrics %}
select
    advertiser_id,
    ad_id,
    report_date,
    cast('{{ metric.name }}' as varchar(128)) as metric_name,
    cast({{ adapter.quote(metric.name) }} as {{ type_money() }}) as metric_value
from {{ ref('stg_tiktok_ads__ad_daily_report') }}
where {{ adapter.quote(metric.name) }} is not null
{{ 'union all' if not loop.last }}
{%- endfor %}
{%- endif %}
