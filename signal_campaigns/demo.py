"""``make demo``: the main job on the local sandbox, then the results.

1. Starts both sandbox servers (TikTok Business API, AppSprint export API) as local processes.
2. Extracts TikTok Ads reporting and AppSprint attribution data with dlt into the warehouse
   (``data/warehouse.duckdb``; reset first, since every demo run serves a world anchored at the
   current hour).
3. Builds the dbt models (seeds, staging, intermediate, marts) and runs their tests.
4. Shows the last 7 days by campaign, the forwarding queue and its skips by reason, value-based
   optimisation readiness, and where the DuckDB file is.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import time

import duckdb
from rich.console import Console
from rich.table import Table

from .pipeline import Connection, build_models, extract
from .sandbox.runner import default_anchor, print_banner, sandbox_processes
from .warehouse import REPO_ROOT, warehouse_path

PIPELINES_DIR = REPO_ROOT / "data" / "pipelines"


def _table(title: str, columns: list[str], rows: list[tuple], right_from: int = 1) -> Table:
    table = Table(title=title, title_justify="left")
    for i, col in enumerate(columns):
        table.add_column(col, justify="right" if i >= right_from else "left")
    for row in rows:
        table.add_row(*("" if v is None else v if isinstance(v, str) else f"{v:,}" if isinstance(v, int) else f"{v:,.4f}" if isinstance(v, float) and abs(v) < 1 else f"{v:,.2f}" for v in row))
    return table


def show_results(console: Console, db) -> None:
    con = duckdb.connect(str(db), read_only=True)
    try:
        first, last = con.execute("select max(report_date) - 6, max(report_date) from signal_campaign_daily").fetchone()
        rows = con.execute(
            """
            select campaign_name, currency, spend::double, installs::bigint, installs_appsprint::bigint,
                   installs_from_fallback::bigint, cpi::double, ctr::double, cti::double, revenue::double,
                   roas::double
            from signal_campaign_metrics('campaign', ?, ?)
            order by currency, spend desc
            """,
            [first, last],
        ).fetchall()
        console.print(_table(
            f"Last 7 days by campaign ({first} .. {last}, advertiser-local days; ratios from sums)",
            ["campaign", "cur", "spend", "installs", "of which AppSprint", "TikTok fallback", "CPI", "CTR",
             "CTI", "revenue", "ROAS"],
            [tuple(r) for r in rows], right_from=2,
        ))
        eligible = con.execute("select count(*) from events_to_forward").fetchone()[0]
        skips = con.execute("select reason, count(*) from forwarding_skips group by 1 order by 2 desc").fetchall()
        console.print(_table("Forwarding queue (events_to_forward) and skipped events by reason (forwarding_skips)",
                             ["outcome", "events"], [("eligible to forward", eligible)] + [(f"skipped: {r}", n) for r, n in skips]))
        ready = con.execute(
            """select advertiser_id, pixel_code, max_purchases_in_7_days, current_7_day_purchases,
                      case when reached_20 then 'yes' else 'no' end
               from value_optimization_readiness order by advertiser_id"""
        ).fetchall()
        console.print(_table("Value-based optimisation readiness (20 unique attributed Purchases in 7 days)",
                             ["advertiser", "pixel", "best 7-day window", "current 7 days", "reached 20"],
                             [tuple(r) for r in ready], right_from=2))
        quarantined = con.execute("select reason_kind, count(*) from (select split_part(reason, ':', 1) as reason_kind "
                                  "from appsprint.quarantine) group by 1 order by 2 desc").fetchall()
        console.print(_table("Rows quarantined at extraction (appsprint.quarantine)", ["reason", "rows"],
                             [tuple(r) for r in quarantined]))
    finally:
        con.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m signal_campaigns.demo", description=__doc__)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scale", default="demo", help="tiny | demo | 1m | 10m")
    args = parser.parse_args(argv)
    console = Console(width=None if Console().is_terminal else 150)  # wide tables in pipes and logs
    anchor = default_anchor()
    db = warehouse_path()
    started = time.monotonic()

    with console.status("Starting the sandbox servers (generating the world on first use)..."):
        ctx = sandbox_processes(args.seed, args.scale, anchor)
        endpoints = ctx.__enter__()
    try:
        console.print(f"[bold]1. Sandbox[/bold] up in {time.monotonic() - started:.1f}s")
        print_banner(endpoints)
        for leftover in (db, db.with_suffix(".duckdb.wal")):
            leftover.unlink(missing_ok=True)
        shutil.rmtree(PIPELINES_DIR, ignore_errors=True)
        step = time.monotonic()
        with console.status("2. Extracting TikTok Ads and AppSprint data with dlt..."):
            connection = Connection.from_sandbox(endpoints)
            loaded = extract(connection, warehouse=db, pipelines_dir=PIPELINES_DIR, now=anchor,
                             start_date=(anchor - dt.timedelta(days=40)).date())
    finally:
        ctx.__exit__(None, None, None)
    console.print(f"[bold]2. Extracted[/bold] in {time.monotonic() - step:.1f}s")
    console.print(_table("Raw layer loaded", ["dataset.table", "rows"],
                         [(f"{ds}.{t}", n) for ds, counts in loaded.items() for t, n in sorted(counts.items())]))
    step = time.monotonic()
    with console.status("3. Building the dbt models and running their tests..."):
        run = build_models(db, now=anchor)
    statuses = run.statuses()
    warned = run.warnings()
    console.print(f"[bold]3. dbt build[/bold] in {time.monotonic() - step:.1f}s: {len(statuses)} nodes, "
                  f"{sum(s in ('success', 'pass') for s in statuses.values())} ok, {len(warned)} warnings")
    for node, message in warned.items():
        console.print(f"   warning {node.split('.')[-1]}: {message}")
    console.print("[bold]4. Results[/bold]")
    show_results(console, db)
    console.print(f"Warehouse: [bold]{db}[/bold] (open it read-only with DuckDB or a BI tool). "
                  f"Total {time.monotonic() - started:.1f}s. `make sandbox` keeps the servers running.")


if __name__ == "__main__":
    main()
