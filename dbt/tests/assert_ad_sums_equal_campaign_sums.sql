{{ config(meta={'dagster': {'ref': {'name': 'signal_campaign_rollup'}}}) }}
-- Higher grains are sums of ad-day rows (docs/decisions/0004-metric-formulas.md). For every
-- additive column, the campaign-grain and ad-group-grain rollups equal the sum of their ad-grain
-- rows, and the ad grain equals the sum of signal_campaign_daily.
{%- set cols = signal_additive_columns() %}
with rollup as (
    select * from {{ ref('signal_campaign_rollup') }}
),

campaigns as (
    select * from rollup
    where grain = 'campaign'
),

adgroups as (
    select * from rollup
    where grain = 'adgroup'
),

ads_by_campaign as (
    select
        {%- for col in cols %}
            sum({{ col }}) as {{ col }},
        {%- endfor %}
        advertiser_id,
        campaign_id
    from rollup
    where grain = 'ad'
    group by advertiser_id, campaign_id
),

ads_by_adgroup as (
    select
        {%- for col in cols %}
            sum({{ col }}) as {{ col }},
        {%- endfor %}
        advertiser_id,
        campaign_id,
        adgroup_id
    from rollup
    where grain = 'ad'
    group by advertiser_id, campaign_id, adgroup_id
),

daily_by_campaign as (
    select
        {%- for col in cols %}
            sum({{ col }}) as {{ col }},
        {%- endfor %}
        advertiser_id,
        campaign_id
    from {{ ref('signal_campaign_daily') }}
    where
        report_date >= cast('{{ var("rollup_start_date", none) or "1900-01-01" }}' as date)
        and report_date <= cast('{{ var("rollup_end_date", none) or "9999-12-31" }}' as date)
    group by advertiser_id, campaign_id
)

select
    'campaign vs its ads' as check_name,
    coalesce(c.advertiser_id, a.advertiser_id) as advertiser_id,
    coalesce(c.campaign_id, a.campaign_id) as campaign_id,
    cast(null as varchar(64)) as adgroup_id
from campaigns as c
full outer join ads_by_campaign as a
    on c.advertiser_id = a.advertiser_id and c.campaign_id = a.campaign_id
where (
    {%- for col in cols %}
        coalesce(c.{{ col }}, -1) <> coalesce(a.{{ col }}, -1){{ " or" if not loop.last }}
    {%- endfor %}
)

union all

select
    'ad group vs its ads' as check_name,
    coalesce(g.advertiser_id, a.advertiser_id) as advertiser_id,
    coalesce(g.campaign_id, a.campaign_id) as campaign_id,
    coalesce(g.adgroup_id, a.adgroup_id) as adgroup_id
from adgroups as g
full outer join ads_by_adgroup as a
    on g.advertiser_id = a.advertiser_id and g.campaign_id = a.campaign_id and g.adgroup_id = a.adgroup_id
where (
    {%- for col in cols %}
        coalesce(g.{{ col }}, -1) <> coalesce(a.{{ col }}, -1){{ " or" if not loop.last }}
    {%- endfor %}
)

union all

select
    'campaign vs signal_campaign_daily' as check_name,
    coalesce(c.advertiser_id, d.advertiser_id) as advertiser_id,
    coalesce(c.campaign_id, d.campaign_id) as campaign_id,
    cast(null as varchar(64)) as adgroup_id
from campaigns as c
full outer join daily_by_campaign as d
    on c.advertiser_id = d.advertiser_id and c.campaign_id = d.campaign_id
where (
    {%- for col in cols %}
        coalesce(c.{{ col }}, -1) <> coalesce(d.{{ col }}, -1){{ " or" if not loop.last }}
    {%- endfor %}
)
