{#- Stable, readable schema names for analysts: marts live in the target schema (DuckDB `main`,
    PostgreSQL `public` by default); staging, intermediate and seeds in `staging`, `intermediate`,
    `reference`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
