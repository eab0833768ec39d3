{#- on-run-start: every model or seed that a selected node reads but this run does not build must
    already exist in the warehouse. The scheduled syncs build only what new data changes (tables and
    incremental models downstream of the sources; views are current by definition and are created by
    full builds, docs/orchestration.md), so on a warehouse that was never built in full they would
    otherwise stop at the first missing relation with the database's bare "table does not exist".
    This stops before any model runs, naming what is missing and what to run. -#}
{% macro require_unselected_parents() -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set selected = selected_resources | list -%}
    {%- set missing = [] -%}
    {%- for unique_id in selected -%}
        {%- set node = graph.nodes.get(unique_id) -%}
        {%- for parent_id in (node.depends_on.nodes if node else []) -%}
            {%- set parent = graph.nodes.get(parent_id) -%}
            {%- if parent and parent.resource_type in ('model', 'seed') and parent_id not in selected
                  and parent_id not in missing
                  and adapter.get_relation(database=parent.database, schema=parent.schema,
                                           identifier=parent.alias) is none -%}
                {%- do missing.append(parent_id) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if missing -%}
        {%- set names = [] -%}
        {%- for parent_id in missing | sort -%}
            {%- set parent = graph.nodes[parent_id] -%}
            {%- do names.append(parent.schema ~ '.' ~ parent.alias ~ ' (' ~ parent.resource_type ~ ' '
                                ~ parent.name ~ ', ' ~ parent.config.materialized ~ ')') -%}
        {%- endfor -%}
        {{ exceptions.raise_compiler_error(
            'The selected models read ' ~ (missing | length) ~ ' relation(s) this run does not build and the '
            ~ 'warehouse does not have yet: ' ~ (names | join('; ')) ~ '. Build the whole project once '
            ~ '(the Dagster job daily_refresh, `make demo`, or `dbt build` without a selection), then '
            ~ 'the scheduled syncs can run.') }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}
