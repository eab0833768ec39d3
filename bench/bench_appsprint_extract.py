"""Benchmark: AppSprint events from the sandbox API into DuckDB with dlt, vs DuckDB's own JSON ingest.

    .venv/bin/python -m bench.bench_appsprint_extract [--scale 1m] [--seed 7] [--strict]

1. Starts the sandbox as separate processes (``sandbox_processes``), moves its clock to the end of
   the world so every event is visible (~1,000,000 at scale ``1m``).
2. Times ``pipeline.run(appsprint(resources=["events"]))`` into a fresh DuckDB file: HTTP paging +
   typing to Arrow + dlt extract/normalize/load (events append, one row per delivery) -- end to
   end -- once with the Arrow wire format (``wire="arrow"``, the default: Arrow IPC pages) and
   once with JSON pages (``wire="json"``, what a server without Arrow support gives), each into
   its own file.
3. Fetches the same pages again as JSON, times that alone (what the server can deliver), and
   writes the rows as NDJSON files; then times DuckDB's own
   ``CREATE TABLE AS SELECT * FROM read_json(...)`` of those files into another fresh DuckDB file.

Prints events/s, the NDJSON baseline, the ratio, the wire format each run actually got (pages per
format) and the phases: waiting for pages (fetch), typing/validating to Arrow, dlt's own extract
work (writing Parquet), normalize, load; and CPU seconds beside the baseline's (a figure other
load on a shared machine inflates less than wall time).

Targets (Arrow wire): >= 150,000 events/s end to end, and dlt time / DuckDB NDJSON time <= 4.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import dlt
import duckdb
import httpx
import orjson

from dlt_sources.appsprint import appsprint, configure_pipeline
from signal_campaigns.warehouse import duckdb_destination

TARGET_EVENTS_PER_S = 150_000
TARGET_RATIO = 4.0
ANCHOR = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)  # fixed: reuse the cached world
FUTURE_HORIZON_S = 3 * 24 * 3600  # the world's rows reach anchor + 3 days


@contextlib.contextmanager
def sandbox(seed: int, scale: str):
    from sandbox.runner import sandbox_processes

    started = time.perf_counter()
    with sandbox_processes(seed=seed, scale=scale, anchor=ANCHOR) as endpoints:
        print(f"sandbox ({scale}) ready in {time.perf_counter() - started:.1f}s at {endpoints.appsprint_api_url}")
        yield endpoints


def run_dlt(endpoints, work: Path, wire: str, distinct: bool = True) -> tuple[float, tuple[int, int | None], dict]:
    """The product's AppSprint extraction of ``/events`` into a fresh DuckDB file: (seconds, (rows
    loaded, distinct event ids or None without ``distinct``), the resource's metrics)."""
    creds = endpoints.credentials
    db = work / f"dlt_warehouse_{wire}.duckdb"
    pipeline = dlt.pipeline(
        pipeline_name=f"bench_appsprint_{wire}",
        destination=duckdb_destination(db),
        dataset_name="appsprint",
        pipelines_dir=str(work / "pipelines"),
    )
    configure_pipeline(pipeline)
    src = appsprint(
        base_url=endpoints.appsprint_api_url,
        app_id=creds.appsprint_app_id,
        export_token=creds.appsprint_export_token,
        resources=["events"],
        wire=wire,
    )
    cpu0 = cpu_seconds()
    started = time.perf_counter()
    info = pipeline.run(src)
    elapsed = time.perf_counter() - started
    cpu1 = cpu_seconds()
    info.raise_on_failed_jobs()
    # the distinct count is a hash table of every id (~10 GB at 100M events, and DuckDB cannot spill
    # it): the scale bench, which reports this process's peak as the extraction's, goes without
    sql = "select count(*), " + ("count(distinct event_id)" if distinct else "null") + " from appsprint.events"
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute(sql).fetchone()
    assert row is not None
    loaded = (int(row[0]), None if row[1] is None else int(row[1]))
    metrics = dict(src.resources["events"].custom_metrics)
    trace = pipeline.last_trace
    assert trace is not None
    # CPU of this process (all threads, DuckDB included): a measure the other load on a shared
    # machine does not inflate as much as wall time
    metrics["cpu_s"] = cpu1 - cpu0
    metrics["steps"] = {step.step: (step.finished_at - step.started_at).total_seconds() for step in trace.steps}
    return elapsed, loaded, metrics


