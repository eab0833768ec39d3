{#- Value-based optimisation readiness per advertiser and pixel (TikTok's threshold,
    docs/tiktok_business_api.md: 20 unique attributed Purchase events with value and currency
    within 7 consecutive days).
    Counted: unique production Purchase events (the SDK events mapped to Purchase) of
    TikTok-attributed installs that are forwarded, or would have been when fresh (skip reason
    null or too_old; the same rule as events_to_forward, macro forwarding_skip_reason), read from
    the small incremental int_appsprint__value_events. Windows are 7 advertiser-local days; "current" is the 7 x 24 h before
    `forwarding_now` (default: when queried).
    A view: a few rows from int_appsprint__value_events (~0.15 s on the 10M-event warehouse), so
    "current" is current whenever it is read, and the scheduled syncs need not rebuild it. -#}
{{ config(materialized='view') }}
{%- set threshold = var('value_optimization_threshold', 20) %}

with purchase_mapping as (
    select * from {{ ref('int_event_mapping') }}
    where tiktok_event in ('Purchase', 'CompletePayment')
),

purchases as (
    -- only the production SDK events mapped to Purchase, and only installs that can pass the rule
    -- (attributed, with a pixel), are joined: the pre-filters are implied by the rule, which still
    -- decides (its device checks read from int_appsprint__value_events, judged once per event);
    -- the report-day is computed once per counted event
    select
        events.event_id,
        events.advertiser_id,
        events.pixel_id,
        events.occurred_at,
        {{ local_date('events.occurred_at', 'advertisers.report_timezone') }} as report_date
    from (
        {{ value_events_with_install(['is_tiktok_attributed', 'advertiser_id', 'pixel_id', 'pixel_code']) }}
        where
            coalesce(value_events.environment, 'production') = 'production'
            and value_events.event_type in (select purchase_mapping.sdk_event from purchase_mapping)
            and installs.is_tiktok_attributed is not false
            and installs.pixel_code is not null
    ) as events
    inner join purchase_mapping
        on events.event_type = purchase_mapping.sdk_event
    inner join {{ ref('stg_tiktok_ads__advertisers') }} as advertisers
        on events.advertiser_id = advertisers.advertiser_id
    where coalesce({{ forwarding_skip_reason('events', 'purchase_mapping', device_skip_reason=
        'coalesce(events.device_skip_reason, ' ~ forwarding_device_skip_reason('events') ~ ')') }}, 'too_old') = 'too_old'
),

daily as (
    select
        advertiser_id,
        pixel_id,
        report_date,
        count(distinct event_id) as purchases
    from purchases
    group by advertiser_id, pixel_id, report_date
),

windows as (
    select
        window_end.advertiser_id,
        window_end.pixel_id,
        window_end.report_date as window_end_date,
        sum(in_window.purchases) as purchases_in_window
    from daily as window_end
    inner join daily as in_window
        on
            window_end.advertiser_id = in_window.advertiser_id
            and window_end.pixel_id = in_window.pixel_id
            and window_end.report_date >= in_window.report_date
            and in_window.report_date > {{ date_minus_days('window_end.report_date', 7) }}
    group by window_end.advertiser_id, window_end.pixel_id, window_end.report_date
),

best as (
    select
        advertiser_id,
        pixel_id,
        purchases_in_window as max_purchases_in_7_days,
        window_end_date as best_window_end_date,
        row_number() over (
            partition by advertiser_id, pixel_id
            order by purchases_in_window desc, window_end_date asc
        ) as window_rank
    from windows
),

current_window as (
    select
        advertiser_id,
        pixel_id,
        count(distinct event_id) as current_7_day_purchases
    from purchases
    where
        occurred_at > {{ dbt.dateadd('day', -7, forwarding_now()) }}
        and occurred_at <= {{ forwarding_now() }}
    group by advertiser_id, pixel_id
),

pixels as (
    select
        pixels.advertiser_id,
        pixels.pixel_id,
        pixels.pixel_code,
        pixels.pixel_name,
        advertisers.report_timezone
    from {{ ref('stg_tiktok_ads__pixels') }} as pixels
    left join {{ ref('stg_tiktok_ads__advertisers') }} as advertisers
        on pixels.advertiser_id = advertisers.advertiser_id
)

select
    pixels.advertiser_id,
    pixels.pixel_id,
    pixels.pixel_code,
    pixels.pixel_name,
    pixels.report_timezone,
    cast(coalesce(best.max_purchases_in_7_days, 0) as bigint) as max_purchases_in_7_days,
    {{ date_minus_days('best.best_window_end_date', 6) }} as best_window_start_date,
    best.best_window_end_date,
    cast(coalesce(current_window.current_7_day_purchases, 0) as bigint) as current_7_day_purchases,
    {{ threshold }} as threshold,
    coalesce(best.max_purchases_in_7_days, 0) >= {{ threshold }} as reached_20,
    coalesce(current_window.current_7_day_purchases, 0) >= {{ threshold }} as currently_above_threshold,
    {{ forwarding_now() }} as evaluated_at
from pixels
left join best
    on
        pixels.advertiser_id = best.advertiser_id
        and pixels.pixel_id = best.pixel_id
        and best.window_rank = 1
left join current_window
    on
        pixels.advertiser_id = current_window.advertiser_id
        and pixels.pixel_id = current_window.pixel_id
