{#- on-run-end: (re)create the table function
        signal_campaign_metrics(grain, start_date, end_date)
    in the marts schema: any window at 'campaign' | 'adgroup' | 'ad' grain with ratios recomputed
    from sums (the same SQL as the model signal_campaign_rollup, macro signal_campaign_rollup_sql).
    DuckDB: a table macro. PostgreSQL: a SQL function returning rows of signal_campaign_rollup.
    Skipped when the marts it reads do not exist yet (e.g. after `dbt seed` alone). -#}
{% macro create_signal_campaign_metrics_function() -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set daily = adapter.get_relation(database=target.database, schema=target.schema, identifier='signal_campaign_daily') -%}
    {%- set rollup = adapter.get_relation(database=target.database, schema=target.schema, identifier='signal_campaign_rollup') -%}
    {%- if daily is none or rollup is none -%}{{ return('') }}{%- endif -%}
    {{ return(adapter.dispatch('create_signal_campaign_metrics_function', 'signal_campaigns')(daily, rollup)) }}
{%- endmacro %}

{% macro duckdb__create_signal_campaign_metrics_function(daily, rollup) -%}
create or replace macro {{ daily.schema }}.signal_campaign_metrics(p_grain, p_start_date, p_end_date) as table
{{ signal_campaign_rollup_sql(daily, 'cast(p_grain as varchar(16))', 'cast(p_start_date as date)', 'cast(p_end_date as date)') }}
{%- endmacro %}

{% macro default__create_signal_campaign_metrics_function(daily, rollup) -%}
create or replace function {{ daily.schema }}.signal_campaign_metrics(p_grain text, p_start_date date, p_end_date date)
returns setof {{ rollup }}
language sql stable
as $signal_metrics$
{{ signal_campaign_rollup_sql(daily, 'cast(p_grain as varchar(16))', 'p_start_date', 'p_end_date') }}
$signal_metrics$
{%- endmacro %}
