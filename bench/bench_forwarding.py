"""Benchmark: forwarding N events (default 100,000) from a DuckDB warehouse to the sandbox TikTok
Events API running in its own process, ledger writes included; and the ratio to a bare httpx loop
posting the same pre-built batches (the ceiling set by the server). Target: >= 20,000 events/s.

The sandbox is started with ``sandbox_processes(seed, "demo", ANCHOR, marketing_qps=None)``; its
``event/track`` limit stays TikTok's 1,000 QPS, far above the ~20-100 requests/s needed here.

Run: ``.venv/bin/python bench/bench_forwarding.py [--events 100000]`` (or ``make bench``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SEED = 7
SCALE = "demo"
ANCHOR = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.timezone.utc)  # fixed: reuse the cached world
TARGET = 20_000.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args(argv)

    import duckdb
    import orjson

    from signal_campaigns.forwarding import ForwarderConfig, forward_events
    from signal_campaigns.forwarding.ledger import DeliveryLedger
    from signal_campaigns.forwarding.payload import encode_body
    from signal_campaigns.sandbox.runner import load_world, sandbox_processes
    from tests.forwarding.helpers import synthetic_queue, write_queue_file

    world = load_world(SEED, SCALE, ANCHOR)
    pixels = sorted(world.notes["pixel_codes"].values())
    rows = synthetic_queue(args.events, pixels, ANCHOR, seed=1)
    with tempfile.TemporaryDirectory() as tmp, sandbox_processes(SEED, SCALE, ANCHOR, marketing_qps=None) as ep:
        token = ep.credentials.events_api_token
        path = Path(tmp) / "warehouse.duckdb"
        write_queue_file(path, rows)

        # 1. the forwarder: queue -> payloads -> POST -> ledger (DuckDB file)
        started = time.perf_counter()
        summary = forward_events(path, base_url=ep.tiktok_url, token=token,
                                 config=ForwarderConfig(batch_size=args.batch_size))
        fwd_s = time.perf_counter() - started
        got = httpx.get(f"{ep.tiktok_url}/_sandbox/events/received", timeout=60).json()
        assert summary.sent == args.events and got["unique_events"] == args.events, (summary, got)

        # 2. the same batches, pre-built, posted by a bare httpx loop (server ceiling)
        with duckdb.connect(str(path)) as conn:
            table = DeliveryLedger(conn).pending_queue_rows('"main"."events_to_forward"', anti_join=False,
                                                           statuses=("sent",))
        from signal_campaigns.forwarding.forwarder import Forwarder

        with duckdb.connect(":memory:") as mem:
            mem.execute("CREATE TABLE events_to_forward AS SELECT 1 AS x")
            planner = Forwarder(mem, None, ForwarderConfig(dry_run=True, batch_size=args.batch_size))
            bodies = [encode_body(b.pixel_code, b.events) for b in planner._batches(table)]
        httpx.post(f"{ep.tiktok_url}/_sandbox/events/reset", timeout=10)
        headers = {"Access-Token": token, "Content-Type": "application/json"}
        url = f"{ep.tiktok_api_url}/event/track/"
        with httpx.Client(timeout=60) as client:
            started = time.perf_counter()
            for body in bodies:
                resp = client.post(url, content=body, headers=headers)
                assert orjson.loads(resp.content)["code"] == 0
            bare_s = time.perf_counter() - started

    fwd_rate = args.events / fwd_s
    bare_rate = args.events / bare_s
    print(f"events: {args.events:,} in {summary.batches} batches of <= {args.batch_size} "
          f"({len(pixels)} pixels); sandbox TikTok server in its own process")
    print(f"forwarder (payloads + POST + ledger in DuckDB file): {fwd_s:6.2f} s  {fwd_rate:10,.0f} events/s")
    print(f"bare httpx loop, same pre-built batches            : {bare_s:6.2f} s  {bare_rate:10,.0f} events/s")
    print(f"forwarder / bare ratio: {fwd_rate / bare_rate:.2f}   target >= {TARGET:,.0f} events/s: "
          f"{'PASS' if fwd_rate >= TARGET else 'MISS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
