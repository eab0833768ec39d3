"""The stages of the scale benchmark (bench/bench_scale.py), each run in a process of its own.

:func:`in_child` runs one stage function in a fresh spawned process and returns its result with
``peak_rss_mb``: the child's own peak resident memory (``getrusage(RUSAGE_SELF)``, read in the
child, so neither the parent nor the sandbox servers a stage starts are counted). A stage that
starts the sandbox also reports the servers' peak as ``server_peak_rss_mb`` (``RUSAGE_CHILDREN``
of the stage's process after the servers were waited for: they are its only children).

Every stage times only its work (``seconds``): loading a world, starting the servers and warming
dbt's parse cache happen before the clock starts.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import resource
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench.bench_dbt_build import ANCHOR, BUILD_VARS, NEW_SHARE, build_commands, load_first, load_increment, split_clock

SEED = 7
FUTURE_HORIZON_S = 3 * 24 * 3600  # the world's rows reach anchor + 3 days
THREADS = 2  # dbt threads, as bench_dbt_build


def _peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux: KiB


def _measured(fn: Callable[..., dict], args: tuple) -> dict:
    result = fn(*args)
    result["peak_rss_mb"] = _peak_mb(resource.RUSAGE_SELF)
    return result


def in_child(fn: Callable[..., dict], *args: Any) -> dict:
    """``fn(*args)`` in a new spawned process (nothing inherited from this one's memory)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_measured, fn, args).result()


def _world_dir(scale: str, cache: Path) -> Path:
    from sandbox.world_cache import write_world

    return write_world(seed=SEED, scale=scale, anchor=ANCHOR, cache_dir=cache)  # cached by the generate stage


def generate(scale: str, cache: Path) -> dict:
    """World generation straight into its Parquet cache (the later stages read it): the generator
    hands each table, and the events cohort by cohort, to the files (sandbox.world_cache.write_world)."""
    import json

    from sandbox.world_cache import MANIFEST

    started = time.perf_counter()
    directory = _world_dir(scale, cache)
    seconds = time.perf_counter() - started
    events = json.loads((directory / MANIFEST).read_text())["row_counts"]["events"]
    size = sum(f.stat().st_size for f in directory.iterdir())
    return {"seconds": seconds, "events": events, "note": f"cache written included, {size / 2**30:.1f} GB on disk"}


def extract(scale: str, cache: Path, work: Path) -> dict:
    """AppSprint events through the product's dlt pipeline over the sandbox HTTP API (Arrow wire),
    as bench_appsprint_extract runs it, into a fresh DuckDB file (``work``, removed afterwards)."""
    from bench.bench_appsprint_extract import run_dlt
    from sandbox.runner import sandbox_processes

    work.mkdir(parents=True, exist_ok=True)
    with sandbox_processes(SEED, scale, ANCHOR, cache_dir=cache, marketing_qps=None) as endpoints:
        endpoints.advance_clock(FUTURE_HORIZON_S)  # every event visible
        seconds, (rows, _), metrics = run_dlt(endpoints, work, "arrow", distinct=False)
    shutil.rmtree(work, ignore_errors=True)  # the extraction's DuckDB file and dlt's load packages
    return {
        "seconds": seconds,
        "server_peak_rss_mb": _peak_mb(resource.RUSAGE_CHILDREN),
        "note": f"{metrics.get('rows_received', 0):,} deliveries, {rows:,} rows loaded",
    }


def load_raw(scale: str, cache: Path, db: Path, increment: bool) -> dict:
    """The raw layer written from the world (bench_dbt_build): load 1, or load 2 (+1%) with
    ``increment``. Setup, not a measured stage; its time and memory are printed as progress."""
    world = _world_dir(scale, cache)
    split = split_clock(world, NEW_SHARE)
    started = time.perf_counter()
    if increment:
        counts, _ = load_increment(db, world, split)
    else:
        counts = load_first(db, world, split)
    return {"seconds": time.perf_counter() - started, "note": f"{counts['events']:,} events loaded"}


def dbt_build(db: Path, target_path: Path, incremental: bool) -> dict:
    """The full build, or the incremental one after load 2 (bench_dbt_build's commands), in this
    process as the product runs dbt (DuckDB included in its memory)."""
    from signal_campaigns.warehouse import run_dbt

    target = ["--target-path", str(target_path)]
    run_dbt(["parse", *target], warehouse=db, vars=BUILD_VARS)  # dbt imported, parse cache warm
    full, incr = build_commands()
    started = time.perf_counter()
    run = run_dbt((incr if incremental else full) + target, warehouse=db, vars=BUILD_VARS, threads=THREADS)
    seconds = time.perf_counter() - started
    costs = sorted(((r.execution_time, r.node.unique_id.split(".")[-1]) for r in run.result.results), reverse=True)
    return {"seconds": seconds, "note": "slowest: " + ", ".join(f"{n} {c:.1f}s" for c, n in costs[:3])}


def forward(scale: str, cache: Path, db: Path) -> dict:
    """Forwarding every eligible event of the built warehouse to the sandbox Events API, ledger
    included (the product's forwarder, default settings)."""
    from sandbox.runner import sandbox_processes
    from signal_campaigns.forwarding import forward_events

    with sandbox_processes(SEED, scale, ANCHOR, cache_dir=cache, marketing_qps=None) as endpoints:
        started = time.perf_counter()
        summary = forward_events(db, base_url=endpoints.tiktok_url, token=endpoints.credentials.events_api_token)
        seconds = time.perf_counter() - started
    done = summary.sent + summary.dead
    return {
        "seconds": seconds,
        "forwarded": done,
        "server_peak_rss_mb": _peak_mb(resource.RUSAGE_CHILDREN),
        "note": f"{summary.sent:,} sent, {summary.dead:,} dead in {summary.batches:,} batches",
    }


def disk_need_bytes(events: int) -> int:
    """What one size takes on disk at its peak, with room for DuckDB's spill: the world cache
    (~170 bytes per event, measured at 30M; its events twice while they are written) beside the
    extraction's files (~175, removed after it) or the built warehouse (~90 raw at 30M, ~250
    built at 10M): counted as 500 per event, plus 2 GB."""
    return events * 500 + 2 * 2**30


def disk_used(directory: Path) -> int:
    """Bytes of the files under ``directory``."""
    return sum(f.stat().st_size for f in directory.rglob("*") if f.is_file()) if directory.exists() else 0


def stamp() -> str:
    return dt.datetime.now().strftime("%H:%M:%S")
