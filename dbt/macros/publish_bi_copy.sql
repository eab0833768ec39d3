{#- on-run-end: republish the read-only copy for BI tools (`<stem>_bi.duckdb` beside the DuckDB
    warehouse, in an older storage version DuckDB 1.x clients open) after a dbt command that wrote
    the warehouse (build, run, seed, snapshot) without an error or a failed test, so that a
    `dbt build` run by hand republishes it as Dagster runs and `make demo` do. A failed run leaves
    the previous copy, as a failed Dagster run does (docs/orchestration.md).
    The dbt-duckdb plugin `bi_copy` (dbt/profiles.yml, signal_campaigns/warehouse/dbt_plugin.py)
    writes it: ATTACH a temporary file with the older STORAGE_VERSION, COPY FROM DATABASE, and an
    atomic rename over the copy. Off with the var publish_bi_copy=false (run_dbt and Dagster's dbt
    step pass it: they publish once at the end of their own run). Runs after the table function
    is created (the on-run-end hooks run in order), so the copy has it. -#}
{% macro publish_bi_copy() -%}
    {%- set enabled = var('publish_bi_copy', true) -%}
    {%- if enabled is string -%}{%- set enabled = enabled | lower in ['true', '1', 'yes'] -%}{%- endif -%}
    {%- if not execute or target.type != 'duckdb' or not enabled -%}{{ return('') }}{%- endif -%}
    {%- if invocation_args_dict.get('which') not in ['build', 'run', 'seed', 'snapshot'] -%}{{ return('') }}{%- endif -%}
    {%- set failed = [] -%}
    {%- for result in results if result.status in ['error', 'fail', 'runtime error'] -%}
        {%- do failed.append(result.node.name) -%}
    {%- endfor -%}
    {%- if failed -%}
        {{ log('BI copy not republished: ' ~ failed | length ~ ' node(s) failed (' ~ failed[:5] | join(', ') ~ '); it keeps the last successful run', info=True) }}
        {{ return('') }}
    {%- endif -%}
    {%- set warehouse = api.Relation.create(database=target.database, schema=target.schema) -%}
    {%- do adapter.store_relation('bi_copy', warehouse, [], target.database, 'duckdb', {}) -%}
    {{ log('published the read-only copy for BI tools beside the warehouse (' ~ target.database ~ '_bi.duckdb)', info=True) }}
    {{ return('') }}
{%- endmacro %}
