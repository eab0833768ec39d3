{#- The ONE forwarding rule (docs/decisions/0006-forwarding-rules.md): the skip reason of an event,
    NULL when it is eligible. `e` aliases a relation with the columns of
    int_appsprint__events_attributed, `m` one of int_event_mapping (left-joined on sdk_event =
    event_type). Reasons are tested in this order: sandbox, not_tiktok_attributed, unmapped,
    invalid_mapping, missing_pixel, missing_ip, private_ip, missing_user_agent, too_old.
    `device_skip_reason`: optional expression holding the precomputed device checks of the event
    (forwarding_device_skip_reason: missing_ip / private_ip / missing_user_agent, '' when they
    pass), used instead of re-evaluating them (e.g. the column persisted per event in
    int_appsprint__value_events). -#}
{% macro forwarding_skip_reason(e='events', m='mapping', device_skip_reason=none) -%}
    case
        when coalesce({{ e }}.environment, 'production') <> 'production' then 'sandbox'
        when not {{ e }}.is_tiktok_attributed then 'not_tiktok_attributed'
        when {{ m }}.mapping_status is null or {{ m }}.mapping_status = 'disabled' then 'unmapped'
        when {{ m }}.mapping_status <> 'mapped' then 'invalid_mapping'
        when {{ e }}.pixel_code is null then 'missing_pixel'
        {%- if device_skip_reason %}
        when coalesce({{ device_skip_reason }}, '') <> '' then {{ device_skip_reason }}
        {%- else %}
        {{ forwarding_device_checks(e) }}
        {%- endif %}
        when {{ e }}.occurred_at < {{ dbt.dateadd('day', '-1 * ' ~ var('forwarding_max_age_days', 7), forwarding_now()) }}
            then 'too_old'
    end
{%- endmacro %}

{#- The device part of the rule, which depends on the event alone (its ip and user agent). -#}
{% macro forwarding_device_checks(e='events') -%}
        when {{ e }}.ip is null or trim({{ e }}.ip) = '' then 'missing_ip'
        when {{ is_private_ip('trim(' ~ e ~ '.ip)') }} then 'private_ip'
        when {{ e }}.user_agent is null or trim({{ e }}.user_agent) = '' then 'missing_user_agent'
{%- endmacro %}

{#- The device checks as a value: missing_ip / private_ip / missing_user_agent, '' when they pass. -#}
{% macro forwarding_device_skip_reason(e='events') -%}
    case
        {{ forwarding_device_checks(e) }}
        else ''
    end
{%- endmacro %}
