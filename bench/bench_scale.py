"""Benchmark: how cost and memory grow with the number of events (issue 16's scale curve).

    .venv/bin/python -m bench.bench_scale [--sizes 1m,10m,30m] [--with-100m] [--chart PATH]
                                         [--workdir DIR] [--keep] [--strict]

For each world size (default 1M, 10M and 30M events; 100M with ``--with-100m`` or in ``--sizes``;
``3k`` and ``150k`` exist for smoke runs) it measures, each stage in a fresh process of its own
(bench/scale_stages.py):

1. ``generate``: the sandbox world generator, writing straight into its Parquet cache (memory
   bounded: sandbox.world_cache.write_world), the cache write included;
2. ``extract``: the AppSprint events through the product's dlt pipeline over the sandbox HTTP
   API, Arrow wire (bench_appsprint_extract);
3. ``full-build``: ``dbt build --full-refresh`` on the raw layer written from the world, the last
   ~1% of events left out (bench_dbt_build);
4. ``incremental``: the scheduled sync build after those +1% events are loaded (bench_dbt_build);
5. ``forward``: every eligible event of the built warehouse sent to the sandbox Events API by the
   product's forwarder, delivery ledger included (bench_forwarding).

For each: wall seconds, seconds per million events of the world, and the peak resident memory of
the process doing the work (the sandbox servers' peak is printed apart, and the disk the size's
files take after each step). The raw layer the builds read is written by DuckDB straight from
the world cache's Parquet files (bench_dbt_build, memory bounded); the sandbox servers read a big
world's AppSprint rows from those files too (docs/decisions/0010-sandbox.md). Prints the table with the
targets beside the figures, the date and the machine's load average before and after, and writes
a PNG chart of seconds per million events against size (log x), one line per stage.

Targets: cost per 1M events at the largest size within 1.5x of the cost at 10M, for every stage;
peak RSS under 6 GB at every size; 10M full build under 30 s; incremental under 5% of the full
build; forwarding at least 50,000 events/s. ``--strict``: exit 1 when one is missed.

Files go to a temporary directory (``--workdir`` to choose where), removed at the end unless
``--keep``; each size's files are removed before the next size starts. Disk space is checked
before each size: a 30M world takes tens of GB at its peak.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from bench import scale_stages as st
from sandbox.generate import PRESETS

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CHART = ROOT / "data" / "bench" / "scale.png"
SIZES = {"3k": "tiny", "150k": "demo", "1m": "1m", "10m": "10m", "30m": "30m", "100m": "100m"}  # label: preset
DEFAULT_SIZES = "1m,10m,30m"
STAGES = ("generate", "extract", "full-build", "incremental", "forward")
SCALE_RATIO, RSS_LIMIT_MB, FULL_10M_S, INCR_SHARE, FORWARD_EPS = 1.5, 6 * 1024, 30.0, 0.05, 50_000


def parse_sizes(text: str, with_100m: bool) -> list[str]:
    sizes = [s.strip().lower() for s in text.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown or not sizes:
        raise SystemExit(f"unknown size(s) {unknown or text!r}: choose among {', '.join(SIZES)}")
    if with_100m and "100m" not in sizes:
        sizes.append("100m")
    return sorted(dict.fromkeys(sizes), key=lambda s: PRESETS[SIZES[s]].events)


def run_size(size: str, work: Path) -> dict[str, dict]:
    """Every stage of one size; the raw-layer loads between them are setup (printed, not tabled)."""
    scale = SIZES[size]
    cache, db, target = work / "worlds", work / "warehouse.duckdb", work / "dbt-target"
    steps: list[tuple[str, Callable[..., dict], tuple]] = [
        ("generate", st.generate, (scale, cache)),
        ("extract", st.extract, (scale, cache, work / "extract")),
        ("raw load 1 (setup)", st.load_raw, (scale, cache, db, False)),
        ("full-build", st.dbt_build, (db, target, False)),
        ("raw load 2, +1% (setup)", st.load_raw, (scale, cache, db, True)),
        ("incremental", st.dbt_build, (db, target, True)),
        ("forward", st.forward, (scale, cache, db)),
    ]
    results: dict[str, dict] = {}
    events = PRESETS[scale].events
    for name, fn, args in steps:
        print(f"[{st.stamp()}] {size} {name}: started", flush=True)
        try:
            r = st.in_child(fn, *args)
        except BrokenProcessPool:
            print(
                f"[{st.stamp()}] {size} {name}: its process was killed before it finished, most likely by the "
                "kernel for want of memory (`dmesg | grep -i oom` tells); this size stops here",
                flush=True,
            )
            results["killed"] = {"stage": name}
            return results
        disk = st.disk_used(work)
        results.setdefault("disk", {"peak_bytes": 0})
        results["disk"]["peak_bytes"] = max(results["disk"]["peak_bytes"], disk)
        events = r.get("events", events) if name == "generate" else events
        r["per_1m"] = r["seconds"] / (events / 1e6)
        r["events"] = events
        extra = f"; {r['note']}" if r.get("note") else ""
        print(
            f"[{st.stamp()}] {size} {name}: done in {r['seconds']:.2f} s ({r['per_1m']:.2f} s per 1M events), "
            f"peak RSS {r['peak_rss_mb']:,.0f} MB, {disk / 2**30:.1f} GB on disk after it{extra}",
            flush=True,
        )
        if name in STAGES:
            results[name] = r
    return results


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISS"


def targets_beside(size: str, stage: str, r: dict, runs: dict, ref: str | None, largest: str) -> list[str]:
    """The targets a row answers, each with its verdict."""
    out = [f"RSS<6GB {verdict(r['peak_rss_mb'] < RSS_LIMIT_MB)}"]
    if stage == "full-build" and size == "10m":
        out.append(f"<{FULL_10M_S:.0f}s {verdict(r['seconds'] < FULL_10M_S)}")
    if stage == "incremental":
        share = r["seconds"] / runs[size]["full-build"]["seconds"]
        out.append(f"{share:.1%} of full (<{INCR_SHARE:.0%}) {verdict(share < INCR_SHARE)}")
    if stage == "forward":
        eps = r["forwarded"] / r["seconds"] if r["seconds"] else 0.0
        out.append(f"{eps:,.0f} ev/s (>={FORWARD_EPS:,}) {verdict(eps >= FORWARD_EPS)}")
    if ref is not None and size == largest:
        ratio = r["per_1m"] / runs[ref][stage]["per_1m"]
        out.append(f"{ratio:.2f}x {ref} (<={SCALE_RATIO}x) {verdict(ratio <= SCALE_RATIO)}")
    return out


def report(runs: dict[str, dict[str, dict]]) -> bool:
    """Prints the table and the targets' summary; True when every target checked here was met."""
    sizes = list(runs)
    largest = sizes[-1]
    ref = "10m" if "10m" in runs and largest != "10m" else (sizes[0] if len(sizes) > 1 else None)
    header = f"{'size':>5}  {'stage':<11} {'events':>12} {'seconds':>9} {'s/1M ev':>9} {'peak RSS MB':>12}  targets"
    print("\n" + header + "\n" + "-" * (len(header) + 40))
    missed: list[str] = []
    for size, stages in runs.items():
        if "killed" in stages:
            missed.append(f"{size}: the {stages['killed']['stage']} stage was killed (memory)")
        for stage in STAGES:
            if stage not in stages:
                print(f"{size:>5}  {stage:<11} {'not measured':>12}")
                continue
            r = stages[stage]
            beside = targets_beside(size, stage, r, runs, ref, largest)
            missed += [f"{size} {stage}: {t}" for t in beside if t.endswith("MISS")]
            print(
                f"{size:>5}  {stage:<11} {r['events']:>12,} {r['seconds']:>9.2f} {r['per_1m']:>9.2f} "
                f"{r['peak_rss_mb']:>12,.0f}  {'; '.join(beside)}"
            )
    print()
    servers = [
        f"{s} {k} {r['server_peak_rss_mb']:,.0f} MB"
        for s, v in runs.items()
        for k, r in v.items()
        if "server_peak_rss_mb" in r
    ]
    print("sandbox servers' peak RSS (not the measured process): " + ", ".join(servers))
    disks = [f"{s} {v['disk']['peak_bytes'] / 2**30:.1f} GB" for s, v in runs.items() if "disk" in v]
    print("disk used at the peak (world cache + warehouse + extraction): " + ", ".join(disks))
    if ref is None:
        print(f"cost per 1M within {SCALE_RATIO}x of 10m: n/a (one size in this run)")
    elif ref != "10m":
        print(f"cost per 1M: {largest} compared with {ref} (no 10m in this run, or 10m is the largest)")
    if "10m" not in runs:
        print(f"10m full build < {FULL_10M_S:.0f} s: n/a (no 10m in this run)")
    print("targets: " + ("all met" if not missed else "MISSED: " + " | ".join(missed)))
    return not missed


