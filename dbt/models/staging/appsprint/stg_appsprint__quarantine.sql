select
    resource,
    row_key,
    reason,
    {{ dbt.split_part('reason', "':'", 1) }} as reason_code,
    raw as raw_row,
    updated_at,
    quarantined_at,
    _dlt_load_id as dlt_load_id
from {{ source('appsprint', 'quarantine') }}
