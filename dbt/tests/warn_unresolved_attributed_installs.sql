{{ config(severity='warn') }}
-- Installs attributed to a TikTok Signal link whose click, ad or advertiser is not (yet) known:
-- they cannot be bucketed into an advertiser-local ad-day and are missing from
-- signal_campaign_daily until the click / TikTok entities are loaded. Listed, never dropped silently.
select
    appsprint_id,
    attributed_click_id,
    ad_id,
    advertiser_id,
    installed_at
from {{ ref('int_appsprint__installs_attributed') }}
where
    is_tiktok_attributed
    and (ad_id is null or advertiser_id is null or install_report_date is null)
