"""Fixtures for the Spark target's tests (docs/targets.md).

The tiny sandbox world is landed by the product's own extraction in a lake folder (dlt's filesystem
destination, Parquet) and built with ``dbt build --target spark`` (dbt-spark's session method, PySpark
in local mode in this process); the DuckDB build it is compared with is tests/models' session
fixture ``built_duckdb``. The Spark home (Derby metastore, managed tables) and the lake are this
session's own, under pytest's temporary folder. When Java or PySpark is missing the tests FAIL with
what to run (they never skip).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from signal_campaigns.warehouse.spark import INSTALL_FIX, LAKE_ENV, SPARK_DIR_ENV, spark_schema
from tests.models import conftest as models
from tests.models.conftest import dbt, load_raw

# tests/models' session fixtures: the raw DuckDB warehouse and its build, which Spark's is compared with
raw_warehouse = models.raw_warehouse
built_duckdb = models.built_duckdb
dbt_target_paths = models.dbt_target_paths

MARTS_DIR = Path(__file__).resolve().parents[2] / "dbt" / "models" / "marts"


def public_marts() -> list[str]:
    """Every model of dbt/models/marts (the public contract)."""
    return sorted(path.stem for path in MARTS_DIR.glob("*.sql"))


def java_problem() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "PySpark is not installed in this virtualenv."
    java = shutil.which("java")
    if java is None:
        return "No `java` on the PATH (Spark runs in a JVM)."
    version = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    return None if version else f"`{java} -version` printed nothing."


@pytest.fixture(scope="session")
def spark_home(tmp_path_factory) -> Iterator[dict[str, Path]]:
    """This session's Spark home and lake (env SIGNAL_SPARK_DIR, SIGNAL_LAKE_PATH). Fails when the
    Spark target's extras are missing."""
    if problem := java_problem():
        pytest.fail(f"{problem} {INSTALL_FIX}", pytrace=False)
    root = tmp_path_factory.mktemp("spark")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SPARK_DIR_ENV, str(root / "home"))
        patch.setenv(LAKE_ENV, str(root / "lake"))
        yield {"root": root, "home": root / "home", "lake": root / "lake", "pipelines": root / "pipelines"}


@pytest.fixture(scope="session")
def built_spark(tiny_world, spark_home, dbt_target_paths):
    """The tiny world landed in the lake by the real pipelines, then ``dbt build --target spark``
    (seeds, models, data and unit tests)."""
    from sandbox.runner import sandbox_in_threads

    with sandbox_in_threads(tiny_world, marketing_qps=None) as endpoints:
        load_raw(endpoints, tiny_world, lake=spark_home["lake"], pipelines_dir=spark_home["pipelines"])
    run = dbt(["build"], target="spark", target_path=dbt_target_paths["spark"], check=False)
    return {**spark_home, "run": run}


def spark_rows(sql: str) -> tuple[list[str], list[tuple]]:
    """Column names and rows of a query on the session dbt opened in this process (no settings
    given: they would overwrite the session's runtime settings)."""
    from pyspark.sql import SparkSession

    frame = SparkSession.builder.getOrCreate().sql(sql)
    return frame.columns, [tuple(row) for row in frame.collect()]


def duckdb_rows(db: Path, sql: str) -> tuple[list[str], list[tuple]]:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute(sql)
        return [d[0] for d in cursor.description], cursor.fetchall()


def normalise(rows: list[tuple]) -> list[tuple]:
    """Rows comparable across databases, as tests/models/test_postgres_build.py compares them:
    doubles to 9 decimals, decimals without trailing zeros, instants in UTC (PySpark gives naive
    local times, DuckDB aware ones), sorted."""

    def value(v: Any) -> Any:
        if isinstance(v, float):
            return round(v, 9)
        if isinstance(v, Decimal):
            return v.normalize()
        if isinstance(v, dt.datetime):
            return v.astimezone(dt.UTC)
        return v

    return sorted((tuple(value(v) for v in row) for row in rows), key=repr)


def assert_marts_equal(duckdb_path: Path) -> int:
    """Every row and column of every public mart on Spark equals the DuckDB build; returns the
    number of rows compared."""
    compared = 0
    for mart in public_marts():
        spark_columns, spark = spark_rows(f"select * from {spark_schema()}.{mart}")
        duck_columns, duck = duckdb_rows(duckdb_path, f"select * from main.{mart}")
        assert spark_columns == duck_columns, mart
        left, right = normalise(spark), normalise(duck)
        only_spark = [r for r in left if r not in right][:3]
        only_duckdb = [r for r in right if r not in left][:3]
        assert left == right, (
            f"{mart}: {len(left)} rows on Spark, {len(right)} on DuckDB; only on Spark {only_spark}; only on DuckDB {only_duckdb}"
        )
        compared += len(left)
    return compared