def dump_ndjson(endpoints, out_dir: Path, rows_per_file: int = 100_000) -> tuple[float, int]:
    """Fetch every page of /events (timed: the server's own pace) and write rows as NDJSON."""
    creds = endpoints.credentials
    url = f"{endpoints.appsprint_api_url}/apps/{creds.appsprint_app_id}/events"
    bodies: list[bytes] = []
    with httpx.Client(headers={"Authorization": f"Bearer {creds.appsprint_export_token}"}, timeout=60) as client:
        cursor = None
        started = time.perf_counter()
        while True:
            params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
            resp = client.get(url, params=params)
            resp.raise_for_status()
            bodies.append(resp.content)
            cursor = orjson.loads(resp.content)["meta"]["next_cursor"]
            if not cursor:
                break
        fetch_s = time.perf_counter() - started
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = (row for body in bodies for row in orjson.loads(body)["data"])
    n = 0
    while chunk := list(itertools.islice(rows, rows_per_file)):
        with open(out_dir / f"events_{n // rows_per_file:04d}.ndjson", "wb") as f:
            for row in chunk:
                f.write(orjson.dumps(row))
                f.write(b"\n")
        n += len(chunk)
    return fetch_s, n


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_duckdb_ndjson(ndjson_dir: Path, work: Path) -> tuple[float, int, float]:
    db = work / "duckdb_ndjson.duckdb"
    cpu0 = cpu_seconds()
    started = time.perf_counter()
    with duckdb.connect(str(db)) as con:
        con.execute(
            "CREATE TABLE events AS SELECT * FROM read_json(?, format='newline_delimited')",
            [str(ndjson_dir / "*.ndjson")],
        )
    elapsed = time.perf_counter() - started  # the file closed: checkpoint included, as for dlt
    cpu = cpu_seconds() - cpu0
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute("select count(*) from events").fetchone()
    assert row is not None
    n = int(row[0])
    return elapsed, n, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="1m")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--workdir", default=None, help="keep files here instead of a temp dir")
    parser.add_argument(
        "--wires",
        nargs="+",
        default=["arrow", "json"],
        choices=["arrow", "json"],
        help="wire formats to run, the first is the one checked against the targets",
    )
    args = parser.parse_args(argv)

    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="bench_appsprint_"))
    work.mkdir(parents=True, exist_ok=True)
    runs: dict[str, tuple[float, tuple[int, int | None], dict]] = {}
    try:
        with sandbox(args.seed, args.scale) as endpoints:
            httpx.post(
                f"{endpoints.appsprint_url}/_sandbox/clock", json={"advance_seconds": FUTURE_HORIZON_S}, timeout=10
            ).raise_for_status()
            for wire in args.wires:
                runs[wire] = run_dlt(endpoints, work, wire)
            fetch_s, served = dump_ndjson(endpoints, work / "ndjson")
        duck_s, duck_rows, duck_cpu = run_duckdb_ndjson(work / "ndjson", work)
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)

    w = 50
    ok = True
    server_eps = served / fetch_s if fetch_s else 0.0
    print()
    print(f"{'DuckDB read_json NDJSON ingest (baseline), s':<{w}} {duck_s:>12.2f}  ({duck_rows:,} rows)")
    print(f"{'  its CPU (all threads), s':<{w}} {duck_cpu:>12.2f}")
    print(f"{'server alone: fetch every JSON page, s':<{w}} {fetch_s:>12.2f}  ({server_eps:,.0f} events/s)")
    for wire, (dlt_s, loaded, metrics) in runs.items():
        received = metrics.get("rows_received", 0)
        eps = received / dlt_s if dlt_s else 0.0
        ratio = dlt_s / duck_s if duck_s else float("inf")
        ok_eps, ok_ratio = eps >= TARGET_EVENTS_PER_S, ratio <= TARGET_RATIO
        if wire == args.wires[0]:
            ok = ok_eps and ok_ratio
        steps = metrics.get("steps", {})
        waited = metrics.get("waited_for_pages_s", 0.0)
        typing = metrics.get("typing_s", 0.0)
        by_wire = ", ".join(f"{k}: {v:,}" for k, v in sorted(metrics.get("pages_by_wire", {}).items()))
        print()
        print(f"{'AppSprint events -> DuckDB, asked wire=' + wire:<{w}} {'value':>12}  target")
        print("-" * (w + 24))
        print(f"{'pages received by wire format':<{w}} {by_wire:>12}")
        print(f"{'events served (API deliveries)':<{w}} {received:>12,}")
        print(f"{'rows in appsprint.events (one per delivery)':<{w}} {loaded[0]:>12,}")
        print(f"{'  distinct event_id (rows of stg_appsprint__events)':<{w}} {loaded[1]:>12,}")
        print(f"{'dlt end to end (HTTP+typing+load), s':<{w}} {dlt_s:>12.2f}")
        print(f"{'  events/s':<{w}} {eps:>12,.0f}  >= {TARGET_EVENTS_PER_S:,} {'OK' if ok_eps else 'MISSED'}")
        print(
            f"{'  ratio to the NDJSON baseline':<{w}} {ratio:>12.2f}  <= {TARGET_RATIO:g} {'OK' if ok_ratio else 'MISSED'}"
        )
        print(f"{'  phase: fetch (waiting for pages), s':<{w}} {waited:>12.2f}")
        print(f"{'  phase: parse + validate to Arrow, s':<{w}} {typing:>12.2f}")
        if "extract" in steps:
            own = max(0.0, steps["extract"] - waited - typing)
            print(f"{'  phase: dlt extract (Parquet writing etc.), s':<{w}} {own:>12.2f}")
        for step in ("normalize", "load"):
            if step in steps:
                print(f"{'  phase: dlt ' + step + ', s':<{w}} {steps[step]:>12.2f}")
        print(f"{'  quarantined rows':<{w}} {metrics.get('quarantined', 0):>12,}")
        cpu = metrics.get("cpu_s", 0.0)
        print(
            f"{'  client CPU (all threads), s':<{w}} {cpu:>12.2f}  "
            f"({cpu / duck_cpu if duck_cpu else 0:.2f} x the baseline's CPU)"
        )
    try:
        load1, _, _ = os.getloadavg()
        print(f"\n{'machine load average (1 min) at the end':<{w}} {load1:>12.2f}  ({os.cpu_count()} cores)")
    except OSError:
        pass
    if args.strict and not ok:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
