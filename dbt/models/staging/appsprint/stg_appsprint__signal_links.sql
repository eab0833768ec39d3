with source as (
    select * from {{ source('appsprint', 'signal_links') }}
),

ranked as (
    select
        source.*,
        row_number() over (partition by id order by updated_at desc, _dlt_load_id desc) as row_rank
    from source
)

select
    cast(id as varchar(64)) as link_id,
    name as link_name,
    lower(network) as network,
    url as link_url,
    created_at,
    updated_at
from ranked
where row_rank = 1
