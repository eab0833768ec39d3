with source as (
    select * from {{ source('tiktok_ads', 'pixels') }}
),

ranked as (
    select
        source.*,
        row_number() over (partition by pixel_id order by _dlt_load_id desc) as row_rank
    from source
)

select
    cast(pixel_id as varchar(64)) as pixel_id,
    cast(advertiser_id as varchar(64)) as advertiser_id,
    pixel_code,
    pixel_name,
    pixel_setup_mode,
    create_time as created_at
from ranked
where row_rank = 1
