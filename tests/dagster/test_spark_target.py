"""The code location on the Spark target (``SIGNAL_DBT_TARGET=spark``, docs/targets.md): the same
asset keys, jobs (with the same assets), schedules, sensor and one ``warehouse`` pool as on DuckDB,
with the resources pointed at Spark: dlt lands Parquet files in the lake, dbt runs the ``spark``
output. Each target's definitions load in a process of their own (they are read from the
environment when the code location loads)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import run_module

TARGET_FIELDS = ("target", "dbt_target", "dlt", "load_args")


def location(tmp_path: Path, target: str) -> dict:
    env = {
        **os.environ,
        "SIGNAL_DBT_TARGET": target,
        "SIGNAL_LAKE_PATH": str(tmp_path / "lake"),
        "SIGNAL_WAREHOUSE_PATH": str(tmp_path / "warehouse.duckdb"),
    }
    return json.loads(run_module("tests.dagster.describe_location", env=env))


def test_the_spark_target_runs_the_same_assets_jobs_and_schedules_on_spark(tmp_path):
    duckdb, spark = location(tmp_path, "duckdb"), location(tmp_path, "spark")
    same = {k: v for k, v in spark.items() if k not in TARGET_FIELDS}
    assert same == {k: v for k, v in duckdb.items() if k not in TARGET_FIELDS}
    assert "event_delivery_ledger" in spark["jobs"]["forward_new_events"]
    assert len(spark["schedules"]) == 3 and spark["sensors"] == ["forward_new_appsprint_events"]
    assert set(spark["jobs"]) == {"forward_new_events", "tiktok_ads_sync", "appsprint_sync", "daily_refresh"}
    assert spark["pools"] == ["warehouse"]  # every writer, Spark's metastore openers included: one at a time

    lake = (tmp_path / "lake").as_uri()
    assert spark["target"] == "spark" and spark["dbt_target"] == "spark"
    assert spark["dlt"] == {
        "tiktok_ads": ["tiktok_ads_lake", "filesystem", lake],
        "appsprint": ["appsprint_lake", "filesystem", lake],
    }
    assert spark["load_args"] == {"loader_file_format": "parquet"}
    assert duckdb["target"] == "duckdb" and duckdb["dbt_target"] == "duckdb"
    assert [d[1] for d in duckdb["dlt"].values()] == ["duckdb", "duckdb"]
