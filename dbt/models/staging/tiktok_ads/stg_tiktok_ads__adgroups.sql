with source as (
    select * from {{ source('tiktok_ads', 'adgroups') }}
),

{{ latest_row_per_key('latest', 'source', 'adgroup_id', 'modify_time desc nulls last, _dlt_load_id desc') }}

select
    cast(adgroup_id as varchar(64)) as adgroup_id,
    cast(campaign_id as varchar(64)) as campaign_id,
    cast(advertiser_id as varchar(64)) as advertiser_id,
    adgroup_name,
    cast(pixel_id as varchar(64)) as pixel_id,
    optimization_goal,
    optimization_event,
    promotion_type,
    placement_type,
    operation_status,
    secondary_status,
    coalesce(is_deleted, false) as is_deleted,
    create_time as created_at,
    modify_time as modified_at
from latest
