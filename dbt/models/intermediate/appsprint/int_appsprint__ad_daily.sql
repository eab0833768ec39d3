{#- AppSprint's view of each ad x advertiser-local day: TikTok-attributed installs bucketed by
    installed_at, attributed revenue bucketed by occurred_at (both in the advertiser timezone).
    Only non-zero amounts decide the revenue source (docs/decisions/0003-fallback-and-provenance.md):
    a zero amount is zero in every currency, so it needs no FX rate and is never counted in
    revenue_events_without_fx_rate; an ad-day whose AppSprint revenue is all zero falls back to
    TikTok's value. revenue_events still counts every revenue event. -#}
with installs as (
    select
        advertiser_id,
        ad_id,
        install_report_date as report_date,
        max(campaign_id) as campaign_id,
        max(adgroup_id) as adgroup_id,
        count(*) as installs_appsprint
    from {{ ref('int_appsprint__installs_attributed') }}
    where
        is_tiktok_attributed
        and advertiser_id is not null
        and ad_id is not null
        and install_report_date is not null
    group by advertiser_id, ad_id, install_report_date
),

revenue as (
    select
        advertiser_id,
        ad_id,
        report_date,
        max(campaign_id) as campaign_id,
        max(adgroup_id) as adgroup_id,
        sum(case when has_fx_rate then revenue_advertiser_currency end) as revenue_appsprint,
        sum(case when has_fx_rate or revenue = 0 then 0 else 1 end) as revenue_events_without_fx_rate,
        count(*) as revenue_events
    from {{ ref('int_appsprint__revenue_events') }}
    where ad_id is not null
    group by advertiser_id, ad_id, report_date
)

select
    coalesce(installs.advertiser_id, revenue.advertiser_id) as advertiser_id,
    coalesce(installs.ad_id, revenue.ad_id) as ad_id,
    coalesce(installs.report_date, revenue.report_date) as report_date,
    coalesce(installs.campaign_id, revenue.campaign_id) as campaign_id,
    coalesce(installs.adgroup_id, revenue.adgroup_id) as adgroup_id,
    cast(coalesce(installs.installs_appsprint, 0) as bigint) as installs_appsprint,
    cast(coalesce(revenue.revenue_appsprint, 0) as {{ type_money() }}) as revenue_appsprint,
    cast(coalesce(revenue.revenue_events_without_fx_rate, 0) as bigint) as revenue_events_without_fx_rate,
    cast(coalesce(revenue.revenue_events, 0) as bigint) as revenue_events
from installs
full outer join revenue
    on
        installs.advertiser_id = revenue.advertiser_id
        and installs.ad_id = revenue.ad_id
        and installs.report_date = revenue.report_date
