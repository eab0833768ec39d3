{#- ============================================================================================
    The ONE definition of the Signal Campaign ratio metrics (docs/metrics.md,
    docs/decisions/0004-metric-formulas.md). Arguments are SQL expressions for the additive
    components over whatever rows are being summarised (one ad-day, or sums over a window / grain):
    ratios are always ratio-of-sums. NULL when the denominator is zero or null. CTR and CTI are
    fractions. CPI, CPM, CPC are money (decimal); IPM, CTR, CTI, ROAS are double-precision ratios.
    ============================================================================================ -#}
{% macro safe_ratio(numerator, denominator, type=none) -%}
    {%- set t = type if type is not none else type_double() -%}
    case when ({{ denominator }}) is null or ({{ denominator }}) = 0 then null
         else cast(cast({{ numerator }} as {{ type_double() }}) / cast({{ denominator }} as {{ type_double() }}) as {{ t }}) end
{%- endmacro %}

{#- Money ratios: computed in numeric (decimal) arithmetic, rounded to 6 decimals. -#}
{% macro money_ratio(numerator, denominator, scale=1) -%}
    cast(case when ({{ denominator }}) is null or ({{ denominator }}) = 0 then null
         else {{ adapter.dispatch('money_ratio', 'signal_campaigns')(numerator, denominator, scale) }} end as {{ type_money() }})
{%- endmacro %}
{% macro default__money_ratio(numerator, denominator, scale) -%}
    cast(round(cast({{ numerator }} as numeric) * {{ scale }} / cast({{ denominator }} as numeric), 6) as {{ type_money() }})
{%- endmacro %}
{#- Spark: `numeric` alone is decimal(10, 0) there; divide decimal(38, 6) values instead, which
    Spark does exactly and rounds half away from zero at 6 decimals, as numeric does. -#}
{% macro spark__money_ratio(numerator, denominator, scale) -%}
    cast(round(cast({{ numerator }} as decimal(38, 6)) * {{ scale }} / cast({{ denominator }} as decimal(38, 6)), 6) as {{ type_money() }})
{%- endmacro %}
{% macro duckdb__money_ratio(numerator, denominator, scale) -%}
    {#- DuckDB divides decimals in double precision, which can round a tie at the 7th decimal the
        other way than PostgreSQL's numeric. Divide exact integer micro-units instead and round
        half away from zero, as numeric does. -#}
    {%- set n = '(cast(' ~ numerator ~ ' as decimal(38, 6)) * ' ~ scale ~ ')' -%}
    {%- set d = 'cast(' ~ denominator ~ ' as decimal(38, 6))' -%}
    {%- set n_micro = 'cast(round(' ~ n ~ ' * 1000000) as hugeint)' -%}
    {%- set d_micro = 'cast(round(' ~ d ~ ' * 1000000) as hugeint)' -%}
    cast(
        (case when ({{ n }} < 0) <> ({{ d }} < 0) then -1 else 1 end)
        * ((2 * abs({{ n_micro }}) * 1000000 + abs({{ d_micro }})) // (2 * abs({{ d_micro }})))
        as decimal(30, 0)) * cast(0.000001 as decimal(7, 6))
{%- endmacro %}

{% macro signal_metric_columns(spend, impressions, clicks, installs, revenue) -%}
        {{ money_ratio(spend, installs) }} as cpi,
        {{ safe_ratio(installs ~ ' * 1000', impressions) }} as ipm,
        {{ money_ratio(spend, impressions, 1000) }} as cpm,
        {{ money_ratio(spend, clicks) }} as cpc,
        {{ safe_ratio(clicks, impressions) }} as ctr,
        {{ safe_ratio(installs, clicks) }} as cti,
        {{ safe_ratio(revenue, spend) }} as roas
{%- endmacro %}

{#- The names of the additive columns of signal_campaign_daily (summed by the grain views and the table function, and
    checked by tests/assert_ad_sums_equal_campaign_sums.sql). -#}
{% macro signal_money_columns() -%}
    {{ return(['spend', 'revenue', 'revenue_appsprint', 'revenue_tiktok', 'revenue_from_fallback',
               'spend_with_install_fallback', 'spend_with_revenue_fallback']) }}
{%- endmacro %}

{% macro signal_additive_columns() -%}
    {{ return(['spend', 'impressions', 'clicks', 'installs', 'installs_appsprint', 'installs_tiktok',
               'installs_from_fallback', 'revenue', 'revenue_appsprint', 'revenue_tiktok',
               'revenue_from_fallback', 'revenue_events_without_fx_rate', 'spend_with_install_fallback',
               'spend_with_revenue_fallback']) }}
{%- endmacro %}

{#- The provenance of a sum of ad-day rows: 'appsprint' or 'tiktok' when every contributing ad-day
    with a value took it from that side, 'mixed' when both contributed, 'none' when none had one. -#}
{% macro signal_summed_source(source_column) -%}
    case
        when max(case when {{ source_column }} = 'appsprint' then 1 else 0 end) = 1
            and max(case when {{ source_column }} = 'tiktok' then 1 else 0 end) = 1 then 'mixed'
        when max(case when {{ source_column }} = 'appsprint' then 1 else 0 end) = 1 then 'appsprint'
        when max(case when {{ source_column }} = 'tiktok' then 1 else 0 end) = 1 then 'tiktok'
        else 'none'
    end
{%- endmacro %}

{#- The sums of the additive columns, with their types (money decimal(38, 6), counts bigint). -#}
{% macro signal_summed_columns() -%}
    {%- for col in signal_additive_columns() %}
        cast(sum({{ col }}) as {{ 'decimal(38, 6)' if col in signal_money_columns() else 'bigint' }}) as {{ col }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- The ratios of summed rows and the share of spend that used the fallback. -#}
{% macro signal_summed_ratio_columns() -%}
    {{ signal_metric_columns('spend', 'impressions', 'clicks', 'installs', 'revenue') }},
    {{ safe_ratio('spend_with_install_fallback', 'spend') }} as install_fallback_spend_share,
    {{ safe_ratio('spend_with_revenue_fallback', 'spend') }} as revenue_fallback_spend_share
{%- endmacro %}

{#- ============================================================================================
    One grain per day, from signal_campaign_daily (`relation`): grain 'campaign' or 'adgroup'
    (a Jinja string). One row per advertiser-local report_date x campaign (x ad group), the
    additive columns summed, ratios recomputed from the sums, provenance summarised. The ONE SQL
    of the views signal_campaign_campaign_daily and signal_campaign_adgroup_daily.
    ============================================================================================ -#}
{% macro signal_campaign_grain_daily_sql(relation, grain) -%}
    {%- if grain not in ('campaign', 'adgroup') -%}
        {{ exceptions.raise_compiler_error("signal_campaign_grain_daily_sql: grain must be 'campaign' or 'adgroup', not " ~ grain) }}
    {%- endif -%}
with grouped as (
    select
        report_date,
        advertiser_id,
        max(report_timezone) as report_timezone,
        max(currency) as currency,
        campaign_id,
        max(campaign_name) as campaign_name,
        {%- if grain == 'adgroup' %}
        adgroup_id,
        max(adgroup_name) as adgroup_name,
        {%- endif %}
        count(*) as ads,
        {{ signal_summed_columns() }},
        {{ signal_summed_source('installs_source') }} as installs_source,
        {{ signal_summed_source('revenue_source') }} as revenue_source
    from {{ relation }}
    group by report_date, advertiser_id, campaign_id{{ ', adgroup_id' if grain == 'adgroup' }}
)

select
    grouped.*,
    {{ signal_summed_ratio_columns() }}
from grouped
{%- endmacro %}

{#- ============================================================================================
    Any window at campaign / ad group / ad grain, from signal_campaign_daily (`relation`), with
    ratios recomputed from sums and the AppSprint / fallback parts. `grain` is a SQL expression
    evaluating to 'campaign' | 'adgroup' | 'ad'; dates are SQL expressions (inclusive, advertiser
    local). The body of the table function signal_campaign_metrics(grain, start_date, end_date)
    created on-run-end (macro create_signal_campaign_metrics_function).
    ============================================================================================ -#}
{% macro signal_campaign_window_sql(relation, grain, start_date, end_date) -%}
with filtered as (
    select *
    from {{ relation }}
    where report_date >= {{ start_date }}
      and report_date <= {{ end_date }}
),
grouped as (
    select
        {{ grain }} as grain,
        advertiser_id,
        max(report_timezone) as report_timezone,
        max(currency) as currency,
        campaign_id,
        max(campaign_name) as campaign_name,
        case when {{ grain }} in ('adgroup', 'ad') then adgroup_id end as adgroup_id,
        case when {{ grain }} in ('adgroup', 'ad') then max(adgroup_name) end as adgroup_name,
        case when {{ grain }} = 'ad' then ad_id end as ad_id,
        case when {{ grain }} = 'ad' then max(ad_name) end as ad_name,
        min(report_date) as first_report_date,
        max(report_date) as last_report_date,
        count(*) as ad_days,
        {{ signal_summed_columns() }},
        {{ signal_summed_source('installs_source') }} as installs_source,
        {{ signal_summed_source('revenue_source') }} as revenue_source
    from filtered
    group by
        {{ grain }},
        advertiser_id,
        campaign_id,
        case when {{ grain }} in ('adgroup', 'ad') then adgroup_id end,
        case when {{ grain }} = 'ad' then ad_id end
)
select
    grouped.*,
    {{ signal_summed_ratio_columns() }}
from grouped
{%- endmacro %}
