with source as (
    select * from {{ source('tiktok_ads', 'advertisers') }}
),

{{ latest_row_per_key('latest', 'source', 'advertiser_id', '_dlt_load_id desc') }}

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
from latest
