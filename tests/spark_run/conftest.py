"""Fixtures of the Spark target's run side: a Spark metastore and lake of the test's own (never the
repository's data/spark), and a Spark build's forwarding queue in it.

The queue is the DuckDB build's ``events_to_forward`` of the tiny sandbox world (tests/models'
fixtures) and its other marts, written to Parquet and registered on Spark by a child process
(:mod:`tests.spark_run.spark_tables`): the test process never opens Spark itself, so the metastore
is free for the forwarder's own Spark reader."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from tests.conftest import run_module
from tests.models.conftest import built_duckdb, dbt_target_paths, raw_warehouse  # noqa: F401 - fixtures

REPO = Path(__file__).resolve().parents[2]


def register_spark_relations(spec: list[dict], folder: Path) -> dict[str, int]:
    """Register relations as a Spark build's (:mod:`tests.spark_run.spark_tables`); rows of each."""
    spec_path = folder / "spark_relations.json"
    spec_path.write_text(json.dumps(spec))
    out = run_module("tests.spark_run.spark_tables", str(spec_path))
    return {line.split()[0]: int(line.split()[1]) for line in out.strip().splitlines()}


def public_relations(db: Path) -> list[tuple[str, bool, str | None]]:
    """The public marts of a DuckDB build: (name, is a view, comment)."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "SELECT table_name, table_type = 'VIEW', (SELECT comment FROM duckdb_tables() t WHERE "
            "t.database_name = current_database() AND t.schema_name = 'main' AND t.table_name = i.table_name "
            "UNION ALL SELECT comment FROM duckdb_views() v WHERE v.database_name = current_database() AND "
            "v.schema_name = 'main' AND v.view_name = i.table_name) FROM information_schema.tables i "
            "WHERE table_schema = 'main' AND table_catalog = current_database() ORDER BY 1"
        ).fetchall()


def spark_build_of(db: Path, folder: Path, names: list[str] | None = None) -> dict[str, int]:
    """The DuckDB build's marts (all, or ``names``) registered as the Spark build's, with their
    comments; rows of each."""
    spec = []
    with duckdb.connect(str(db), read_only=True) as con:
        for name, is_view, comment in public_relations(db):
            if names is not None and name not in names:
                continue
            parquet = folder / f"{name}.parquet"
            con.execute(f"COPY main.{name} TO '{parquet}' (FORMAT parquet)")
            columns = dict(
                con.execute(
                    "SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = 'main' "
                    "AND table_name = ? AND comment IS NOT NULL",
                    [name],
                ).fetchall()
            )
            spec.append(
                {"name": name, "parquet": str(parquet), "view": is_view, "comment": comment, "columns": columns}
            )
    return register_spark_relations(spec, folder)


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
    db = built_duckdb["db"]
    rows = spark_build_of(db, spark_env, ["events_to_forward"])
    with duckdb.connect(str(db), read_only=True) as con:
        queue = con.sql("SELECT * FROM main.events_to_forward ORDER BY event_id").to_arrow_table()
    assert rows == {"events_to_forward": queue.num_rows} and queue.num_rows > 0
    return queue


def serving_file(spark_env: Path) -> Path:
    """The DuckDB file that serves the Spark build (created by the forwarder's first run)."""
    return spark_env / "serving.duckdb"
