with source as (
    select * from {{ source('appsprint', 'signal_links') }}
),

{{ latest_row_per_key('latest', 'source', 'id', 'updated_at desc, _dlt_load_id desc') }}

select
    cast(id as varchar(64)) as link_id,
    name as link_name,
    lower(network) as network,
    url as link_url,
    created_at,
    updated_at
from latest
