"""Benchmark: forwarding N events (default 100,000) from a DuckDB warehouse to the sandbox TikTok
Events API running in its own process, ledger writes included; and the ratio to a bare httpx loop
posting the same pre-built batches (the ceiling set by the server). Target: >= 50,000 events/s.

Each round posts the same batches twice, both into an emptied sandbox event store:

1. bare: the request bodies (built before timing, from the forwarder's own dry run on the same
   queue, so batches and payloads are identical) posted by a plain ``httpx.Client`` loop;
2. forwarder: ``forward_events`` on a fresh warehouse file holding the queue: read the queue,
   build payloads, POST, journal every transition (durable commits) and fold the ledger.

The best round of each is reported with the forwarder's phase breakdown
(``ForwardingSummary.phases``). The sandbox is started with ``sandbox_processes(seed, "demo",
ANCHOR, marketing_qps=None)``; its ``event/track`` limit stays TikTok's 1,000 QPS, far above the
~20-100 requests/s needed here.

Run: ``.venv/bin/python -m bench.bench_forwarding [--events 100000] [--rounds 3]`` (or ``make bench``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import httpx

SEED = 7
SCALE = "demo"
ANCHOR = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)  # fixed: reuse the cached world
TARGET = 50_000.0


def dry_run_bodies(path: Path, batch_size: int) -> list[bytes]:
    """The request bodies the forwarder would send, from its dry run (exact payloads per batch)."""
    import duckdb
    import orjson

    from signal_campaigns.forwarding import ForwarderConfig, forward_events
    from signal_campaigns.forwarding.payload import encode_body

    forward_events(path, config=ForwarderConfig(dry_run=True, batch_size=batch_size))
    with duckdb.connect(str(path), read_only=True) as conn:
        rows = conn.execute(
            "SELECT batch_id, pixel_code, test_event_code, list(payload::VARCHAR ORDER BY event_id) "
            "FROM forwarding.event_payloads_dry_run GROUP BY ALL ORDER BY batch_id"
        ).fetchall()
    return [
        encode_body(pixel, [orjson.loads(p) for p in payloads], test_event_code=code)
        for _, pixel, code, payloads in rows
    ]


def post_bare(url: str, token: str, bodies: list[bytes]) -> float:
    import orjson

    headers = {"Access-Token": token, "Content-Type": "application/json"}
    with httpx.Client(timeout=60) as client:
        started = time.perf_counter()
        for body in bodies:
            resp = client.post(url, content=body, headers=headers)
            assert orjson.loads(resp.content)["code"] == 0, resp.text[:200]
        return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--build-inline",
        action="store_true",
        help="build payloads on the forwarder's main thread (default: on a thread during each POST)",
    )
    args = parser.parse_args(argv)

    from sandbox.runner import load_world, sandbox_processes
    from sandbox.synthetic_queue import synthetic_queue, write_queue_file
    from signal_campaigns.forwarding import ForwarderConfig, forward_events

    n = args.events
    world = load_world(SEED, SCALE, ANCHOR)
    pixels = sorted(world.notes["pixel_codes"].values())
    rows = synthetic_queue(n, pixels, ANCHOR, seed=1)
    bare_times: list[float] = []
    runs = []  # (seconds, summary, CPU seconds)
    with tempfile.TemporaryDirectory() as tmp, sandbox_processes(SEED, SCALE, ANCHOR, marketing_qps=None) as ep:
        token = ep.credentials.events_api_token
        planned = Path(tmp) / "planned.duckdb"
        write_queue_file(planned, rows)
        bodies = dry_run_bodies(planned, args.batch_size)
        reset = f"{ep.tiktok_url}/_sandbox/events/reset"
        received = f"{ep.tiktok_url}/_sandbox/events/received"
        for r in range(args.rounds):
            httpx.post(reset, timeout=10).raise_for_status()
            bare_times.append(post_bare(f"{ep.tiktok_api_url}/event/track/", token, bodies))

            httpx.post(reset, timeout=10).raise_for_status()
            path = Path(tmp) / f"warehouse_{r}.duckdb"
            write_queue_file(path, rows)
            config = ForwarderConfig(batch_size=args.batch_size, build_in_background=not args.build_inline)
            cpu = time.process_time()
            started = time.perf_counter()
            summary = forward_events(path, base_url=ep.tiktok_url, token=token, config=config)
            runs.append((time.perf_counter() - started, summary, time.process_time() - cpu))
            got = httpx.get(received, timeout=60).json()
            assert summary.sent == n and summary.sent_total == n and got["unique_events"] == n, (summary, got)
            print(
                f"round {r + 1}: bare {n / bare_times[-1]:9,.0f} events/s   forwarder {n / runs[-1][0]:9,.0f} "
                f"events/s   ratio {bare_times[-1] / runs[-1][0]:.2f}   forwarder CPU {runs[-1][2]:.2f} s",
                flush=True,
            )

    bare_s = min(bare_times)
    fwd_s, summary, fwd_cpu = min(runs, key=lambda run: run[0])
    fwd_rate, bare_rate = n / fwd_s, n / bare_s
    print(
        f"\nevents: {n:,} in {len(bodies)} batches of <= {args.batch_size} ({len(pixels)} pixels); sandbox TikTok "
        f"server in its own process; best of {args.rounds} rounds"
    )
    print(
        f"forwarder (queue read, payloads, POST, ledger journal + fold in the DuckDB file): {fwd_s:6.2f} s "
        f"{fwd_rate:10,.0f} events/s"
    )
    print(
        f"bare httpx loop, same pre-built batches                                   : {bare_s:6.2f} s "
        f"{bare_rate:10,.0f} events/s"
    )
    print(
        f"forwarder / bare ratio: {fwd_rate / bare_rate:.2f}   target >= {TARGET:,.0f} events/s: "
        f"{'PASS' if fwd_rate >= TARGET else 'MISS'}"
    )
    print(
        f"forwarder process CPU (all threads, DuckDB's included): {fwd_cpu:.2f} s; payloads built "
        f"{'inline' if args.build_inline else 'on a thread during each POST'}"
    )
    print("\nforwarder phases (best round):")
    phases = dict(summary.phases)
    background = phases.pop("build_background", None)  # overlapped with journal + post
    phases["other"] = max(0.0, fwd_s - sum(phases.values()))
    per_batch = 1000.0 / max(1, summary.batches)
    for name, seconds in phases.items():
        print(f"  {name:8s} {seconds:6.2f} s  {100 * seconds / fwd_s:5.1f} %  {seconds * per_batch:6.1f} ms/batch")
    if background is not None:
        print(
            f"  (payloads built on the background thread: {background:.2f} s, {background * per_batch:.1f} ms/batch, "
            "overlapped with journal and post; 'build' above is the wait for them)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
