{#- on-run-end: (re)create the table function
        signal_campaign_metrics(grain, start_date, end_date)
    in the target schema: any window (inclusive, advertiser-local dates) at ONE grain per call,
    'campaign' | 'adgroup' | 'ad', with ratios recomputed from sums (macro signal_campaign_window_sql).
    DuckDB: a table macro; PostgreSQL: a SQL function returning a table. Both carry a comment.
    The body names signal_campaign_daily by schema and name only, never by catalog: DuckDB keeps a
    macro's names as written, so a catalog name would bind it to the file it was built in (the BI
    copy, attached under another name, could not run it).
    Skipped when signal_campaign_daily does not exist yet (e.g. after `dbt seed` alone). -#}
{% macro create_signal_campaign_metrics_function() -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set daily = adapter.get_relation(database=target.database, schema=target.schema, identifier='signal_campaign_daily') -%}
    {%- if daily is none -%}{{ return('') }}{%- endif -%}
    {{ return(adapter.dispatch('create_signal_campaign_metrics_function', 'signal_campaigns')(daily.include(database=false))) }}
{%- endmacro %}

{% macro signal_campaign_metrics_comment() -%}
    {{ return("Signal Campaign metrics for any window at one grain: signal_campaign_metrics(grain, start_date, end_date), grain 'campaign' | 'adgroup' | 'ad', dates inclusive in the advertiser's timezone. One row per campaign, ad group or ad of the window with its first and last report_date, the additive columns summed, ratios recomputed from the sums and the AppSprint / TikTok-fallback parts (docs/metrics.md).") }}
{%- endmacro %}

{% macro duckdb__create_signal_campaign_metrics_function(daily) -%}
create or replace macro {{ daily.schema }}.signal_campaign_metrics(p_grain, p_start_date, p_end_date) as table
{{ signal_campaign_window_sql(daily, 'cast(p_grain as varchar(16))', 'cast(p_start_date as date)', 'cast(p_end_date as date)') }};
comment on macro table {{ daily.schema }}.signal_campaign_metrics is '{{ signal_campaign_metrics_comment() | replace("'", "''") }}'
{%- endmacro %}

{#- The result columns of the function, (name, type), in order; their types follow
    signal_campaign_daily's. `text`: the type of the text columns the function adds. -#}
{% macro signal_campaign_metrics_columns(daily, text) -%}
    {%- set types = {} -%}
    {%- for column in adapter.get_columns_in_relation(daily) -%}
        {%- do types.update({column.name: column.data_type}) -%}
    {%- endfor -%}
    {%- set money = type_money() -%}
    {%- set double = type_double() -%}
    {%- set columns = [('grain', 'varchar(16)')] -%}
    {%- for name in ['advertiser_id', 'report_timezone', 'currency', 'campaign_id', 'campaign_name',
                     'adgroup_id', 'adgroup_name', 'ad_id', 'ad_name'] -%}
        {%- do columns.append((name, types[name])) -%}
    {%- endfor -%}
    {%- do columns.extend([('first_report_date', 'date'), ('last_report_date', 'date'), ('ad_days', 'bigint')]) -%}
    {%- for col in signal_additive_columns() -%}
        {%- do columns.append((col, 'decimal(38, 6)' if col in signal_money_columns() else 'bigint')) -%}
    {%- endfor -%}
    {%- do columns.extend([('installs_source', text), ('revenue_source', text),
                           ('cpi', money), ('ipm', double), ('cpm', money), ('cpc', money), ('ctr', double),
                           ('cti', double), ('roas', double), ('install_fallback_spend_share', double),
                           ('revenue_fallback_spend_share', double)]) -%}
    {{ return(columns) }}
{%- endmacro %}

{#- PostgreSQL: the result columns are declared. -#}
{% macro default__create_signal_campaign_metrics_function(daily) -%}
    {%- set columns = signal_campaign_metrics_columns(daily, 'text') -%}
create or replace function {{ daily.schema }}.signal_campaign_metrics(p_grain text, p_start_date date, p_end_date date)
{{ signal_campaign_metrics_result(columns) }}
language sql stable
as $signal_metrics$
{{ signal_campaign_metrics_body(daily, columns) }}
$signal_metrics$;
comment on function {{ daily.schema }}.signal_campaign_metrics(text, date, date) is '{{ signal_campaign_metrics_comment() | replace("'", "''") }}'
{%- endmacro %}

{#- Spark (4.0 and later): a SQL table function, the result columns declared as on PostgreSQL and
    the comment in the definition (Spark has no COMMENT ON FUNCTION). -#}
{% macro spark__create_signal_campaign_metrics_function(daily) -%}
    {%- set columns = [] -%}
    {%- for name, type in signal_campaign_metrics_columns(daily, 'string') -%}
        {#- a table function's result is a table schema, where Spark allows no varchar(n) -#}
        {%- do columns.append((name, 'string' if type.startswith('varchar') else type)) -%}
    {%- endfor -%}
create or replace function {{ daily.schema }}.signal_campaign_metrics(p_grain string, p_start_date date, p_end_date date)
{{ signal_campaign_metrics_result(columns) }}
comment '{{ signal_campaign_metrics_comment() | replace("\\", "\\\\") | replace("'", "\\'") }}'
return
{{ signal_campaign_metrics_body(daily, columns) }}
{%- endmacro %}

{#- The function's declared result, and its body (the window cast to the declared types). -#}
{% macro signal_campaign_metrics_result(columns) -%}
returns table (
    {%- for name, type in columns %}
    {{ name }} {{ type }}{{ "," if not loop.last }}
    {%- endfor %}
)
{%- endmacro %}

{% macro signal_campaign_metrics_body(daily, columns) -%}
select
    {%- for name, type in columns %}
    cast(w.{{ name }} as {{ type }}){{ "," if not loop.last }}
    {%- endfor %}
from (
{{ signal_campaign_window_sql(daily, 'cast(p_grain as varchar(16))', 'p_start_date', 'p_end_date') }}
) as w
{%- endmacro %}
