"""The warehouse: where it is (:mod:`.location`), dbt on it (:mod:`.dbt_runner`), its one writer
(:mod:`.access`) and the read-only copy for readers (:mod:`.bi_copy`; :mod:`.dbt_plugin` publishes
it after a dbt command run by hand)."""

from .access import (
    LOCK_WAIT_SECONDS,
    WarehouseFileError,
    WarehouseLockedError,
    open_for_writing,
    wait_for_write_access,
    warehouse_error,
)
from .bi_copy import publish_read_only_copy, write_bi_copy
from .dbt_runner import (
    BI_COPY_VAR,
    MAPPING_OVERRIDES_VAR,
    NO_JSON_ARTIFACTS,
    SYNC_EXCLUDE,
    WAREHOUSE_VAR,
    DbtError,
    DbtRun,
    mapping_overrides,
    release_duckdb,
    run_dbt,
)
from .location import (
    BI_COPY_SUFFIX,
    DBT_PROJECT_DIR,
    DEFAULT_WAREHOUSE,
    DLT_DUCKDB_SETTINGS,
    DLT_LOAD_FILE_COMPRESSION,
    REPO_ROOT,
    STORAGE_VERSION,
    WAREHOUSE_ENV,
    bi_copy_path,
    create_warehouse_file,
    duckdb_destination,
    warehouse_path,
)

__all__ = [
    "BI_COPY_SUFFIX",
    "BI_COPY_VAR",
    "DBT_PROJECT_DIR",
    "DEFAULT_WAREHOUSE",
    "DLT_DUCKDB_SETTINGS",
    "DLT_LOAD_FILE_COMPRESSION",
    "LOCK_WAIT_SECONDS",
    "MAPPING_OVERRIDES_VAR",
    "NO_JSON_ARTIFACTS",
    "REPO_ROOT",
    "STORAGE_VERSION",
    "SYNC_EXCLUDE",
    "WAREHOUSE_ENV",
    "WAREHOUSE_VAR",
    "DbtError",
    "DbtRun",
    "WarehouseFileError",
    "WarehouseLockedError",
    "bi_copy_path",
    "create_warehouse_file",
    "duckdb_destination",
    "mapping_overrides",
    "open_for_writing",
    "publish_read_only_copy",
    "release_duckdb",
    "run_dbt",
    "wait_for_write_access",
    "warehouse_error",
    "warehouse_path",
    "write_bi_copy",
]
