"""Benchmark the sandbox world generator and its Parquet cache.

    .venv/bin/python -m bench.bench_generate [--scales 1m 10m] [--seed 7]

For each scale: time to generate the world (events/s), to write it to the cache (Parquet + manifest)
and to load it back, plus the generator's per-stage seconds. The cache goes to a temporary directory
that is removed afterwards. The 10m scale must generate in under 60 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from sandbox import generate as gen
from sandbox.world_cache import load_world, save_world

ANCHOR = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
LIMIT_10M_SECONDS = 60.0


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.iterdir())


def bench(scale: str, seed: int, tmp: Path) -> dict:
    gc.collect()
    cpu0 = os.times()
    started = time.perf_counter()
    world = gen.generate_world(seed=seed, scale=scale, anchor=ANCHOR)
    gen_s = time.perf_counter() - started
    cpu1 = os.times()
    stages = dict(gen.LAST_TIMINGS)
    n_events = world.table("events").num_rows
    n_rows = sum(t.num_rows for t in world.tables.values())
    target = tmp / f"world-{scale}"
    started = time.perf_counter()
    save_world(world, target)
    write_s = time.perf_counter() - started
    size = _dir_size(target)
    del world
    gc.collect()
    started = time.perf_counter()
    loaded = load_world(target)
    load_s = time.perf_counter() - started
    assert loaded.table("events").num_rows == n_events
    del loaded
    shutil.rmtree(target)
    gc.collect()
    return {
        "scale": scale,
        "events": n_events,
        "rows": n_rows,
        "gen_s": gen_s,
        "cpu_s": (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system),
        "write_s": write_s,
        "load_s": load_s,
        "size_mb": size / 2**20,
        "stages": stages,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", nargs="+", default=["1m", "10m"], choices=sorted(gen.PRESETS))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    print(
        f"Sandbox world generator: seed {args.seed}, anchor {ANCHOR.isoformat()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-world-") as tmp:
        for scale in args.scales:
            results.append(bench(scale, args.seed, Path(tmp)))
            r = results[-1]
            print(
                f"  {scale}: generated in {r['gen_s']:.1f}s; stages: "
                + ", ".join(f"{k} {v:.1f}s" for k, v in r["stages"].items()),
                flush=True,
            )
    header = (
        f"{'scale':>6} {'events':>11} {'all rows':>11} {'generate':>9} {'cpu':>7} {'events/s':>11} "
        f"{'cache write':>12} {'cache load':>11} {'load ev/s':>11} {'parquet':>9}"
    )
    print()
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['scale']:>6} {r['events']:>11,} {r['rows']:>11,} {r['gen_s']:>8.1f}s {r['cpu_s']:>6.1f}s "
            f"{r['events'] / r['gen_s']:>11,.0f} {r['write_s']:>11.1f}s {r['load_s']:>10.1f}s "
            f"{r['events'] / r['load_s']:>11,.0f} {r['size_mb']:>7.0f}MB"
        )
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"peak RSS {peak_gb:.1f} GB")
    ten = [r for r in results if r["scale"] == "10m"]
    if ten and ten[0]["gen_s"] >= LIMIT_10M_SECONDS:
        print(f"FAIL: 10m generation took {ten[0]['gen_s']:.1f}s (limit {LIMIT_10M_SECONDS:.0f}s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
