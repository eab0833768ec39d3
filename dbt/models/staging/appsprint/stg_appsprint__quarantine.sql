-- distinct: a load job dlt runs again (a kill between DuckDB's commit and dlt's record of the job)
-- appends its rows a second time, with the same load id
select distinct
    resource,
    row_key,
    reason,
    {{ dbt.split_part('reason', "':'", 1) }} as reason_code,
    raw as raw_row,
    updated_at,
    quarantined_at,
    _dlt_load_id as dlt_load_id
from {{ source('appsprint', 'quarantine') }}
