{{ config(materialized='view') }}
{#- Every staged event with its install's TikTok attribution (ad, advertiser, pixel, click). A view:
    attribution can change after an event was first seen (late resolution,
    docs/decisions/0005-restatement-and-lookback.md), so the join is always evaluated against the
    current install. -#}
select
    events.event_id,
    events.appsprint_id,
    events.event_type,
    events.event_name,
    events.occurred_at,
    events.received_at,
    events.revenue,
    events.currency,
    events.event_source,
    events.environment,
    events.ip,
    events.user_agent,
    events.customer_user_id,
    events.dlt_load_id,
    installs.appsprint_id is not null as has_install,
    coalesce(installs.is_tiktok_attributed, false) as is_tiktok_attributed,
    installs.attributed_click_id,
    installs.ttclid,
    installs.link_url,
    installs.ad_id,
    installs.adgroup_id,
    installs.campaign_id,
    installs.advertiser_id,
    installs.pixel_id,
    installs.pixel_code,
    installs.report_timezone,
    installs.advertiser_currency
from {{ ref('stg_appsprint__events') }} as events
left join {{ ref('int_appsprint__installs_attributed') }} as installs
    on events.appsprint_id = installs.appsprint_id
