"""Benchmark: the dbt build of the Signal Campaign models on Spark beside DuckDB, on the same raw data.

The world's raw layer is written once as bench/bench_dbt_build.py writes it (the exact tables the
dlt sources load, straight from the World's Arrow tables: extracting millions of events through the
sandbox API would time the extractor), every row visible at the anchor in one load. DuckDB builds it
in its warehouse file; the same tables are then written to a lake folder in the layout dlt's
filesystem destination writes (``<dataset>/<table>/<load id>.<file id>.parquet``, the load in
``_dlt_loads``, dlt's schema in ``_dlt_version``: taken from a real extraction of the tiny sandbox
world, so the Spark target registers the tables exactly as after a real load), and Spark builds
that with ``dbt build --target spark`` (docs/targets.md). Both builds are the full build of seeds and
models (``--full-refresh --resource-type seed --resource-type model``); parsing is done before timing.

Prints each build's time, its cost per million events, and the nodes that cost the most; run it at
two scales to see how the cost per million events changes from 1M to 10M events.

    .venv/bin/python -m bench.bench_spark_build [--scale 1m] [--threads 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

from bench.bench_dbt_build import ANCHOR, BUILD_VARS, ROOT, build_commands, load_first, load_id

DATASETS = ("appsprint", "tiktok_ads")


def dlt_schemas(workdir: Path) -> Path:
    """A lake written by the product's own extraction of the tiny sandbox world: its ``_dlt_version``
    folders hold dlt's schemas of both datasets (columns, types, keys, merge hints)."""
    from sandbox.connection import sandbox_connection
    from sandbox.generate import generate_world
    from sandbox.runner import sandbox_in_threads
    from signal_campaigns.pipeline import extract
    from signal_campaigns.warehouse.spark import lake_destination

    world = generate_world(seed=7, scale="tiny", anchor=ANCHOR)
    lake = workdir / "schema_lake"
    with sandbox_in_threads(world, marketing_qps=None) as endpoints:
        connection = sandbox_connection(endpoints, world.table("advertisers").column("advertiser_id").to_pylist())
        extract(
            connection,
            destination=lake_destination(lake),
            pipelines_dir=workdir / "pipelines",
            now=ANCHOR,
            start_date=(ANCHOR - dt.timedelta(days=60)).date(),
        )
    return lake


def write_lake(db: Path, lake: Path, schemas: Path, lid: str) -> None:
    """Every raw table of the DuckDB warehouse ``db`` as one Parquet file of load ``lid`` in the lake,
    that load recorded as completed, and dlt's schemas beside them."""
    with duckdb.connect(str(db), read_only=True) as con:
        for dataset in DATASETS:
            shutil.copytree(schemas / dataset / "_dlt_version", lake / dataset / "_dlt_version")
            loads = lake / dataset / "_dlt_loads"
            loads.mkdir(parents=True)
            row = {"load_id": lid, "schema_name": dataset, "status": 0, "inserted_at": ANCHOR.isoformat()}
            (loads / f"{dataset}__{lid}.jsonl").write_text(json.dumps(row) + "\n")
            tables = con.execute(
                "select table_name from information_schema.tables where table_schema = ? order by 1", [dataset]
            ).fetchall()
            for (table,) in tables:
                columns = con.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = ? and table_name = ? order by ordinal_position",
                    [dataset, table],
                ).fetchall()
                # JSON columns are text in the lake, as dlt writes them
                select = ", ".join(
                    f'cast("{name}" as varchar) as "{name}"' if kind == "JSON" else f'"{name}"'
                    for name, kind in columns
                )
                folder = lake / dataset / table
                folder.mkdir(parents=True)
                con.execute(
                    f"copy (select {select} from {dataset}.{table}) to '{folder / f'{lid}.bench.parquet'}' (format parquet)"
                )


def timed_build(label: str, args: list[str], **kwargs: Any) -> tuple[float, Any]:
    from signal_campaigns.warehouse import run_dbt

    started = time.perf_counter()
    run = run_dbt(args, vars=BUILD_VARS, **kwargs)
    return time.perf_counter() - started, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="1m", help="sandbox scale (tiny | demo | 1m | 10m)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workdir", default=None, help="keep the warehouse, lake and Spark home here")
    args = parser.parse_args(argv)

    from sandbox.world_cache import MANIFEST, write_world

    world = write_world(seed=7, scale=args.scale, anchor=ANCHOR, cache_dir=ROOT / "data" / "sandbox")
    events = json.loads((world / MANIFEST).read_text())["row_counts"]["events"]
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="bench_spark_"))
    workdir.mkdir(parents=True, exist_ok=True)
    # this benchmark's own Spark home and lake (a Derby metastore is opened by one process at a time)
    os.environ["SIGNAL_SPARK_DIR"] = str(workdir / "spark")
    os.environ["SIGNAL_LAKE_PATH"] = str(workdir / "lake")
    db = workdir / "warehouse.duckdb"
    full_build, _ = build_commands()
    try:
        load_first(db, world, ANCHOR)
        write_lake(db, workdir / "lake", dlt_schemas(workdir), load_id(ANCHOR))
        builds = {}
        for target in ("duckdb", "spark"):
            where = {"warehouse": db} if target == "duckdb" else {}
            paths = ["--target-path", str(workdir / f"target_{target}")]
            timed_build(target, ["parse", *paths], target=target, **where)
            builds[target] = timed_build(target, [*full_build, *paths], target=target, threads=args.threads, **where)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)

    print(
        f"dbt build on Spark beside DuckDB: scale {args.scale}, {events:,} event rows, {args.threads} threads, "
        f"{os.cpu_count()} cores (Spark local mode, {os.environ.get('SIGNAL_SPARK_MASTER') or 'local[2]'})"
    )
    print(f"{'target':<8} {'full build':>11} {'s per 1M events':>16}")
    for target, (seconds, _) in builds.items():
        print(f"{target:<8} {seconds:>9.1f} s {seconds / (events / 1e6):>16.1f}")
    spark_s, duck_s = builds["spark"][0], builds["duckdb"][0]
    print(f"spark / duckdb: {spark_s / duck_s:.1f}x   full build: dbt {' '.join(full_build)}")
    for target, (_, run) in builds.items():
        costs = sorted(
            ((r.execution_time, r.node.unique_id.split(".", 2)[-1]) for r in run.result.results), reverse=True
        )
        print(f"{target} top nodes: " + ", ".join(f"{n} {c:.1f}" for c, n in costs[:8]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