def chart(runs: dict[str, dict[str, dict]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    for stage in STAGES:
        measured = [s for s in runs if stage in runs[s]]
        xs = [runs[s][stage]["events"] for s in measured]
        ax.plot(xs, [runs[s][stage]["per_1m"] for s in measured], marker="o", label=stage)
    ax.set_xscale("log")
    ax.set_xlabel("events in the world")
    ax.set_ylabel("seconds per million events")
    ax.set_title(f"Cost per million events against size ({dt.date.today().isoformat()}, {os.cpu_count()} cores)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def check_disk(size: str, where: Path) -> None:
    need = st.disk_need_bytes(PRESETS[SIZES[size]].events)
    free = shutil.disk_usage(where).free
    if free < need:
        raise SystemExit(
            f"not enough disk for size {size}: about {need / 2**30:.0f} GB needed under {where}, "
            f"{free / 2**30:.0f} GB free. Free some space, or choose a disk with --workdir DIR, or leave {size} out."
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help=f"comma-separated, among {', '.join(SIZES)}")
    parser.add_argument("--with-100m", action="store_true", help="add the 100M-event world (hours)")
    parser.add_argument("--chart", type=Path, default=DEFAULT_CHART, help="where the PNG chart goes")
    parser.add_argument("--workdir", type=Path, default=None, help="where the temporary files go")
    parser.add_argument("--keep", action="store_true", help="keep the temporary files (path printed)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    sizes = parse_sizes(args.sizes, args.with_100m)
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench_scale_", dir=args.workdir))
    check_disk(sizes[-1], tmp)  # refuse before hours of work, not in the middle
    load_before = os.getloadavg()
    print(
        f"Scale benchmark {dt.datetime.now().astimezone().isoformat(timespec='seconds')}: sizes {', '.join(sizes)}; "
        f"{os.cpu_count()} cores; load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}; "
        f"files under {tmp}",
        flush=True,
    )
    runs: dict[str, dict[str, dict]] = {}
    try:
        for size in sizes:
            check_disk(size, tmp)
            runs[size] = run_size(size, tmp / size)
            if not args.keep:
                shutil.rmtree(tmp / size, ignore_errors=True)
            if "killed" in runs[size]:
                break  # a larger size would need more memory still
    finally:
        if args.keep:
            print(f"files kept under {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    ok = report(runs)
    load_after = os.getloadavg()
    print(f"load average after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    chart(runs, args.chart)
    print(f"chart: {args.chart}")
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
