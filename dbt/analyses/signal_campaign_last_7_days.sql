-- Example (dbt compile --select signal_campaign_last_7_days): the last 7 loaded days per campaign,
-- ratios recomputed from sums, with the AppSprint / TikTok-fallback parts. Same result as
--   select * from signal_campaign_metrics('campaign', <first day>, <last day>)
{%- set last_day = "(select max(report_date) from " ~ ref('signal_campaign_daily') ~ ")" %}
{{ signal_campaign_window_sql(ref('signal_campaign_daily'), "cast('campaign' as varchar(16))",
                              date_minus_days(last_day, 6), last_day) }}
