{#- One row per install with its attribution resolved to a TikTok ad: the attributed click (ttclid,
    ad, ad group, campaign), the Signal link (URL), the advertiser (timezone, currency) and the
    advertiser-local install day (docs/decisions/0001-day-boundary.md). An install is
    TikTok-attributed when AppSprint attributed it (status `attributed`) to a TikTok Signal link.
    Installs whose click or ad is unknown keep null ids (tested with a warning, never dropped).
    Incremental (delete+insert on appsprint_id): an install is (re)resolved when its staged row
    comes from a dlt load not processed yet (new install, late attribution), when its click
    arrived in a newer load, or while it is still unresolved (click, ad, advertiser or pixel not
    loaded yet). A change of an existing ad's advertiser or timezone needs --full-refresh. -#}
{{ config(
    materialized=incremental_materialization(),
    unique_key='appsprint_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}

with installs as (
    select * from {{ ref('stg_appsprint__installs') }}
    {% if is_incremental() %}
    where {{ unprocessed_dlt_loads('dlt_load_id', ref('stg_appsprint__installs'), 'dlt_load_id', 'install_dlt_load_id') }}
       or attributed_click_id in (
            select click_id from {{ ref('stg_appsprint__clicks') }}
            where dlt_load_id > (select coalesce(max(click_dlt_load_id), '') from {{ this }})
       )
       or appsprint_id in (
            select appsprint_id from {{ this }}
            where is_tiktok_attributed
              and (ad_id is null or advertiser_id is null or install_report_date is null
                   or pixel_code is null or link_url is null)
       )
    {% endif %}
),

clicks as (
    select * from {{ ref('stg_appsprint__clicks') }}
),

links as (
    select * from {{ ref('stg_appsprint__signal_links') }}
),

ads as (
    select * from {{ ref('int_tiktok_ads__ad_dimensions') }}
),

campaigns as (
    select
        campaign_id,
        advertiser_id
    from {{ ref('stg_tiktok_ads__campaigns') }}
),

advertisers as (
    select
        advertiser_id,
        report_timezone,
        currency
    from {{ ref('stg_tiktok_ads__advertisers') }}
),

resolved as (
    select
        installs.appsprint_id,
        installs.installed_at,
        installs.platform,
        installs.country,
        installs.ip,
        installs.user_agent,
        installs.attribution_status,
        coalesce(installs.attribution_network, links.network) as attribution_network,
        installs.attribution_match_type,
        installs.attributed_click_id,
        coalesce(installs.attributed_link_id, clicks.link_id) as attributed_link_id,
        (
            installs.attribution_status = 'attributed'
            and coalesce(installs.attribution_network, links.network) = 'tiktok'
        ) as is_tiktok_attributed,
        clicks.clicked_at,
        clicks.ttclid,
        links.link_url,
        clicks.ad_id,
        coalesce(ads.adgroup_id, clicks.adgroup_id) as adgroup_id,
        coalesce(ads.campaign_id, clicks.campaign_id) as campaign_id,
        coalesce(ads.advertiser_id, campaigns.advertiser_id) as advertiser_id,
        ads.pixel_id,
        ads.pixel_code,
        installs.updated_at,
        installs.dlt_load_id as install_dlt_load_id,
        clicks.dlt_load_id as click_dlt_load_id
    from installs
    left join clicks
        on installs.attributed_click_id = clicks.click_id
    left join links
        on coalesce(installs.attributed_link_id, clicks.link_id) = links.link_id
    left join ads
        on clicks.ad_id = ads.ad_id
    left join campaigns
        on clicks.campaign_id = campaigns.campaign_id
)

select
    resolved.*,
    advertisers.report_timezone,
    advertisers.currency as advertiser_currency,
    case
        when advertisers.report_timezone is not null
            then {{ local_date('resolved.installed_at', 'advertisers.report_timezone') }}
    end as install_report_date
from resolved
left join advertisers
    on resolved.advertiser_id = advertisers.advertiser_id
