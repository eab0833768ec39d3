"""Where the warehouse is: the DuckDB file, the read-only copy published for BI tools beside it,
and dlt's DuckDB destination that loads the raw datasets into it.

- :func:`warehouse_path`: the DuckDB file, env ``SIGNAL_WAREHOUSE_PATH`` (default
  ``data/warehouse.duckdb``), relative paths resolved against the repository root.
- :func:`bi_copy_path`: ``<stem>_bi.duckdb`` beside it.
- :func:`create_warehouse_file`: a new warehouse file is created in :data:`STORAGE_VERSION`.
- :func:`duckdb_destination`: dlt's DuckDB destination for that file, with the raw layer's load
  settings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Final

import duckdb

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt"
DEFAULT_WAREHOUSE = Path("data") / "warehouse.duckdb"
WAREHOUSE_ENV = "SIGNAL_WAREHOUSE_PATH"


def warehouse_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The DuckDB warehouse file: ``path``, else env ``SIGNAL_WAREHOUSE_PATH``, else
    ``data/warehouse.duckdb``; relative paths are resolved against the repository root."""
    raw = Path(path) if path is not None else Path(os.environ.get(WAREHOUSE_ENV) or DEFAULT_WAREHOUSE)
    return raw if raw.is_absolute() else (REPO_ROOT / raw).resolve()


# The storage version of the files this project writes: the oldest DuckDB 2.0 writes that clients
# read back. DuckDB 0.10 introduced the storage format (version number 64) every later release reads;
# a file written with 'v0.9.0' is still not readable by DuckDB 0.9 (measured), so 'v0.10.0' is the
# floor; tables, views, table macros and comments all survive it (tests/bi opens the copy with
# DuckDB 0.10 and the newest 1.x). A warehouse created in it can be published to BI tools as a byte copy: 2.1 s instead of
# 38 s for COPY FROM DATABASE into a new file, on the 10M-event warehouse (2.5 GB).
STORAGE_VERSION = "v0.10.0"
# the number in the file header that goes with it (bytes 12..19 after the magic "DUCK")
STORAGE_VERSION_NUMBER = 64


def create_warehouse_file(path: str | os.PathLike[str] | None = None) -> Path:
    """Create the warehouse file (:func:`warehouse_path`) in :data:`STORAGE_VERSION` if it does not
    exist yet, and return its path. DuckDB keeps a file's storage version for good when it opens it
    later, so every writer that may be first (dlt, dbt, the lock wait) calls this before connecting."""
    target = warehouse_path(path)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        duckdb.connect(str(target), config={"storage_compatibility_version": STORAGE_VERSION}).close()
    return target


def storage_version_number(path: str | os.PathLike[str]) -> int | None:
    """The storage version number in a DuckDB file's header, or None for a file that is not one."""
    with open(path, "rb") as f:
        head = f.read(20)
    if len(head) < 20 or head[8:12] != b"DUCK":
        return None
    return int.from_bytes(head[12:20], "little")


BI_COPY_SUFFIX = "_bi"


def bi_copy_path(warehouse: str | os.PathLike[str] | None = None) -> Path:
    """Where the read-only copy for BI tools is published: ``<warehouse stem>_bi.duckdb`` beside
    the warehouse (``data/warehouse_bi.duckdb`` by default)."""
    path = warehouse_path(warehouse)
    return path.with_name(f"{path.stem}{BI_COPY_SUFFIX}{path.suffix}")


# DuckDB settings of dlt's loads: raw tables have no row order (staging orders versions by
# updated_at and load id), so DuckDB may write a load file's rows in parallel: DuckDB's insert of
# the 1M-event AppSprint load file took 1.65 s instead of 2.25 s (measured on the 2-core machine).
DLT_DUCKDB_SETTINGS = {"preserve_insertion_order": False}
# DuckDB's buffer pool for dlt's loads, as for dbt's builds (dbt/profiles.yml: the same variable and
# default): DuckDB's own default is 80% of RAM, and loading a 27M-row Parquet load file grew the
# extraction to 3.7 GB (1.1 GB with a 1 GB limit); a bigger load spills to `<warehouse>.tmp`
# (DuckDB's default temp directory for a file) instead of growing the process.
MEMORY_LIMIT_ENV: Final = "SIGNAL_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT: Final = "4GB"
# dlt's load files for the local DuckDB file are written, read once by DuckDB on the same machine
# and deleted: compressing them only costs time (snappy: ~0.35 s per million events).
DLT_LOAD_FILE_COMPRESSION: Final = "none"


def duckdb_destination(path: str | os.PathLike[str] | None = None) -> Any:
    """dlt's DuckDB destination for the warehouse file (:func:`warehouse_path`), loading with
    :data:`DLT_DUCKDB_SETTINGS` and the memory limit (env ``SIGNAL_DUCKDB_MEMORY_LIMIT``, default
    4GB) from uncompressed Parquet files. Every dlt pipeline into the
    warehouse uses it."""
    # dlt's destinations take 0.9 s to import: only the loaders pay it, not the readers of the
    # warehouse path (the CLI)
    import dlt  # noqa: PLC0415
    from dlt.common.destination.configuration import ParquetFormatConfiguration  # noqa: PLC0415
    from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials  # noqa: PLC0415

    target = create_warehouse_file(path)
    return dlt.destinations.duckdb(
        DuckDbCredentials(
            str(target),
            global_config={
                **DLT_DUCKDB_SETTINGS,
                "memory_limit": os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT,
            },
        ),
        parquet_format=ParquetFormatConfiguration(compression=DLT_LOAD_FILE_COMPRESSION),
    )
