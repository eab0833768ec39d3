with source as (
    select * from {{ source('tiktok_ads', 'campaigns') }}
),

{{ latest_row_per_key('latest', 'source', 'campaign_id', 'modify_time desc nulls last, _dlt_load_id desc') }}

select
    cast(campaign_id as varchar(64)) as campaign_id,
    cast(advertiser_id as varchar(64)) as advertiser_id,
    campaign_name,
    objective_type,
    operation_status,
    secondary_status,
    coalesce(is_deleted, false) as is_deleted,
    budget,
    budget_mode,
    create_time as created_at,
    modify_time as modified_at
from latest
