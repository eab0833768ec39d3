{#- TikTok's view of each ad-day: delivery (spend, impressions, clicks) and the fallback values
    (used where AppSprint has no data, docs/decisions/0003-fallback-and-provenance.md):
    installs_tiktok = the report's count metric of the TikTok event that `install` maps to;
    revenue_tiktok = the sum of the value metrics of the distinct enabled, valid mapped TikTok
    events that have one (default Purchase -> total_complete_payment_rate, Subscribe ->
    total_on_web_subscribe_value). Values are in the advertiser currency already. -#}
with report as (
    select * from {{ ref('stg_tiktok_ads__ad_daily_report') }}
),

metrics as (
    select * from {{ ref('int_tiktok_ads__ad_daily_metrics_unpivoted') }}
),

mapping as (
    select * from {{ ref('int_event_mapping') }}
    where mapping_status = 'mapped'
),

report_metrics as (
    select
        tiktok_event,
        nullif(trim(count_metric), '') as count_metric,
        nullif(trim(value_metric), '') as value_metric
    from {{ ref('tiktok_event_report_metrics') }}
),

fallback_metrics as (
    select distinct
        'installs' as fallback_role,
        report_metrics.count_metric as metric_name
    from mapping
    inner join report_metrics
        on mapping.tiktok_event = report_metrics.tiktok_event
    where
        mapping.sdk_event = 'install'
        and report_metrics.count_metric is not null

    union all

    select distinct
        'revenue' as fallback_role,
        report_metrics.value_metric as metric_name
    from mapping
    inner join report_metrics
        on mapping.tiktok_event = report_metrics.tiktok_event
    where report_metrics.value_metric is not null
),

fallback as (
    select
        metrics.advertiser_id,
        metrics.ad_id,
        metrics.report_date,
        sum(case when fallback_metrics.fallback_role = 'installs' then metrics.metric_value end) as installs_tiktok,
        sum(case when fallback_metrics.fallback_role = 'revenue' then metrics.metric_value end) as revenue_tiktok
    from metrics
    inner join fallback_metrics
        on metrics.metric_name = fallback_metrics.metric_name
    group by metrics.advertiser_id, metrics.ad_id, metrics.report_date
)

select
    report.advertiser_id,
    report.ad_id,
    report.report_date,
    report.campaign_id,
    report.campaign_name,
    report.adgroup_id,
    report.adgroup_name,
    report.ad_name,
    report.report_timezone,
    report.currency,
    report.spend,
    report.impressions,
    report.clicks,
    cast(coalesce(fallback.installs_tiktok, 0) as bigint) as installs_tiktok,
    cast(coalesce(fallback.revenue_tiktok, 0) as {{ type_money() }}) as revenue_tiktok
from report
left join fallback
    on
        report.advertiser_id = fallback.advertiser_id
        and report.ad_id = fallback.ad_id
        and report.report_date = fallback.report_date
