{#- AppSprint vs TikTok per campaign x advertiser-local day: attributed installs against TikTok's
    reported installs (the event `install` maps to), AppSprint revenue (advertiser currency)
    against TikTok's reported value, with differences. A day diverges when the relative difference
    |appsprint - tiktok| / max(appsprint, tiktok) of installs or revenue exceeds
    `reconciliation_threshold` and max(appsprint, tiktok) installs >= `reconciliation_min_volume`.
    diverging_streak_days counts consecutive diverging days up to this one; a warning test fires
    at `reconciliation_consecutive_days`. TikTok credits conversions to the click day and AppSprint
    to the install / event day, so small day-to-day differences are expected. -#}
{#- A view: a campaign-day summary of signal_campaign_daily,
    computed in milliseconds when queried and current by definition, so the scheduled syncs need
    not rebuild it (their selection skips views; its tests still run). -#}
{{ config(materialized='view') }}
{%- set threshold = var('reconciliation_threshold', 0.5) %}
{%- set min_volume = var('reconciliation_min_volume', 10) %}

with daily as (
    select
        advertiser_id,
        campaign_id,
        report_date,
        max(campaign_name) as campaign_name,
        max(report_timezone) as report_timezone,
        max(currency) as currency,
        sum(spend) as spend,
        sum(installs_appsprint) as installs_appsprint,
        sum(installs_tiktok) as installs_tiktok,
        sum(revenue_appsprint) as revenue_appsprint,
        sum(revenue_tiktok) as revenue_tiktok,
        sum(revenue_events_without_fx_rate) as revenue_events_without_fx_rate
    from {{ ref('signal_campaign_daily') }}
    group by advertiser_id, campaign_id, report_date
),

compared as (
    select
        daily.*,
        daily.installs_appsprint - daily.installs_tiktok as installs_difference,
        {{ safe_ratio('installs_appsprint - installs_tiktok', 'greatest(installs_appsprint, installs_tiktok)') }}
            as installs_relative_difference,
        cast(daily.revenue_appsprint - daily.revenue_tiktok as {{ type_money() }}) as revenue_difference,
        {{ safe_ratio('revenue_appsprint - revenue_tiktok', 'greatest(revenue_appsprint, revenue_tiktok)') }}
            as revenue_relative_difference
    from daily
),

flagged as (
    select
        compared.*,
        (
            greatest(compared.installs_appsprint, compared.installs_tiktok) >= {{ min_volume }}
            and (
                abs(coalesce(compared.installs_relative_difference, 0)) > {{ threshold }}
                or abs(coalesce(compared.revenue_relative_difference, 0)) > {{ threshold }}
            )
        ) as is_diverging
    from compared
),

numbered as (
    select
        flagged.*,
        row_number()
            over (
                partition by flagged.advertiser_id, flagged.campaign_id, flagged.is_diverging
                order by flagged.report_date
            )
            as run_number
    from flagged
),

islands as (
    select
        numbered.*,
        case when numbered.is_diverging then {{ date_minus_days('report_date', 'run_number') }} end as streak_key
    from numbered
)

select
    report_date,
    advertiser_id,
    campaign_id,
    campaign_name,
    report_timezone,
    currency,
    cast(spend as {{ type_money() }}) as spend,
    cast(installs_appsprint as bigint) as installs_appsprint,
    cast(installs_tiktok as bigint) as installs_tiktok,
    cast(installs_difference as bigint) as installs_difference,
    installs_relative_difference,
    cast(revenue_appsprint as {{ type_money() }}) as revenue_appsprint,
    cast(revenue_tiktok as {{ type_money() }}) as revenue_tiktok,
    revenue_difference,
    revenue_relative_difference,
    cast(revenue_events_without_fx_rate as bigint) as revenue_events_without_fx_rate,
    is_diverging,
    cast(case
        when is_diverging
            then
                row_number() over (partition by advertiser_id, campaign_id, streak_key order by report_date)
        else 0
    end as bigint) as diverging_streak_days
from islands
