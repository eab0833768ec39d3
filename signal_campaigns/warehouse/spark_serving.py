"""The DuckDB serving copy of the Spark build's public marts (docs/targets.md, the ``spark`` target).

:func:`refresh_marts_from_spark` copies every mart of the Spark build (:func:`.spark_marts.public_marts`)
into the schema ``main`` of the DuckDB warehouse file in one transaction, with their comments, and
(re)creates the table macro ``signal_campaign_metrics`` over them, so that the read-only copy for BI
tools (:func:`.bi_copy.publish_read_only_copy`, storage version and comments as on the DuckDB
target), the dashboard and the CLI read the Spark build unchanged. The raw layer's quarantine tables
are read from the lake's Parquet files by DuckDB itself (no Spark needed).

The macro's SQL is dbt's own (``create_signal_campaign_metrics_function`` compiled for the DuckDB
target, ``dbt compile --inline``), cached beside the warehouse and compiled again when a macro of
the dbt project changes.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from pathlib import Path

import duckdb

from .access import LOCK_WAIT_SECONDS, open_for_writing
from .dbt_runner import run_dbt
from .location import DBT_PROJECT_DIR, warehouse_path
from .spark import lake_path
from .spark_marts import ExportedTable, export_tables, load_exported

log = logging.getLogger(__name__)
METRICS_MACRO = "{{ create_signal_campaign_metrics_function() }}"
RAW_QUARANTINE = ("appsprint", "tiktok_ads")  # datasets whose `quarantine` table the serving copy holds


def _macros_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted((DBT_PROJECT_DIR / "macros").rglob("*.sql")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def metrics_function_sql(warehouse: Path) -> str:
    """dbt's SQL for the ``signal_campaign_metrics`` table macro on ``warehouse`` (which must hold
    ``main.signal_campaign_daily``), from the cache beside it while the dbt macros are unchanged."""
    cache = warehouse.with_name(f".{warehouse.stem}.metrics_function.{_macros_digest()}.sql")
    if cache.exists():
        return cache.read_text()
    with tempfile.TemporaryDirectory(prefix="signal-dbt-compile-") as target_path:
        args = ["compile", "--inline", METRICS_MACRO, "--target-path", target_path, "--log-level", "none"]
        run = run_dbt(args, warehouse=warehouse)
    sql = str(run.result.results[0].node.compiled_code)
    for stale in warehouse.parent.glob(f".{warehouse.stem}.metrics_function.*.sql"):
        stale.unlink(missing_ok=True)
    cache.write_text(sql)
    return sql


def load_raw_quarantine(con: duckdb.DuckDBPyConnection, lake: Path | None = None) -> list[str]:
    """``<dataset>.quarantine`` from the lake's Parquet files, for each dataset that has one."""
    lake = lake or lake_path()
    loaded = []
    for dataset in RAW_QUARANTINE:
        folder = lake / dataset / "quarantine"
        if not any(folder.glob("*.parquet")):
            continue
        pattern = str(folder / "*.parquet").replace("'", "''")
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{dataset}"')
        con.execute(
            f'CREATE OR REPLACE TABLE "{dataset}".quarantine AS '
            f"SELECT * FROM read_parquet('{pattern}', union_by_name = true)"
        )
        loaded.append(f"{dataset}.quarantine")
    return loaded


def refresh_marts_from_spark(
    warehouse: str | Path | None = None, *, in_process: bool = False, lock_wait: float = LOCK_WAIT_SECONDS
) -> list[ExportedTable]:
    """Copy the Spark build's marts into the DuckDB warehouse (``main``) with the table macro and
    the raw quarantine tables; returns the marts copied. Call it as the warehouse's writer."""
    path = warehouse_path(warehouse)
    with tempfile.TemporaryDirectory(prefix="signal-spark-marts-") as folder:
        tables = export_tables([], folder, all_marts=True, in_process=in_process)
        con = open_for_writing(path, create=True, timeout=lock_wait, log=log)
        try:
            load_exported(con, tables)
            load_raw_quarantine(con)
        finally:
            con.close()
    if any(t.name == "signal_campaign_daily" for t in tables):
        sql = metrics_function_sql(path)  # dbt opens the file itself: after the writer has closed it
        with duckdb.connect(str(path)) as con:
            con.execute(sql)
    return tables
