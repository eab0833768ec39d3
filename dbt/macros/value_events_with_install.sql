{#- The value events (int_appsprint__value_events, every column) joined to their install's
    attribution (int_appsprint__installs_attributed): `install_columns` names the install columns
    added. Events without an install are left out. The caller may append a WHERE on `value_events.`
    and `installs.` columns. The one place for this join (int_appsprint__revenue_events,
    value_optimization_readiness). -#}
{% macro value_events_with_install(install_columns) -%}
select
        value_events.*,
        {%- for c in install_columns %}
        installs.{{ c }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('int_appsprint__value_events') }} as value_events
    inner join {{ ref('int_appsprint__installs_attributed') }} as installs
        on value_events.appsprint_id = installs.appsprint_id
{%- endmacro %}
