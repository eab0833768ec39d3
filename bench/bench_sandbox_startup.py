"""Benchmark: how long until both sandbox servers answer (target: under 2 s, world cached).

Measures `sandbox_processes` (launch the server process, load the cached demo world, build both
apps, serve) from call to both `/_sandbox/clock` answering, five times, and as a baseline in the
same run the bare interpreter start with the imports the servers need.

Run: ``.venv/bin/python -m bench.bench_sandbox_startup`` (or ``make bench``).
"""

from __future__ import annotations

import datetime as dt
import statistics
import subprocess
import sys
import time

from sandbox.runner import sandbox_processes
from sandbox.world_cache import cached_credentials

ANCHOR = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
RUNS = 5
TARGET_S = 2.0


def main() -> int:
    cached_credentials(7, "demo", ANCHOR)  # generate + cache once, outside the timing
    starts = []
    for _ in range(RUNS):
        t = time.perf_counter()
        with sandbox_processes(7, "demo", ANCHOR):
            starts.append(time.perf_counter() - t)
    imports = []
    for _ in range(RUNS):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import pyarrow, numpy, starlette, uvicorn, orjson"], check=True)
        imports.append(time.perf_counter() - t)
    median = statistics.median(starts)
    print(f"{'what':<52} {'median s':>9} {'min s':>7} {'max s':>7}")
    print(
        f"{'both sandbox servers answering (demo world, cached)':<52} {median:>9.2f} {min(starts):>7.2f} {max(starts):>7.2f}"
    )
    print(
        f"{'baseline: interpreter + pyarrow/numpy/starlette/uvicorn':<52} {statistics.median(imports):>9.2f} "
        f"{min(imports):>7.2f} {max(imports):>7.2f}"
    )
    print(
        f"startup / baseline: {median / statistics.median(imports):.2f}x; target < {TARGET_S:.0f} s: "
        f"{'OK' if median < TARGET_S else 'MISSED'}"
    )
    return 0 if median < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
