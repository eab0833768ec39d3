"""Benchmark: TikTok Ads extraction, first backfill and then a daily sync, for one advertiser with
at least 500 ads, against the TikTok sandbox running in its own process (its own core and GIL).

It uses the generator's ``ads500`` preset (5 campaigns x 2 ad groups x 50 ads per advertiser, 35
days), served by ``sandbox_processes`` with the sandbox's normal rate limit (10 QPS per endpoint). The request counts come from the sandbox's
``/_sandbox/stats``. Target: the daily sync (7-day lookback) makes at most 10 API requests.

Run: ``.venv/bin/python -m bench.bench_tiktok_sync`` (or ``make bench``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import httpx

SCALE = "ads500"  # generator preset: 5 campaigns x 2 ad groups x 50 ads per advertiser
SEED = 11
ANCHOR = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
TARGET_REQUESTS = 10


def server_requests(url: str) -> dict[str, int]:
    counts = httpx.get(f"{url}/_sandbox/stats", timeout=10).json()["requests"]
    return {k.split("|")[0]: v for k, v in counts.items() if k.endswith("|total") and not k.startswith("_")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-rate-limit", action="store_true", help="lift the sandbox's 10 QPS limit")
    parser.add_argument("--lookback-days", type=int, default=7)
    args = parser.parse_args(argv)

    import dlt

    from dlt_sources.tiktok_ads import RequestStats, tiktok_ads
    from sandbox.runner import load_world, sandbox_processes
    from signal_campaigns.warehouse import duckdb_destination

    world = load_world(SEED, SCALE, ANCHOR)
    adv = world.table("advertisers").to_pylist()[0]
    n_ads = sum(1 for a in world.table("ads").column("advertiser_id").to_pylist() if a == adv["advertiser_id"])
    token = world.credentials.tiktok_access_token

    results = []
    with sandbox_processes(SEED, SCALE, ANCHOR, marketing_qps=None if args.no_rate_limit else 10.0) as sandbox:
        url = sandbox.tiktok_url
        with tempfile.TemporaryDirectory() as tmp:
            pipeline = dlt.pipeline(
                pipeline_name="bench_tiktok",
                destination=duckdb_destination(Path(tmp) / "bench.duckdb"),
                dataset_name="tiktok_ads",
                pipelines_dir=str(Path(tmp) / "pipelines"),
            )

            def sync(label: str, now: dt.datetime) -> None:
                httpx.post(f"{url}/_sandbox/stats/reset", timeout=10)
                stats = RequestStats()
                source = tiktok_ads(
                    advertiser_ids=[adv["advertiser_id"]],
                    access_token=token,
                    base_url=f"{url}/open_api/v1.3",
                    start_date=(ANCHOR - dt.timedelta(days=40)).date().isoformat(),
                    now=now.isoformat(),
                    lookback_days=args.lookback_days,
                    stats=stats,
                )
                started = time.perf_counter()
                pipeline.run(source, loader_file_format="parquet")  # as dlt_sources/tiktok_ads_pipeline.py
                wall = time.perf_counter() - started
                counts = server_requests(url)
                state = pipeline.state["sources"]["tiktok_ads"]["resources"]["ad_daily_report"]["advertisers"]
                normalized = pipeline.last_trace.last_normalize_info if pipeline.last_trace else None
                assert normalized is not None
                rows = normalized.row_counts.get("ad_daily_report", 0)
                results.append(
                    {
                        "phase": label,
                        "requests": sum(counts.values()),
                        "counts": counts,
                        "rows": rows,
                        "retries": stats.retries,
                        "wall": wall,
                        "cursor": state[adv["advertiser_id"]],
                    }
                )

            sync("first backfill", ANCHOR)
            httpx.post(f"{url}/_sandbox/clock", json={"advance_seconds": 86400}, timeout=10)
            sync(f"daily sync ({args.lookback_days}-day lookback)", ANCHOR + dt.timedelta(days=1))

    print(
        f"TikTok Ads sync bench: advertiser {adv['advertiser_id']} ({adv['timezone']}), {n_ads} ads, "
        f"sandbox in its own process, {'no rate limit' if args.no_rate_limit else '10 QPS per endpoint'}"
    )
    header = f"{'phase':<30} {'API requests':>12} {'report pages':>12} {'report rows':>11} {'retries':>7} {'wall s':>7}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['phase']:<30} {r['requests']:>12} {r['counts'].get('report/integrated/get', 0):>12} "
            f"{r['rows']:>11} {r['retries']:>7} {r['wall']:>7.2f}"
        )
    daily = results[-1]
    detail = ", ".join(f"{k} {v}" for k, v in sorted(daily["counts"].items()))
    print(f"daily sync requests by endpoint: {detail}")
    ok = daily["requests"] <= TARGET_REQUESTS
    print(f"daily sync: {daily['requests']} API requests (target <= {TARGET_REQUESTS}): {'OK' if ok else 'OVER'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
