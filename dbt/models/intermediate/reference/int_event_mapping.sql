{#- The effective SDK event -> TikTok web event mapping: the seed event_mapping with the
    `event_mapping_overrides` var applied, each target validated against TikTok's naming rules
    (docs/tiktok_business_api.md, Events API event names): standard and legacy names are valid;
    reserved names are invalid; anything else is a custom name that must match
    ^[A-Za-z][A-Za-z0-9_-]{0,49}$. -#}
{%- set overrides = var('event_mapping_overrides', {}) or {} -%}

with seed as (
    select
        cast(lower(trim(sdk_event)) as varchar(64)) as sdk_event,
        cast(nullif(trim(tiktok_event), '') as varchar(64)) as tiktok_event,
        cast(dashboard_group as varchar(16)) as dashboard_group
    from {{ ref('event_mapping') }}
),

overrides as (
    {%- if overrides %}
    {%- for sdk_event, tiktok_event in overrides.items() %}
    select
        cast('{{ sdk_event | lower | replace("'", "''") }}' as varchar(64)) as sdk_event,
        cast({{ "'" ~ (tiktok_event | trim | replace("'", "''")) ~ "'" if tiktok_event else 'null' }} as varchar(64)) as tiktok_event
    {{ 'union all' if not loop.last }}
    {%- endfor %}
    {%- else %}
        select
            cast(null as varchar(64)) as sdk_event,
            cast(null as varchar(64)) as tiktok_event
        where 1 = 0
    {%- endif %}
),

combined as (
    select
        coalesce(o.sdk_event, s.sdk_event) as sdk_event,
        case when o.sdk_event is not null then nullif(o.tiktok_event, '') else s.tiktok_event end as tiktok_event,
        coalesce(s.dashboard_group, 'more_events') as dashboard_group,
        o.sdk_event is not null as is_override
    from seed as s
    full outer join overrides as o
        on s.sdk_event = o.sdk_event
),

names as (
    select
        event_name,
        kind,
        standard_name
    from {{ ref('tiktok_standard_events') }}
)

select
    combined.sdk_event,
    combined.tiktok_event,
    combined.dashboard_group,
    combined.is_override,
    names.kind as tiktok_event_kind,
    case
        when combined.tiktok_event is null then 'disabled'
        when names.kind in ('standard', 'legacy') then 'mapped'
        when names.kind = 'reserved' then 'invalid'
        when {{ regex_matches('combined.tiktok_event', '^[A-Za-z][A-Za-z0-9_-]{0,49}$') }} then 'mapped'
        else 'invalid'
    end as mapping_status,
    case
        when combined.tiktok_event is null then null
        when
            names.kind = 'reserved'
            then 'reserved TikTok name (TikTok maps it to ' || names.standard_name || '); use the standard name'
        when names.kind is null and not {{ regex_matches('combined.tiktok_event', '^[A-Za-z][A-Za-z0-9_-]{0,49}$') }}
            then 'custom event names start with a letter and use at most 50 letters, digits, underscores or hyphens'
    end as invalid_reason
from combined
left join names
    on combined.tiktok_event = names.event_name
