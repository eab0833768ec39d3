{{ config(materialized='view') }}
{#- AppSprint-attributed revenue: production events with a revenue amount whose install is
    attributed to a TikTok Signal link, on the advertiser-local day of occurred_at
    (docs/decisions/0001-day-boundary.md), converted into the advertiser currency with the dated FX
    rate of that day (docs/decisions/0002-currency-and-fx.md). Revenue in a currency without a rate
    keeps a null converted amount and has_fx_rate = false: it is counted, never summed. A view: its
    one reader, int_appsprint__ad_daily, aggregates it in the same query (no 400k-row table written
    by every scheduled run). -#}
with events as (
    {{ value_events_with_install(
        ['advertiser_id', 'campaign_id', 'adgroup_id', 'ad_id', 'report_timezone', 'advertiser_currency']
    ) }}
    where
        value_events.revenue is not null
        and coalesce(value_events.environment, 'production') = 'production'
        and installs.is_tiktok_attributed
        and installs.advertiser_id is not null
),

dated as (
    select
        events.*,
        {{ local_date('events.occurred_at', 'events.report_timezone') }} as report_date
    from events
),

fx as (
    select * from {{ ref('int_fx_rates') }}
),

converted as (
    select
        dated.event_id,
        dated.event_type,
        dated.occurred_at,
        dated.report_date,
        dated.advertiser_id,
        dated.campaign_id,
        dated.adgroup_id,
        dated.ad_id,
        dated.report_timezone,
        dated.advertiser_currency,
        dated.revenue,
        dated.currency,
        case
            when dated.currency = dated.advertiser_currency then cast(1 as decimal(28, 18))
            else cast(event_fx.usd_per_unit / advertiser_fx.usd_per_unit as decimal(28, 18))
        end as fx_rate
    from dated
    left join fx as event_fx
        on
            dated.currency = event_fx.currency
            and dated.report_date >= event_fx.valid_from
            and dated.report_date < event_fx.valid_to
    left join fx as advertiser_fx
        on
            dated.advertiser_currency = advertiser_fx.currency
            and dated.report_date >= advertiser_fx.valid_from
            and dated.report_date < advertiser_fx.valid_to
)

select
    converted.*,
    converted.fx_rate is not null as has_fx_rate,
    cast(round(converted.revenue * converted.fx_rate, 6) as {{ type_money() }}) as revenue_advertiser_currency
from converted
