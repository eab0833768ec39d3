with source as (
    select * from {{ source('tiktok_ads', 'pixels') }}
),

{{ latest_row_per_key('latest', 'source', 'pixel_id', '_dlt_load_id desc') }}

select
    cast(pixel_id as varchar(64)) as pixel_id,
    cast(advertiser_id as varchar(64)) as advertiser_id,
    pixel_code,
    pixel_name,
    pixel_setup_mode,
    create_time as created_at
from latest
