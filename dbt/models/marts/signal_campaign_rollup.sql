{#- signal_campaign_daily summed over a window (vars rollup_start_date / rollup_end_date, inclusive,
    advertiser-local; default: every loaded day) at three grains: one row per campaign
    (grain = 'campaign'), ad group ('adgroup') and ad ('ad'). Ratios are recomputed from the sums
    (ratio of sums, docs/decisions/0004-metric-formulas.md); the AppSprint and fallback parts and
    the share of spend that used the fallback are included. For any other window use the table
    function created on-run-end:
        select * from signal_campaign_metrics('campaign', date '2026-06-01', date '2026-06-07')
    (same SQL: macro signal_campaign_rollup_sql). -#}
{#- A view: a few hundred rows summed from signal_campaign_daily,
    computed in milliseconds when queried and current by definition, so the scheduled syncs need
    not rebuild it (their selection skips views; its tests still run). -#}
{{ config(materialized='view') }}
{%- set start = var('rollup_start_date', none) -%}
{%- set end = var('rollup_end_date', none) -%}
{%- set start_sql = "cast('" ~ start ~ "' as date)" if start else "cast('1900-01-01' as date)" -%}
{%- set end_sql = "cast('" ~ end ~ "' as date)" if end else "cast('9999-12-31' as date)" -%}

{%- for grain in ['campaign', 'adgroup', 'ad'] %}
    -- the columns are those of macro signal_campaign_rollup_sql, which sqlfluff cannot count
    select * from (  -- noqa: AM04
        {{ signal_campaign_rollup_sql(
            ref('signal_campaign_daily'), "cast('" ~ grain ~ "' as varchar(16))", start_sql, end_sql
        ) }}
    ) as rollup_{{ grain }}
    {{ 'union all' if not loop.last }}
{%- endfor %}
