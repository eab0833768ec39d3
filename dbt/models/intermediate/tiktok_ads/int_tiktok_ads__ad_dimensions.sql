{#- One row per TikTok ad with its ad group, campaign, advertiser (timezone, currency) and the
    pixel its events go to (the ad group's pixel_id -> pixel_code, the Events API event_source_id).
    A view: a few thousand rows at most, joined by the models that read it faster than a table is
    rewritten by every scheduled sync. -#}
{{ config(materialized='view') }}
select
    ads.ad_id,
    ads.ad_name,
    ads.adgroup_id,
    adgroups.adgroup_name,
    ads.campaign_id,
    campaigns.campaign_name,
    ads.advertiser_id,
    advertisers.advertiser_name,
    advertisers.report_timezone,
    advertisers.currency,
    coalesce(adgroups.pixel_id, ads.tracking_pixel_id) as pixel_id,
    pixels.pixel_code,
    ads.landing_page_url,
    ads.is_deleted as ad_is_deleted
from {{ ref('stg_tiktok_ads__ads') }} as ads
left join {{ ref('stg_tiktok_ads__adgroups') }} as adgroups
    on ads.adgroup_id = adgroups.adgroup_id
left join {{ ref('stg_tiktok_ads__campaigns') }} as campaigns
    on ads.campaign_id = campaigns.campaign_id
left join {{ ref('stg_tiktok_ads__advertisers') }} as advertisers
    on ads.advertiser_id = advertisers.advertiser_id
left join {{ ref('stg_tiktok_ads__pixels') }} as pixels
    on coalesce(adgroups.pixel_id, ads.tracking_pixel_id) = pixels.pixel_id
