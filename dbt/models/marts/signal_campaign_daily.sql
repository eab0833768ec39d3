{#- The Signal Campaign metrics, one row per advertiser-local report_date x ad (docs/metrics.md).
    Rows exist for every ad-day TikTok reported (spend with or without AppSprint data) and every
    ad-day with AppSprint-attributed installs or revenue (with or without spend).
    Fallback at ad x day (docs/decisions/0003-fallback-and-provenance.md):
    installs = AppSprint's if > 0, else TikTok's reported count for the event `install` maps to;
    revenue = AppSprint's if AppSprint attributed any revenue that day, else TikTok's reported value
    of the value-bearing mapped events. `*_source` says which. -#}
with tiktok as (
    select * from {{ ref('int_tiktok_ads__ad_daily') }}
),

appsprint as (
    select * from {{ ref('int_appsprint__ad_daily') }}
),

ads as (
    select * from {{ ref('int_tiktok_ads__ad_dimensions') }}
),

advertisers as (
    select * from {{ ref('stg_tiktok_ads__advertisers') }}
),

ad_days as (
    select
        coalesce(tiktok.advertiser_id, appsprint.advertiser_id) as advertiser_id,
        coalesce(tiktok.ad_id, appsprint.ad_id) as ad_id,
        coalesce(tiktok.report_date, appsprint.report_date) as report_date,
        tiktok.ad_id is not null as has_tiktok_report,
        appsprint.ad_id is not null as has_appsprint_data,
        tiktok.campaign_id as tiktok_campaign_id,
        tiktok.campaign_name as tiktok_campaign_name,
        tiktok.adgroup_id as tiktok_adgroup_id,
        tiktok.adgroup_name as tiktok_adgroup_name,
        tiktok.ad_name as tiktok_ad_name,
        appsprint.campaign_id as appsprint_campaign_id,
        appsprint.adgroup_id as appsprint_adgroup_id,
        coalesce(tiktok.spend, 0) as spend,
        coalesce(tiktok.impressions, 0) as impressions,
        coalesce(tiktok.clicks, 0) as clicks,
        coalesce(tiktok.installs_tiktok, 0) as installs_tiktok,
        coalesce(tiktok.revenue_tiktok, 0) as revenue_tiktok,
        coalesce(appsprint.installs_appsprint, 0) as installs_appsprint,
        coalesce(appsprint.revenue_appsprint, 0) as revenue_appsprint,
        coalesce(appsprint.revenue_events_without_fx_rate, 0) as revenue_events_without_fx_rate
    from tiktok
    full outer join appsprint
        on
            tiktok.advertiser_id = appsprint.advertiser_id
            and tiktok.ad_id = appsprint.ad_id
            and tiktok.report_date = appsprint.report_date
),

with_sources as (
    select
        ad_days.*,
        case
            when ad_days.installs_appsprint > 0 then 'appsprint'
            when ad_days.installs_tiktok > 0 then 'tiktok'
            else 'none'
        end as installs_source,
        case
            when ad_days.revenue_appsprint <> 0 or ad_days.revenue_events_without_fx_rate > 0 then 'appsprint'
            when ad_days.revenue_tiktok <> 0 then 'tiktok'
            else 'none'
        end as revenue_source
    from ad_days
),

final as (
    select
        with_sources.report_date,
        with_sources.advertiser_id,
        coalesce(ads.campaign_id, with_sources.tiktok_campaign_id, with_sources.appsprint_campaign_id) as campaign_id,
        coalesce(ads.campaign_name, with_sources.tiktok_campaign_name) as campaign_name,
        coalesce(ads.adgroup_id, with_sources.tiktok_adgroup_id, with_sources.appsprint_adgroup_id) as adgroup_id,
        coalesce(ads.adgroup_name, with_sources.tiktok_adgroup_name) as adgroup_name,
        with_sources.ad_id,
        coalesce(ads.ad_name, with_sources.tiktok_ad_name) as ad_name,
        advertisers.report_timezone,
        advertisers.currency,
        cast(with_sources.spend as {{ type_money() }}) as spend,
        cast(with_sources.impressions as bigint) as impressions,
        cast(with_sources.clicks as bigint) as clicks,
        cast(case
            when with_sources.installs_source = 'appsprint' then with_sources.installs_appsprint
            when with_sources.installs_source = 'tiktok' then with_sources.installs_tiktok
            else 0
        end as bigint) as installs,
        cast(with_sources.installs_appsprint as bigint) as installs_appsprint,
        cast(with_sources.installs_tiktok as bigint) as installs_tiktok,
        with_sources.installs_source,
        cast(case when with_sources.installs_source = 'tiktok' then with_sources.installs_tiktok else 0 end as bigint)
            as installs_from_fallback,
        cast(case
            when with_sources.revenue_source = 'appsprint' then with_sources.revenue_appsprint
            when with_sources.revenue_source = 'tiktok' then with_sources.revenue_tiktok
            else 0
        end as {{ type_money() }}) as revenue,
        cast(with_sources.revenue_appsprint as {{ type_money() }}) as revenue_appsprint,
        cast(with_sources.revenue_tiktok as {{ type_money() }}) as revenue_tiktok,
        with_sources.revenue_source,
        cast(
            case when with_sources.revenue_source = 'tiktok' then with_sources.revenue_tiktok else 0 end
            as {{ type_money() }}
        ) as revenue_from_fallback,
        cast(with_sources.revenue_events_without_fx_rate as bigint) as revenue_events_without_fx_rate,
        cast(
            case when with_sources.installs_source = 'tiktok' then with_sources.spend else 0 end as {{ type_money() }}
        ) as spend_with_install_fallback,
        cast(
            case when with_sources.revenue_source = 'tiktok' then with_sources.spend else 0 end as {{ type_money() }}
        ) as spend_with_revenue_fallback,
        with_sources.has_tiktok_report,
        with_sources.has_appsprint_data
    from with_sources
    left join ads
        on with_sources.ad_id = ads.ad_id
    left join advertisers
        on with_sources.advertiser_id = advertisers.advertiser_id
)

select
    final.*,
    {{ signal_metric_columns('spend', 'impressions', 'clicks', 'installs', 'revenue') }}
from final
