"""The Spark target's steps of ``make demo-spark`` (``SIGNAL_DBT_TARGET=spark``, docs/targets.md):
the raw layer lands in the lake (dlt's filesystem destination, Parquet), dbt builds the models on
Spark in this process (dbt-spark's ``session`` method), the marts are copied into the DuckDB file
that serves them (the forwarder's ledger, the BI copy, the dashboard), and the ledger's snapshot is
published to the lake after forwarding. Imported by :mod:`sandbox.demo` only on that target."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb

from signal_campaigns.forwarding.spark_queue import LEDGER_DATASET, publish_ledger
from signal_campaigns.pipeline import extract
from signal_campaigns.warehouse.spark import lake_path, spark_dir
from signal_campaigns.warehouse.spark_serving import refresh_marts_from_spark

from .connection import HISTORY_DAYS, sandbox_connection
from .runner import SandboxEndpoints

RAW_DATASETS = ("tiktok_ads", "appsprint")


def reset() -> None:
    """Every demo run serves a new world: the raw datasets in the lake, the ledger's snapshot and
    the local Spark build (metastore and tables) go, as the DuckDB file does on the DuckDB target."""
    for dataset in (*RAW_DATASETS, LEDGER_DATASET):
        shutil.rmtree(lake_path() / dataset, ignore_errors=True)
    for part in ("metastore_db", "warehouse"):
        shutil.rmtree(spark_dir() / part, ignore_errors=True)


def land(endpoints: SandboxEndpoints, anchor: dt.datetime, pipelines_dir: Path) -> dict[str, dict[str, int]]:
    """The product's dlt sources against the sandbox into the lake; rows loaded per table."""
    from signal_campaigns.warehouse.spark import lake_destination  # noqa: PLC0415 - imports dlt

    return extract(
        sandbox_connection(endpoints),
        destination=lake_destination(),
        pipelines_dir=pipelines_dir,
        now=anchor,
        start_date=(anchor - dt.timedelta(days=HISTORY_DAYS)).date(),
        pipeline_suffix="_lake",
    )


def serve(db: Path) -> int:
    """The Spark build's marts into the DuckDB file (this process's Spark session: dbt's)."""
    return len(refresh_marts_from_spark(db, in_process=True))


def publish(db: Path) -> Path:
    with duckdb.connect(str(db)) as con:
        return publish_ledger(con)
