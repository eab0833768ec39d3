"""Fixtures of the Spark target's run side: a Spark metastore and lake of the test's own (never the
repository's data/spark), and a Spark build's forwarding queue in it.

The queue is the DuckDB build's ``events_to_forward`` of the tiny sandbox world (tests/models'
fixtures), written to Parquet and registered on Spark by a child process
(:mod:`tests.spark_run.spark_tables`): the test process never opens Spark itself, so the metastore
is free for the forwarder's own Spark reader."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from tests.models.conftest import built_duckdb, dbt_target_paths, raw_warehouse  # noqa: F401 - fixtures

REPO = Path(__file__).resolve().parents[2]


def register_spark_queue(rows_parquet: Path) -> int:
    """Register the Parquet file as the Spark build's ``events_to_forward``; its row count."""
    proc = subprocess.run(
        [sys.executable, "-m", "tests.spark_run.spark_tables", str(rows_parquet)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return int(proc.stdout.strip().splitlines()[-1])


@pytest.fixture
def spark_env(tmp_path, monkeypatch) -> Path:
    """The Spark target with this test's own metastore and lake (inherited by child processes)."""
    monkeypatch.setenv("SIGNAL_DBT_TARGET", "spark")
    monkeypatch.setenv("SIGNAL_SPARK_DIR", str(tmp_path / "spark"))
    monkeypatch.setenv("SIGNAL_LAKE_PATH", str(tmp_path / "lake"))
    monkeypatch.setenv("SIGNAL_SPARK_SCHEMA", "signal_campaigns")
    return tmp_path


@pytest.fixture
def spark_queue(spark_env, built_duckdb) -> pa.Table:  # noqa: F811 - the imported fixture
    """The DuckDB build's queue, registered as the Spark build's ``events_to_forward``."""
    parquet = spark_env / "queue.parquet"
    with duckdb.connect(str(built_duckdb["db"]), read_only=True) as con:
        con.execute(f"COPY main.events_to_forward TO '{parquet}' (FORMAT parquet)")
        rows = con.sql("SELECT * FROM main.events_to_forward ORDER BY event_id").to_arrow_table()
    assert register_spark_queue(parquet) == rows.num_rows > 0
    return rows


def serving_file(spark_env: Path) -> Path:
    """The DuckDB file that serves the Spark build (created by the forwarder's first run)."""
    return spark_env / "serving.duckdb"
