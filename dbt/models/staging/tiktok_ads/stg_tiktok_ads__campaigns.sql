with source as (
    select * from {{ source('tiktok_ads', 'campaigns') }}
),

ranked as (
    select
        source.*,
        row_number() over (partition by campaign_id order by modify_time desc nulls last, _dlt_load_id desc) as row_rank
    from source
)

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
from ranked
where row_rank = 1
