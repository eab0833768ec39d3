{#- Dated FX rates as validity ranges: a rate applies from its rate_date until the next rate of
    the same currency (exclusive); the first rate of a currency also covers all earlier days. -#}
with rates as (
    select
        cast(upper(currency) as varchar(3)) as currency,
        cast(rate_date as date) as rate_date,
        cast(usd_per_unit as decimal(28, 18)) as usd_per_unit
    from {{ ref('fx_rates') }}
    where usd_per_unit is not null and usd_per_unit > 0
),

ranged as (
    select
        currency,
        rate_date,
        usd_per_unit,
        row_number() over (partition by currency order by rate_date) as rate_rank,
        lead(rate_date) over (partition by currency order by rate_date) as next_rate_date
    from rates
)

select
    currency,
    rate_date,
    usd_per_unit,
    case when rate_rank = 1 then cast('1900-01-01' as date) else rate_date end as valid_from,
    coalesce(next_rate_date, cast('9999-12-31' as date)) as valid_to
from ranged
