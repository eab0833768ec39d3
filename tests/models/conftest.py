"""Fixtures for the dbt model tests.

The real dlt sources load the sandbox tiny world (``tiny_world``, FIXED_ANCHOR) over HTTP into a
DuckDB file once per session; each test copies that raw warehouse, so builds are independent.
PostgreSQL comes from ``scripts/postgres.sh`` (installs + starts a throwaway cluster); if that is
impossible the PostgreSQL tests FAIL (they never skip).
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXED_ANCHOR

REPO_ROOT = Path(__file__).resolve().parents[2]
# "now" for forwarding decisions in the models: the sandbox clock, not wall time.
DBT_VARS = {"forwarding_now": FIXED_ANCHOR.isoformat()}
DBT_THREADS = 4


# ------------------------------------------------------------------------------------------------
# loading the raw layer with the real pipelines
# ------------------------------------------------------------------------------------------------
def load_raw(
    endpoints,
    world,
    *,
    duckdb_path: Path | None = None,
    postgres_url: str | None = None,
    lake: Path | None = None,
    pipelines_dir: Path,
    now: dt.datetime = FIXED_ANCHOR,
) -> None:
    """Run both dlt sources against the sandbox ``endpoints`` into DuckDB, PostgreSQL (dlt's
    postgres destination) or the Spark target's ``lake`` folder (dlt's filesystem destination),
    same sources, with the product's own extraction step."""
    import dlt

    from sandbox.connection import sandbox_connection
    from signal_campaigns.pipeline import extract

    connection = sandbox_connection(endpoints, world.table("advertisers").column("advertiser_id").to_pylist())
    start = (FIXED_ANCHOR - dt.timedelta(days=60)).date()
    if duckdb_path is not None:
        extract(connection, warehouse=duckdb_path, pipelines_dir=pipelines_dir, now=now, start_date=start)
    elif lake is not None:
        from signal_campaigns.warehouse.spark import lake_destination

        extract(
            connection,
            destination=lake_destination(lake),
            pipelines_dir=pipelines_dir,
            now=now,
            start_date=start,
            pipeline_suffix="_lake",
        )
    else:
        assert postgres_url is not None, "load_raw needs a DuckDB path, a PostgreSQL URL or a lake folder"
        extract(
            connection,
            destination=dlt.destinations.postgres(credentials=postgres_url),
            pipelines_dir=pipelines_dir,
            now=now,
            start_date=start,
            pipeline_suffix="_pg",
        )


def dbt(
    args: list[str],
    *,
    target: str = "duckdb",
    warehouse: Path | None = None,
    vars: dict | None = None,
    target_path: Path | None = None,
    check: bool = True,
):
    from signal_campaigns.warehouse import run_dbt

    full = list(args)
    if target_path is not None:
        full += ["--target-path", str(target_path)]
    return run_dbt(full, target=target, warehouse=warehouse, vars=vars or DBT_VARS, threads=DBT_THREADS, check=check)


def query(db: Path, sql: str, params: Any = None) -> list[tuple]:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params).fetchall()


# ------------------------------------------------------------------------------------------------
# session fixtures
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def raw_warehouse(tiny_world, tmp_path_factory) -> dict[str, Path]:
    """The tiny world loaded by the real pipelines into DuckDB (raw datasets only)."""
    from sandbox.runner import sandbox_in_threads

    root = tmp_path_factory.mktemp("raw")
    db = root / "raw.duckdb"
    with sandbox_in_threads(tiny_world, marketing_qps=None) as endpoints:
        load_raw(endpoints, tiny_world, duckdb_path=db, pipelines_dir=root / "pipelines")
    return {"db": db, "pipelines_dir": root / "pipelines"}


@pytest.fixture(scope="session")
def dbt_target_paths(tmp_path_factory) -> dict[str, Path]:
    """One dbt target dir per adapter (keeps partial parsing valid between invocations)."""
    root = tmp_path_factory.mktemp("dbt_target")
    return {"duckdb": root / "duckdb", "postgres": root / "postgres", "spark": root / "spark"}


@pytest.fixture(scope="session")
def built_duckdb(raw_warehouse, tmp_path_factory, dbt_target_paths):
    """A copy of the raw warehouse after ``dbt build`` (seeds, models, data + unit tests)."""
    db = tmp_path_factory.mktemp("built") / "warehouse.duckdb"
    shutil.copyfile(raw_warehouse["db"], db)
    run = dbt(["build"], warehouse=db, target_path=dbt_target_paths["duckdb"], check=False)
    return {"db": db, "run": run}


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[dict[str, str]]:
    """A throwaway PostgreSQL cluster from scripts/postgres.sh. Fails (never skips) when it cannot start."""
    script = REPO_ROOT / "scripts" / "postgres.sh"
    proc = subprocess.run(["bash", str(script), "start"], capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0:
        pytest.fail(
            f"PostgreSQL could not be installed/started by scripts/postgres.sh:\n{proc.stderr[-3000:]}", pytrace=False
        )
    env: dict[str, str] = {}
    for raw_line in proc.stdout.splitlines():
        line = raw_line.strip()
        if line.startswith("export ") and "=" in line:
            key, _, value = line[len("export ") :].partition("=")
            env[key] = value
    if "SIGNAL_PG_PORT" not in env:
        pytest.fail(f"scripts/postgres.sh printed no connection:\n{proc.stdout}\n{proc.stderr}", pytrace=False)
    try:
        yield env
    finally:
        subprocess.run(
            ["bash", str(script), "stop", env["SIGNAL_PG_DIR"]], capture_output=True, timeout=120, check=False
        )


def postgres_vars(env: dict[str, str]) -> dict[str, str]:
    """The cluster's connection as the dbt vars dbt/profiles.yml reads (its password is a
    placeholder: the cluster trusts loopback connections)."""
    return {
        "pg_host": env["SIGNAL_PG_HOST"],
        "pg_port": env["SIGNAL_PG_PORT"],
        "pg_user": env["SIGNAL_PG_USER"],
        "pg_dbname": env["SIGNAL_PG_DBNAME"],
    }


def postgres_url(env: dict[str, str]) -> str:
    return (
        f"postgresql://{env['SIGNAL_PG_USER']}:{env['SIGNAL_PG_PASSWORD']}@{env['SIGNAL_PG_HOST']}:"
        f"{env['SIGNAL_PG_PORT']}/{env['SIGNAL_PG_DBNAME']}"
    )


@pytest.fixture(scope="session")
def built_postgres(tiny_world, postgres_server, tmp_path_factory, dbt_target_paths):
    """The same raw data loaded into PostgreSQL with dlt's postgres destination, then ``dbt build``."""
    from sandbox.runner import sandbox_in_threads

    root = tmp_path_factory.mktemp("pg")
    with sandbox_in_threads(tiny_world, marketing_qps=None) as endpoints:
        load_raw(endpoints, tiny_world, postgres_url=postgres_url(postgres_server), pipelines_dir=root / "pipelines")
    run = dbt(
        ["build"],
        target="postgres",
        vars={**DBT_VARS, **postgres_vars(postgres_server)},
        target_path=dbt_target_paths["postgres"],
        check=False,
    )
    return {"env": postgres_server, "run": run}


def pg_query(env: dict[str, str], sql: str) -> list[tuple]:
    import psycopg2

    con = psycopg2.connect(
        host=env["SIGNAL_PG_HOST"],
        port=int(env["SIGNAL_PG_PORT"]),
        user=env["SIGNAL_PG_USER"],
        password=env["SIGNAL_PG_PASSWORD"],
        dbname=env["SIGNAL_PG_DBNAME"],
    )
    try:
        with con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        con.close()
