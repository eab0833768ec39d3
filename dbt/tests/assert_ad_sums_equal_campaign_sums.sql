{{ config(meta={'dagster': {'ref': {'name': 'signal_campaign_campaign_daily'}}}) }}
-- Higher grains are sums of ad-day rows (docs/decisions/0004-metric-formulas.md). For every
-- additive column and every advertiser-local day: a campaign's row in signal_campaign_campaign_daily
-- equals the sum of its ad groups in signal_campaign_adgroup_daily, and an ad group's row equals the
-- sum of its ads in signal_campaign_daily.
{%- set cols = signal_additive_columns() %}
with campaigns as (
    select * from {{ ref('signal_campaign_campaign_daily') }}
),

adgroups as (
    select * from {{ ref('signal_campaign_adgroup_daily') }}
),

adgroups_by_campaign as (
    select
        {%- for col in cols %}
            sum({{ col }}) as {{ col }},
        {%- endfor %}
        report_date,
        advertiser_id,
        campaign_id
    from adgroups
    group by report_date, advertiser_id, campaign_id
),

ads_by_adgroup as (
    select
        {%- for col in cols %}
            sum({{ col }}) as {{ col }},
        {%- endfor %}
        report_date,
        advertiser_id,
        campaign_id,
        adgroup_id
    from {{ ref('signal_campaign_daily') }}
    group by report_date, advertiser_id, campaign_id, adgroup_id
)

select
    'campaign vs its ad groups' as check_name,
    coalesce(c.report_date, g.report_date) as report_date,
    coalesce(c.advertiser_id, g.advertiser_id) as advertiser_id,
    coalesce(c.campaign_id, g.campaign_id) as campaign_id,
    cast(null as varchar(64)) as adgroup_id
from campaigns as c
full outer join adgroups_by_campaign as g
    on c.report_date = g.report_date and c.advertiser_id = g.advertiser_id and c.campaign_id = g.campaign_id
where (
    {%- for col in cols %}
        coalesce(c.{{ col }}, -1) <> coalesce(g.{{ col }}, -1){{ " or" if not loop.last }}
    {%- endfor %}
)

union all

select
    'ad group vs its ads' as check_name,
    coalesce(g.report_date, a.report_date) as report_date,
    coalesce(g.advertiser_id, a.advertiser_id) as advertiser_id,
    coalesce(g.campaign_id, a.campaign_id) as campaign_id,
    coalesce(g.adgroup_id, a.adgroup_id) as adgroup_id
from adgroups as g
full outer join ads_by_adgroup as a
    on
        g.report_date = a.report_date and g.advertiser_id = a.advertiser_id
        and g.campaign_id = a.campaign_id and g.adgroup_id = a.adgroup_id
where (
    {%- for col in cols %}
        coalesce(g.{{ col }}, -1) <> coalesce(a.{{ col }}, -1){{ " or" if not loop.last }}
    {%- endfor %}
)
