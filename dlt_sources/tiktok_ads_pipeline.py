"""Load TikTok Ads reporting into the warehouse (``data/warehouse.duckdb``, dataset ``tiktok_ads``).

Against TikTok (config from dlt's config providers)::

    export SOURCES__TIKTOK_ADS__ACCESS_TOKEN=...                       # or .dlt/secrets.toml
    export SOURCES__TIKTOK_ADS__ADVERTISER_IDS='["7002238017842757633"]'  # or .dlt/config.toml
    export SOURCES__TIKTOK_ADS__START_DATE=2026-01-01                   # first backfill (optional)
    python -m dlt_sources.tiktok_ads_pipeline

Against the local sandbox (starts both sandbox servers, reads every advertiser the sandbox token
can see, takes "today" from the sandbox clock)::

    python -m dlt_sources.tiktok_ads_pipeline --sandbox

Every run is incremental: the first one backfills from ``start_date``; later ones re-pull the
trailing ``lookback_days`` (default 7) and replace those days. The pipeline is the product's own
(:func:`signal_campaigns.pipeline.warehouse_pipeline` with the warehouse's DuckDB destination).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from pathlib import Path
from typing import Any

import dlt

from dlt_sources.tiktok_ads import RequestStats, TikTokError, tiktok_ads
from signal_campaigns.pipeline import raw_destination, warehouse_pipeline
from signal_campaigns.warehouse import warehouse_path

DEFAULT_WAREHOUSE = warehouse_path()  # env SIGNAL_WAREHOUSE_PATH, default data/warehouse.duckdb
DATASET = "tiktok_ads"

log = logging.getLogger("tiktok_ads_pipeline")


def make_pipeline(
    warehouse: Path = DEFAULT_WAREHOUSE, pipelines_dir: Path | None = None, suffix: str = ""
) -> dlt.Pipeline:
    """The ``tiktok_ads`` dlt pipeline into the DuckDB file ``warehouse`` (name ``tiktok_ads<suffix>``)."""
    return warehouse_pipeline(DATASET, raw_destination(Path(warehouse)), pipelines_dir, suffix)


def load_tiktok_ads(pipeline: dlt.Pipeline, **source_args: Any) -> dict[str, Any]:
    """Run the source (arguments not given come from dlt config/secrets) and summarise the run."""
    stats = RequestStats()
    # Parquet load files: DuckDB ingests them several times faster than the default insert files
    # (a choice of this DuckDB pipeline, not of the source: other destinations keep their default).
    info = pipeline.run(tiktok_ads(stats=stats, **source_args), loader_file_format="parquet")
    normalize = pipeline.last_trace.last_normalize_info if pipeline.last_trace else None
    return {
        "load_info": info,
        "row_counts": dict(normalize.row_counts) if normalize else {},
        "requests": stats.as_dict(),
    }


def print_summary(result: dict[str, Any]) -> None:
    rows = result["row_counts"]
    print("Loaded into dataset tiktok_ads:")
    for table in ("advertisers", "campaigns", "adgroups", "ads", "pixels", "ad_daily_report"):
        print(f"  {table:<16} {rows.get(table, 0):>8} rows")
    req = result["requests"]
    print(
        f"TikTok API: {req['requests']} requests, {req['retries']} retries "
        f"({', '.join(f'{k} {v}' for k, v in sorted(req['by_endpoint'].items()))})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sandbox", action="store_true", help="start the local sandbox and load from it")
    parser.add_argument("--seed", type=int, default=7, help="sandbox world seed (with --sandbox)")
    parser.add_argument("--scale", default="demo", help="sandbox world scale (with --sandbox)")
    parser.add_argument("--warehouse", type=Path, default=DEFAULT_WAREHOUSE, help="DuckDB file")
    parser.add_argument("--start-date", default=None, help="first local day of the first backfill (YYYY-MM-DD)")
    parser.add_argument("--lookback-days", type=int, default=None, help="days re-pulled every run (1..28)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    source_args: dict[str, Any] = {}
    if args.start_date:
        source_args["start_date"] = args.start_date
    if args.lookback_days is not None:
        source_args["lookback_days"] = args.lookback_days
    pipeline = make_pipeline(args.warehouse, suffix="_sandbox" if args.sandbox else "")

    try:
        if args.sandbox:
            # the sandbox is a development package, never imported by the product: only this flag needs it
            from sandbox.connection import sandbox_connection  # noqa: PLC0415
            from sandbox.runner import sandbox_processes  # noqa: PLC0415

            with sandbox_processes(args.seed, args.scale) as endpoints:
                connection = sandbox_connection(endpoints)  # every advertiser the sandbox token can read
                source_args.setdefault("start_date", (endpoints.anchor - dt.timedelta(days=60)).date().isoformat())
                result = load_tiktok_ads(
                    pipeline,
                    advertiser_ids=list(connection.advertiser_ids),
                    access_token=connection.tiktok_access_token,
                    base_url=connection.tiktok_api_url,
                    now=endpoints.anchor.isoformat(),  # the sandbox clock, not wall time
                    **source_args,
                )
        else:
            result = load_tiktok_ads(pipeline, **source_args)
    except TikTokError as exc:  # raised before the pipeline started (e.g. no token configured)
        print(f"TikTok Ads sync failed: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # dlt wraps extraction errors; show TikTok's advice, not a traceback
        cause: BaseException | None = exc
        while cause is not None and not isinstance(cause, TikTokError):
            cause = cause.__cause__ or cause.__context__
        if cause is None:
            raise
        print(f"TikTok Ads sync failed: {cause}", file=sys.stderr)
        return 2
    print_summary(result)
    print(f"Warehouse: {args.warehouse}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
