{{ config(meta={'dagster': {'ref': {'name': 'signal_campaign_daily'}}}) }}
-- The day boundary: TikTok's report rows are in the advertiser's timezone, and every mart row
-- carries exactly one timezone per advertiser (mixing two timezones in one model is a failure).
select
    'ad_daily_report' as model_name,
    r.advertiser_id,
    r.report_timezone,
    a.report_timezone as advertiser_timezone
from {{ ref('stg_tiktok_ads__ad_daily_report') }} as r
inner join {{ ref('stg_tiktok_ads__advertisers') }} as a
    on r.advertiser_id = a.advertiser_id
where
    r.report_timezone is not null
    and r.report_timezone <> a.report_timezone

union all

select
    'signal_campaign_daily' as model_name,
    advertiser_id,
    min(report_timezone) as report_timezone,
    max(report_timezone) as advertiser_timezone
from {{ ref('signal_campaign_daily') }}
group by advertiser_id
having count(distinct report_timezone) > 1 or count(report_timezone) < count(*)

union all

select
    'attribution_reconciliation' as model_name,
    advertiser_id,
    min(report_timezone) as report_timezone,
    max(report_timezone) as advertiser_timezone
from {{ ref('attribution_reconciliation') }}
group by advertiser_id
having count(distinct report_timezone) > 1 or count(report_timezone) < count(*)
