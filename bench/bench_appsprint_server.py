"""Benchmark: how fast the sandbox AppSprint export API serves events.

The server runs in a separate process (its own core and GIL, uvicorn + uvloop + httptools, as in
``make demo``) on a world of 1,000,000 events; this process reads every event with httpx in
1,000-row pages, following ``meta.next_cursor``, and prints rows/s, pages/s, bytes/s, page latency
and the server's startup time.

Requirement (the sandbox must never be the bottleneck of extraction benchmarks): at
least 100,000 rows/s on a 2-core machine. Two figures are printed: the end-to-end rows/s (wall
clock, client included: it depends on everything else running on the machine) and the server's
capacity, rows per CPU-second the server process used (independent of the client and of other
load). The script exits with status 1 when a row is missing or out of order, or when the server's
capacity is below the requirement; an end-to-end figure below it on a busy machine (load average
above the core count) is reported as a warning.

    .venv/bin/python -m bench.bench_appsprint_server [--scale 1m] [--seed 7] [--limit 1000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib
import multiprocessing as mp
import os
import statistics
import sys
import time
from multiprocessing.process import BaseProcess
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]

ANCHOR = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
REQUIRED_ROWS_PER_SECOND = 100_000


def load_world(seed: int, scale: str, anchor: dt.datetime, cache_dir: str):
    """The benchmark world: from the sandbox world cache when there is one (fast), else generated."""
    try:
        from sandbox.world_cache import load_or_generate
    except ImportError:  # pragma: no cover - the cache module is optional
        from sandbox.generate import generate_world

        return generate_world(seed=seed, scale=scale, anchor=anchor)
    return load_or_generate(seed=seed, scale=scale, anchor=anchor, cache_dir=Path(cache_dir))


def _serve(conn, loader: str, seed: int, scale: str, anchor_iso: str, cache_dir: str, host: str, port: int) -> None:
    """Child process: load the world, build the app (timed), report, serve until terminated."""
    import uvicorn

    from sandbox.appsprint_server import create_appsprint_app

    module_name, func_name = loader.split(":")
    load = getattr(importlib.import_module(module_name), func_name)
    t0 = time.perf_counter()
    world = load(seed, scale, dt.datetime.fromisoformat(anchor_iso), cache_dir)
    load_seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    app = create_appsprint_app(world)
    app_seconds = time.perf_counter() - t1
    conn.send(
        {
            "load_seconds": load_seconds,
            "app_seconds": app_seconds,
            "events": world.table("events").num_rows,
            "app_id": world.credentials.appsprint_app_id,
            "token": world.credentials.appsprint_export_token,
            "horizon_seconds": world.future_horizon.total_seconds(),
        }
    )
    conn.close()
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        loop="uvloop",
        http="httptools",
    )


def _wait_ready(url: str, proc: BaseProcess, timeout: float = 30.0) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if not proc.is_alive():
            raise RuntimeError("server process died")
        try:
            if httpx.get(f"{url}/_sandbox/clock", timeout=1).status_code == 200:
                return time.perf_counter() - t0
        except httpx.TransportError:
            time.sleep(0.02)
    raise TimeoutError(f"server at {url} not ready after {timeout}s")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def read_all(url: str, app_id: str, token: str, limit: int, server_pid: int) -> dict:
    """Read every visible event, following next_cursor; return counts and timings. The client
    pauses its garbage collector while reading (every page is freed before the next; a cyclic
    collection per few pages would only measure the client)."""
    latencies: list[float] = []
    rows = pages = nbytes = 0
    last_key: tuple[str, str] | None = None
    in_order = True
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        params: dict[str, str | int] = {"limit": limit}
        gc.disable()
        server_cpu0, client_cpu0 = process_cpu_seconds(server_pid), time.process_time()
        t0 = time.perf_counter()
        while True:
            p0 = time.perf_counter()
            response = client.get(f"/v1/apps/{app_id}/events", params=params)
            body = response.content
            latencies.append(time.perf_counter() - p0)
            response.raise_for_status()
            page = orjson.loads(body)
            data = page["data"]
            if data:
                first = (data[0]["updated_at"], data[0]["event_id"])
                if last_key is not None and first <= last_key:
                    in_order = False
                last_key = (data[-1]["updated_at"], data[-1]["event_id"])
            rows += len(data)
            pages += 1
            nbytes += len(body)
            cursor = page["meta"]["next_cursor"]
            if cursor is None:
                break
            params = {"limit": limit, "cursor": cursor}
        seconds = time.perf_counter() - t0
        server_cpu = process_cpu_seconds(server_pid) - server_cpu0
        client_cpu = time.process_time() - client_cpu0
        gc.enable()
    latencies.sort()
    return {
        "rows": rows,
        "pages": pages,
        "bytes": nbytes,
        "seconds": seconds,
        "in_order": in_order,
        "server_cpu": server_cpu,
        "client_cpu": client_cpu,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
    }


def main(argv: list[str] | None = None, loader: str = f"{__name__}:load_world") -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="1m", help="world scale (1m = 1,000,000 events)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--limit", type=int, default=1000, help="rows per page")
    parser.add_argument("--cache-dir", default=os.environ.get("SIGNAL_SANDBOX_CACHE", str(ROOT / "data" / "sandbox")))
    args = parser.parse_args(argv)

    from sandbox.serving import free_port

    host, port = "127.0.0.1", free_port()
    url = f"http://{host}:{port}"
    ctx = mp.get_context("spawn")
    parent_conn, child_conn = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_serve,
        args=(child_conn, loader, args.seed, args.scale, ANCHOR.isoformat(), args.cache_dir, host, port),
        daemon=True,
    )
    print(
        f"Starting the AppSprint sandbox server (scale={args.scale}, seed={args.seed}) in a child process...",
        flush=True,
    )
    proc.start()
    server_pid = proc.pid
    assert server_pid is not None  # set once started
    try:
        if not parent_conn.poll(1800):
            raise TimeoutError("the server did not load its world within 30 minutes")
        info = parent_conn.recv()
        ready_seconds = _wait_ready(url, proc)
        # Make every row of the world visible: move the clock past the last planned update.
        httpx.post(f"{url}/_sandbox/clock", json={"advance_seconds": info["horizon_seconds"] + 1}, timeout=10)
        httpx.get(
            f"{url}/v1/apps/{info['app_id']}/events",
            params={"limit": 1},
            headers={"Authorization": f"Bearer {info['token']}"},
            timeout=30,
        ).raise_for_status()
        result = read_all(url, info["app_id"], info["token"], args.limit, server_pid)
    finally:
        proc.terminate()
        proc.join(timeout=10)
        if proc.is_alive():
            proc.kill()

    rows_s = result["rows"] / result["seconds"]
    table = [
        ("world events", f"{info['events']:,}"),
        ("world load (cache or generate)", f"{info['load_seconds']:.2f} s"),
        ("server startup (create_appsprint_app)", f"{info['app_seconds']:.2f} s"),
        ("uvicorn ready after", f"{ready_seconds:.2f} s"),
        ("events read", f"{result['rows']:,} in {result['pages']:,} pages of {args.limit}"),
        ("wall time", f"{result['seconds']:.2f} s"),
        ("rows/s", f"{rows_s:,.0f}"),
        ("pages/s", f"{result['pages'] / result['seconds']:,.1f}"),
        (
            "bytes/s",
            (
                f"{result['bytes'] / result['seconds'] / 1e6:,.1f} MB/s "
                f"({result['bytes'] / max(result['rows'], 1):.0f} B/row)"
            ),
        ),
        ("page latency p50 / p99", f"{result['p50_ms']:.2f} / {result['p99_ms']:.2f} ms"),
        ("server CPU per page", f"{1000 * result['server_cpu'] / result['pages']:.2f} ms"),
        ("server capacity (rows per server CPU-second)", f"{result['rows'] / max(result['server_cpu'], 1e-9):,.0f}"),
        ("client CPU per page (httpx + orjson.loads)", f"{1000 * result['client_cpu'] / result['pages']:.2f} ms"),
        ("machine load average (1 min) after the run", f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"),
        ("ascending (updated_at, id) across pages", "yes" if result["in_order"] else "NO"),
    ]
    width = max(len(name) for name, _ in table)
    print()
    print(f"{'AppSprint sandbox server':<{width}} | value")
    print(f"{'-' * width}-+-{'-' * 34}")
    for name, value in table:
        print(f"{name:<{width}} | {value}")
    ok = True
    if result["rows"] != info["events"]:
        print(f"FAIL: read {result['rows']:,} rows, the world has {info['events']:,}")
        ok = False
    if not result["in_order"]:
        print("FAIL: pages out of order")
        ok = False
    capacity = result["rows"] / max(result["server_cpu"], 1e-9)
    if capacity < REQUIRED_ROWS_PER_SECOND:
        print(f"FAIL: the server needs {capacity:,.0f} rows per CPU-second < {REQUIRED_ROWS_PER_SECOND:,}")
        ok = False
    if rows_s >= REQUIRED_ROWS_PER_SECOND:
        print(f"OK: {rows_s:,.0f} rows/s end to end (>= {REQUIRED_ROWS_PER_SECOND:,})")
    else:
        busy = os.getloadavg()[0] > (os.cpu_count() or 1)
        print(
            f"{'WARNING' if busy or ok else 'FAIL'}: {rows_s:,.0f} rows/s end to end is below "
            f"{REQUIRED_ROWS_PER_SECOND:,}"
            + (" (the machine is busy: load average above the core count; rerun on an idle machine)" if busy else "")
        )
        if not busy:
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
