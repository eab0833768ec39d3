{{ config(severity='warn') }}
-- AppSprint and TikTok disagree beyond `reconciliation_threshold` for at least
-- `reconciliation_consecutive_days` consecutive days on a campaign (attribution_reconciliation).
select
    advertiser_id,
    campaign_id,
    campaign_name,
    report_date as streak_end_date,
    diverging_streak_days,
    installs_appsprint,
    installs_tiktok,
    revenue_appsprint,
    revenue_tiktok
from {{ ref('attribution_reconciliation') }}
where diverging_streak_days >= {{ var('reconciliation_consecutive_days', 3) }}
