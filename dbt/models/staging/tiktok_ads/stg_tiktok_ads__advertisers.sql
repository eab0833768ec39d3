with source as (
    select * from {{ source('tiktok_ads', 'advertisers') }}
),

ranked as (
    select
        source.*,
        row_number() over (partition by advertiser_id order by _dlt_load_id desc) as row_rank
    from source
)

select
    cast(advertiser_id as varchar(64)) as advertiser_id,
    name as advertiser_name,
    upper(currency) as currency,
    timezone as report_timezone,
    display_timezone,
    status as advertiser_status,
    country,
    company,
    create_time as created_at,
    _dlt_load_id as dlt_load_id
from ranked
where row_rank = 1
