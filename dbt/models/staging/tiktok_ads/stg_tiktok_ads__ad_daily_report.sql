{#- One row per advertiser x ad x advertiser-local stat_date (the raw layer replaces re-pulled
    days whole; keep the latest load should a duplicate slip through). "-" was already NULL. -#}
with source as (
    select * from {{ source('tiktok_ads', 'ad_daily_report') }}
),

{{ latest_row_per_key(
    'latest', 'source', ['advertiser_id', 'ad_id', 'stat_date'], '_dlt_load_id desc, synced_at desc'
) }}

select
    cast(advertiser_id as varchar(64)) as advertiser_id,
    cast(ad_id as varchar(64)) as ad_id,
    cast(stat_date as date) as report_date,
    cast(campaign_id as varchar(64)) as campaign_id,
    campaign_name,
    cast(adgroup_id as varchar(64)) as adgroup_id,
    adgroup_name,
    ad_name,
    report_timezone,
    upper(currency) as currency,
    cast(coalesce(spend, 0) as {{ type_money() }}) as spend,
    cast(coalesce(impressions, 0) as bigint) as impressions,
    cast(coalesce(clicks, 0) as bigint) as clicks,
    {%- for metric in tiktok_report_metric_columns() if metric.name not in ('spend', 'impressions', 'clicks') %}
    cast({{ adapter.quote(metric.name) }} as {{ 'bigint' if metric.integer else type_money() }}) as {{ adapter.quote(metric.name) }},
    {%- endfor %}
    synced_at,
    _dlt_load_id as dlt_load_id
from latest
