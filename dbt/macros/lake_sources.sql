{#- ============================================================================================
    The raw layer on the Spark target (docs/targets.md, docs/raw_layer.md). dlt's filesystem
    destination writes each dataset to a lake folder (var `lake_path`, else SIGNAL_LAKE_PATH):
    `<lake>/<dataset>/<table>/<load id>.<file id>.parquet`, its completed loads in `_dlt_loads` and
    its schema in `_dlt_version` (JSON lines). A lake cannot update files in place, so dlt appends
    every load there, merge tables included ("Falling back to append"). This on-run-start hook
    (Spark only; a no-op elsewhere) re-registers, on every run, so that new files and columns show:
      - `<dataset>_lake.<table>`: a Parquet table over the table's folder, with the columns and
        types of dlt's latest stored schema (a column added later reads as NULL in older files; a
        table dlt declared but has not written yet is empty, with its columns);
      - `<dataset>.<table>`, the dbt source: a view giving the rows the table has on the other
        targets, from the hints of that schema, so the models and source tests read one raw layer:
        only rows of completed loads (a load killed midway leaves files but no `_dlt_loads` row);
        for a merge table, only the rows of the latest load holding each primary key and each
        merge key (dlt's delete-insert: a re-pulled report day replaces the day whole), without
        the rows carrying its hard-delete marker (ad_daily_report's `_day_replaced`).
    ============================================================================================ -#}
{% macro register_lake_sources() -%}
    {{ return(adapter.dispatch('register_lake_sources', 'signal_campaigns')()) }}
{%- endmacro %}

{% macro default__register_lake_sources() -%}
    {{ return('') }}
{%- endmacro %}

{% macro spark__register_lake_sources() -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set lake = (var('lake_path', none) or env_var('SIGNAL_LAKE_PATH', 'data/lake')) | string -%}
    {%- for dataset in [var('raw_tiktok_ads_schema', 'tiktok_ads'), var('raw_appsprint_schema', 'appsprint')] -%}
        {%- do register_lake_dataset(lake.rstrip('/') ~ '/' ~ dataset, dataset) -%}
    {%- endfor -%}
    {{ return('') }}
{%- endmacro %}

{#- One dataset folder: its dlt bookkeeping, then each of its tables. A dataset dlt never loaded
    registers nothing: its sources are missing, as on the other targets before the first load. -#}
{% macro register_lake_dataset(folder, dataset) -%}
    {%- set files = dataset ~ '_lake' -%}
    {%- do run_query('create database if not exists ' ~ dataset) -%}
    {%- do run_query('create database if not exists ' ~ files) -%}
    {%- do register_lake_table(files ~ '._dlt_loads', folder ~ '/_dlt_loads', 'json',
        'load_id string, schema_name string, status bigint, inserted_at string, schema_version_hash string') -%}
    {%- do register_lake_table(files ~ '._dlt_version', folder ~ '/_dlt_version', 'json',
        'version bigint, engine_version bigint, inserted_at string, schema_name string, version_hash string, schema string') -%}
    {%- set found = run_query('select schema from ' ~ files ~ '._dlt_version order by version desc, inserted_at desc limit 1') -%}
    {%- if found.rows | length == 0 -%}{{ return('') }}{%- endif -%}
    {%- set schema = fromjson(found.rows[0][0]) -%}
    {%- for name, table in schema['tables'].items() if not name.startswith('_dlt') -%}
        {%- set columns = table['columns'] -%}
        {%- set typed = [] -%}
        {%- for column, spec in columns.items() -%}
            {%- do typed.append(adapter.quote(column) ~ ' ' ~ lake_column_type(spec)) -%}
        {%- endfor -%}
        {%- do register_lake_table(files ~ '.' ~ adapter.quote(name), folder ~ '/' ~ name, 'parquet', typed | join(', ')) -%}
        {%- do run_query('create or replace view ' ~ dataset ~ '.' ~ adapter.quote(name) ~ ' as '
            ~ lake_table_rows(files ~ '.' ~ adapter.quote(name), files ~ '._dlt_loads', table)) -%}
    {%- endfor -%}
{%- endmacro %}

{#- (Re)create an external table over a folder (dropping it never deletes the files). -#}
{% macro register_lake_table(relation, location, format, columns) -%}
    {%- do run_query('drop table if exists ' ~ relation) -%}
    {%- do run_query('create table ' ~ relation ~ ' (' ~ columns ~ ') using ' ~ format ~ " location '" ~ location ~ "'") -%}
{%- endmacro %}

{#- The rows of a lake table the other targets hold (see the top of this file). -#}
{% macro lake_table_rows(files, loads, table) -%}
    {%- set columns = table['columns'] -%}
    {%- set names = columns.keys() | list -%}
    {%- set primary_key, merge_key, hard_delete = [], [], [] -%}
    {%- for name in names -%}
        {%- if columns[name].get('primary_key') -%}{%- do primary_key.append(adapter.quote(name)) -%}{%- endif -%}
        {%- if columns[name].get('merge_key') -%}{%- do merge_key.append(adapter.quote(name)) -%}{%- endif -%}
        {%- if columns[name].get('hard_delete') -%}{%- do hard_delete.append(adapter.quote(name)) -%}{%- endif -%}
    {%- endfor -%}
    {%- set merged = table.get('write_disposition') == 'merge' and (primary_key or merge_key) -%}
    {%- if merged and table.get('x-merge-strategy', 'delete-insert') not in ('delete-insert', 'upsert') -%}
        {{ exceptions.raise_compiler_error('The lake table ' ~ files ~ " uses dlt's merge strategy "
            ~ table.get('x-merge-strategy') ~ ', which register_lake_sources cannot read back.') }}
    {%- endif -%}
    {%- set keys = [] -%}
    {%- for key in [primary_key, merge_key] if key -%}{%- do keys.append(key) -%}{%- endfor -%}
    {%- set quoted = [] -%}
    {%- for name in names -%}{%- do quoted.append(adapter.quote(name)) -%}{%- endfor -%}
select {{ quoted | join(', ') }}
from (
    select
        lake_rows.*
        {%- for key in keys if merged %},
        max(_dlt_load_id) over (partition by {{ key | join(', ') }}) as latest_load_{{ loop.index }}
        {%- endfor %}
    from {{ files }} as lake_rows
    {%- if '_dlt_load_id' in names %}
    where _dlt_load_id in (select load_id from {{ loads }} where status = 0)
    {%- endif %}
) as versions
where true
    {%- for key in keys if merged %}
    and _dlt_load_id = latest_load_{{ loop.index }}
    {%- endfor %}
    {%- for column in hard_delete %}
    and not coalesce({{ column }}, false)
    {%- endfor %}
{%- endmacro %}

{#- The Spark type of a dlt column (dlt's schema data types). -#}
{% macro lake_column_type(spec) -%}
    {%- set data_type = spec.get('data_type') -%}
    {%- set precision = spec.get('precision') -%}
    {%- if data_type == 'bigint' -%}
        {{ return({8: 'tinyint', 16: 'smallint', 32: 'int'}.get(precision, 'bigint')) }}
    {%- elif data_type == 'decimal' -%}
        {{ return('decimal(' ~ (precision or 38) ~ ', ' ~ spec.get('scale', 9 if precision is none else 0) ~ ')') }}
    {%- elif data_type == 'wei' -%}
        {{ return('decimal(38, 0)') }}
    {%- else -%}
        {{ return({'double': 'double', 'bool': 'boolean', 'timestamp': 'timestamp', 'date': 'date',
                   'binary': 'binary'}.get(data_type, 'string')) }}
    {%- endif -%}
{%- endmacro %}
