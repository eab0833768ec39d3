{#- Incremental filter on dlt loads: a predicate selecting the rows of every dlt load present in
    `source_relation` (column `source_column`) that `this` has not processed yet (column
    `target_column`). Loads are listed at run time and inlined as constants, so the database can
    skip everything else cheaply; a load that lands late or out of order (a retried package) is
    still picked up, because the test is "not processed yet", not "newer than the maximum". -#}
{% macro unprocessed_dlt_loads(load_id_expr, source_relation, source_column='_dlt_load_id', target_column='dlt_load_id') -%}
    {%- if not execute -%}{{ return('1 = 1') }}{%- endif -%}
    {%- set seen_rows = run_query('select distinct ' ~ target_column ~ ' from ' ~ this ~ ' where ' ~ target_column ~ ' is not null') -%}
    {%- set raw_rows = run_query('select distinct ' ~ source_column ~ ' from ' ~ source_relation ~ ' where ' ~ source_column ~ ' is not null') -%}
    {%- set seen = seen_rows.columns[0].values() | map('string') | list -%}
    {%- set pending = [] -%}
    {%- for load_id in raw_rows.columns[0].values() | map('string') -%}
        {%- if load_id not in seen -%}{%- do pending.append(load_id) -%}{%- endif -%}
    {%- endfor -%}
    {%- if pending | length == 0 -%}
        {{ return('1 = 0') }}
    {%- else -%}
        {{ return(load_id_expr ~ " in ('" ~ (pending | sort | join("', '")) ~ "')") }}
    {%- endif -%}
{%- endmacro %}

{#- The materialization of the incremental models: `incremental` (delete+insert on their unique key)
    on DuckDB and PostgreSQL; `table` on Spark, where the models are plain Parquet tables, which
    cannot delete rows (dbt-spark's merge strategy needs Delta, Iceberg or Hudi; insert_overwrite
    replaces whole partitions, and a new dlt load touches keys in any of them), so each build there
    recomputes them from the raw layer (docs/targets.md). -#}
{% macro incremental_materialization() -%}
    {{ return('table' if target.type == 'spark' else 'incremental') }}
{%- endmacro %}
