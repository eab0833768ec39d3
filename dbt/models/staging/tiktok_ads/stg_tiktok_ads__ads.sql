with source as (
    select * from {{ source('tiktok_ads', 'ads') }}
),

{{ latest_row_per_key('latest', 'source', 'ad_id', 'modify_time desc nulls last, _dlt_load_id desc') }}

select
    cast(ad_id as varchar(64)) as ad_id,
    cast(adgroup_id as varchar(64)) as adgroup_id,
    cast(campaign_id as varchar(64)) as campaign_id,
    cast(advertiser_id as varchar(64)) as advertiser_id,
    ad_name,
    landing_page_url,
    cast(tracking_pixel_id as varchar(64)) as tracking_pixel_id,
    operation_status,
    secondary_status,
    coalesce(is_deleted, false) as is_deleted,
    create_time as created_at,
    modify_time as modified_at
from latest
