{#- signal_campaign_daily summed per advertiser-local report_date x campaign: one grain, so a plain
    sum over any set of its rows is right; ratios recomputed from the sums (docs/metrics.md).
    A view: computed from signal_campaign_daily when queried, current by definition (the scheduled
    syncs need not rebuild it; their selection skips views, its tests still run). -#}
{{ config(materialized='view') }}
-- the columns are those of macro signal_campaign_grain_daily_sql, which sqlfluff cannot count
select * from (  -- noqa: AM04
    {{ signal_campaign_grain_daily_sql(ref('signal_campaign_daily'), 'campaign') }}
) as campaign_daily
