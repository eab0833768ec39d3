"""Where the warehouse is: the DuckDB file, the read-only copy published for BI tools beside it,
and dlt's DuckDB destination that loads the raw datasets into it.

- :func:`warehouse_path`: the DuckDB file, env ``SIGNAL_WAREHOUSE_PATH`` (default
  ``data/warehouse.duckdb``), relative paths resolved against the repository root.
- :func:`bi_copy_path`: ``<stem>_bi.duckdb`` beside it.
- :func:`duckdb_destination`: dlt's DuckDB destination for that file, with the raw layer's load
  settings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Final

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt"
DEFAULT_WAREHOUSE = Path("data") / "warehouse.duckdb"
WAREHOUSE_ENV = "SIGNAL_WAREHOUSE_PATH"


def warehouse_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The DuckDB warehouse file: ``path``, else env ``SIGNAL_WAREHOUSE_PATH``, else
    ``data/warehouse.duckdb``; relative paths are resolved against the repository root."""
    raw = Path(path) if path is not None else Path(os.environ.get(WAREHOUSE_ENV) or DEFAULT_WAREHOUSE)
    return raw if raw.is_absolute() else (REPO_ROOT / raw).resolve()


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
# dlt's load files for the local DuckDB file are written, read once by DuckDB on the same machine
# and deleted: compressing them only costs time (snappy: ~0.35 s per million events).
DLT_LOAD_FILE_COMPRESSION: Final = "none"


def duckdb_destination(path: str | os.PathLike[str] | None = None) -> Any:
    """dlt's DuckDB destination for the warehouse file (:func:`warehouse_path`), loading with
    :data:`DLT_DUCKDB_SETTINGS` from uncompressed Parquet files. Every dlt pipeline into the
    warehouse uses it."""
    # dlt's destinations take 0.9 s to import: only the loaders pay it, not the readers of the
    # warehouse path (the CLI)
    import dlt  # noqa: PLC0415
    from dlt.common.destination.configuration import ParquetFormatConfiguration  # noqa: PLC0415
    from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials  # noqa: PLC0415

    target = warehouse_path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    return dlt.destinations.duckdb(
        DuckDbCredentials(str(target), global_config=dict(DLT_DUCKDB_SETTINGS)),
        parquet_format=ParquetFormatConfiguration(compression=DLT_LOAD_FILE_COMPRESSION),
    )
