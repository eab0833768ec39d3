{{ config(materialized='view') }}
{#- Every staged event that is NOT forwarded, one row per event_id, with the reason
    (docs/forwarding.md; see int_events__forwarding_decisions for the order in which reasons are
    tested), and what to do about it (remedy). Together with events_to_forward it covers every
    staged event exactly once. -#}
select
    event_id,
    skip_reason as reason,
    case skip_reason
        when 'sandbox' then 'nothing: events from an SDK sandbox environment are never forwarded'
        when 'not_tiktok_attributed' then 'nothing, unless from a TikTok ad: paste the Signal link as its Website URL'
        when 'unmapped' then 'map it: signal-campaigns mapping set <sdk_event> <TikTokEvent>'
        when 'invalid_mapping' then 'use a valid name: signal-campaigns mapping set <sdk_event> <TikTokEvent>'
        when 'missing_pixel' then 'choose a Web Pixel on the ad group in TikTok Ads Manager, then sync TikTok again'
        when 'missing_ip' then 'make the app send the device''s public IP with its SDK events'
        when 'private_ip' then 'make the app send the device''s public IP, not a private or proxy address'
        when 'missing_user_agent' then 'make the app send the device''s user agent with its SDK events'
        when 'too_old' then 'nothing: it was older than forwarding_max_age_days (default 7) before it could be sent'
        when 'missing_page_url' then 'give its Signal link an http(s) URL in AppSprint, sync; the next run sends it'
        else 'see the reasons of forwarding in docs/metrics.md'
    end as remedy,
    event_type as sdk_event,
    event_name,
    tiktok_event,
    mapping_status,
    occurred_at,
    environment,
    advertiser_id,
    campaign_id,
    adgroup_id,
    ad_id,
    pixel_code,
    appsprint_id,
    ip,
    not coalesce(user_agent is null, false) as has_user_agent,
    is_tiktok_attributed
from {{ ref('int_events__forwarding_decisions') }}
where skip_reason is not null
