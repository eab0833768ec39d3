{#- The ONE forwarding rule (DESIGN.md D6): the skip reason of an event, NULL when it is eligible.
    `e` aliases a relation with the columns of int_appsprint__events_attributed, `m` one of
    int_event_mapping (left-joined on sdk_event = event_type). Reasons are tested in this order:
    sandbox, not_tiktok_attributed, unmapped, invalid_mapping, missing_pixel, missing_ip,
    private_ip, missing_user_agent, too_old. -#}
{% macro forwarding_skip_reason(e='events', m='mapping') -%}
    case
        when coalesce({{ e }}.environment, 'production') <> 'production' then 'sandbox'
        when not {{ e }}.is_tiktok_attributed then 'not_tiktok_attributed'
        when {{ m }}.mapping_status is null or {{ m }}.mapping_status = 'disabled' then 'unmapped'
        when {{ m }}.mapping_status <> 'mapped' then 'invalid_mapping'
        when {{ e }}.pixel_code is null then 'missing_pixel'
        when {{ e }}.ip is null or trim({{ e }}.ip) = '' then 'missing_ip'
        when {{ is_private_ip('trim(' ~ e ~ '.ip)') }} then 'private_ip'
        when {{ e }}.user_agent is null or trim({{ e }}.user_agent) = '' then 'missing_user_agent'
        when {{ e }}.occurred_at < {{ dbt.dateadd('day', '-1 * ' ~ var('forwarding_max_age_days', 7), forwarding_now()) }}
            then 'too_old'
    end
{%- endmacro %}
