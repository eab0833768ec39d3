"""``make demo``: the main job on the local sandbox, then the results.

1. Starts both sandbox servers (TikTok Business API, AppSprint export API) as local processes.
2. Extracts TikTok Ads reporting and AppSprint attribution data with dlt into the warehouse
   (``data/warehouse.duckdb``; reset first, since every demo run serves a world anchored at the
   current hour).
3. Builds the dbt models (seeds, staging, intermediate, marts) and runs their tests.
4. Forwards the eligible events to the sandbox's TikTok Events API (the sandbox's Events API
   token; each event's pixel from the warehouse) and records them in ``event_delivery_ledger``.
5. Publishes the read-only copy for BI tools and shows the last 7 days by campaign, the
   forwarding summary (sent, skipped by reason, dead), value-based optimisation readiness, and
   where the DuckDB files are.
6. Writes the dashboard (``data/dashboard.html``, docs/dashboard.md) and prints its path last.

With ``SIGNAL_DBT_TARGET=spark`` (``make demo-spark``) the same job runs on the Spark target
(:mod:`sandbox.demo_spark`): the raw layer lands in the lake (``data/lake``), dbt builds on Spark
(``data/spark``), the marts are copied into the DuckDB file, which keeps the ledger and serves the
BI copy and the dashboard. ``make demo`` never imports PySpark.
"""

from __future__ import annotations

import argparse
import shutil
import time

from rich.console import Console
from rich.table import Table

from signal_campaigns.cli.report import FRACTION_COLUMNS
from signal_campaigns.cli.status import delivery, readiness
from signal_campaigns.cli.warehouse_reads import Warehouse
from signal_campaigns.dashboard import write_dashboard
from signal_campaigns.formatting import cell
from signal_campaigns.forwarding import ForwardingError, ForwardingSummary, forward_events
from signal_campaigns.pipeline import build_models
from signal_campaigns.warehouse import publish_read_only_copy, warehouse_path
from signal_campaigns.warehouse.spark import selected_target

from .connection import extract_sandbox_world
from .runner import default_anchor, print_banner, sandbox_processes


def _table(
    title: str, columns: list[str], rows: list[tuple], right_from: int = 1, fractions: frozenset[str] = frozenset()
) -> Table:
    """A table, numbers by the product's one display rule (:func:`signal_campaigns.formatting.cell`:
    money half-up to 2 decimals); ``fractions`` names the columns that hold fractions (CTR, CTI),
    shown with 4 decimals."""
    table = Table(title=title, title_justify="left")
    for i, col in enumerate(columns):
        table.add_column(col, justify="right" if i >= right_from else "left")
    for row in rows:
        table.add_row(*(cell(v, is_fraction=col in fractions) for col, v in zip(columns, row)))
    return table


def show_results(console: Console, db, forwarded: ForwardingSummary | None) -> None:
    with Warehouse(db) as wh:  # read-only; the ledger and readiness reads are `signal-campaigns status`'s
        first, last = wh.rows(
            "select max(report_date) - 6 as first, max(report_date) as last from signal_campaign_daily"
        )[0].values()
        rows = wh.rows(
            """
            select campaign_name, currency, spend::double, installs::bigint, installs_appsprint::bigint,
                   installs_from_fallback::bigint, cpi::double, ctr::double, cti::double, revenue::double,
                   roas::double
            from signal_campaign_metrics('campaign', ?, ?)
            order by currency, spend desc
            """,
            [first, last],
        )
        console.print(
            _table(
                f"Last 7 days by campaign ({first} .. {last}, advertiser-local days; ratios from sums)",
                [
                    "campaign",
                    "cur",
                    "spend",
                    "installs",
                    "of which AppSprint",
                    "TikTok fallback",
                    "CPI",
                    "CTR",
                    "CTI",
                    "revenue",
                    "ROAS",
                ],
                [tuple(r.values()) for r in rows],
                right_from=2,
                fractions=FRACTION_COLUMNS,
            )
        )
        skips = wh.rows("select reason, count(*) as n from forwarding_skips group by 1 order by 2 desc")
        ledger = delivery(wh)["ledger"] if forwarded is not None else {}
        outcomes = [
            ("sent to TikTok (ledger: sent)", ledger.get("sent", 0)),
            ("dead-lettered (ledger: dead)", ledger.get("dead", 0)),
            ("still pending (ledger: pending)", ledger.get("pending", 0)),
        ]
        console.print(
            _table(
                "Forwarding to the TikTok Events API: delivery ledger (event_delivery_ledger) and "
                "skipped events by reason (forwarding_skips)",
                ["outcome", "events"],
                outcomes + [(f"skipped: {r['reason']}", r["n"]) for r in skips],
            )
        )
        ready = [
            (
                r["advertiser_id"],
                r["pixel_code"],
                r["max_purchases_in_7_days"],
                r["current_7_day_purchases"],
                "yes" if r["reached_20"] else "no",
            )
            for r in readiness(wh)
        ]
        console.print(
            _table(
                "Value-based optimisation readiness (20 unique attributed Purchases in 7 days)",
                ["advertiser", "pixel", "best 7-day window", "current 7 days", "reached 20"],
                ready,
                right_from=2,
            )
        )
        quarantined = wh.rows(
            "select reason_kind, count(*) as n from (select split_part(reason, ':', 1) as reason_kind "
            "from appsprint.quarantine) group by 1 order by 2 desc"
        )
        console.print(
            _table(
                "Rows quarantined at extraction (appsprint.quarantine)",
                ["reason", "rows"],
                [tuple(r.values()) for r in quarantined],
            )
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.demo", description=__doc__)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scale", default="demo", help="tiny | demo | 1m | 10m")
    args = parser.parse_args(argv)
    console = Console(width=None if Console().is_terminal else 150)  # wide tables in pipes and logs
    anchor = default_anchor()
    db = warehouse_path()
    spark = selected_target() == "spark"
    if spark:
        from . import demo_spark  # noqa: PLC0415 - the Spark target's steps, only on that target
    started = time.monotonic()

    with console.status("Starting the sandbox servers (generating the world on first use)..."):
        ctx = sandbox_processes(args.seed, args.scale, anchor)
        endpoints = ctx.__enter__()
    try:
        console.print(f"[bold]1. Sandbox[/bold] up in {time.monotonic() - started:.1f}s")
        print_banner(endpoints)
        for leftover in (db, db.with_suffix(".duckdb.wal")):
            leftover.unlink(missing_ok=True)
        pipelines_dir = db.parent / "pipelines"  # dlt's working state, beside the warehouse (as in Dagster)
        shutil.rmtree(pipelines_dir, ignore_errors=True)
        step = time.monotonic()
        with console.status("2. Extracting TikTok Ads and AppSprint data with dlt..."):
            if spark:
                demo_spark.reset()
                loaded = demo_spark.land(endpoints, anchor, pipelines_dir)
            else:
                loaded = extract_sandbox_world(endpoints, db, anchor, pipelines_dir)
        where = " into the lake (Parquet)" if spark else ""
        console.print(f"[bold]2. Extracted[/bold]{where} in {time.monotonic() - step:.1f}s")
        console.print(
            _table(
                "Raw layer loaded",
                ["dataset.table", "rows"],
                [(f"{ds}.{t}", n) for ds, counts in loaded.items() for t, n in sorted(counts.items())],
            )
        )
        step = time.monotonic()
        with console.status("3. Building the dbt models and running their tests..."):
            run = build_models(db, now=anchor, **({"target": "spark"} if spark else {}))
        statuses = run.statuses()
        warned = run.warnings()
        console.print(
            f"[bold]3. dbt build[/bold]{' on Spark' if spark else ''} in {time.monotonic() - step:.1f}s: "
            f"{len(statuses)} nodes, {sum(s in ('success', 'pass') for s in statuses.values())} ok, "
            f"{len(warned)} warnings"
        )
        for node, message in warned.items():
            console.print(f"   warning {node.split('.')[-1]}: {message}")
        if spark:
            step = time.monotonic()
            marts = demo_spark.serve(db)
            console.print(f"   copied {marts} marts from Spark into {db} in {time.monotonic() - step:.1f}s")
        step = time.monotonic()
        forwarded = forward(console, db, endpoints)
        if spark:
            console.print(f"   the ledger's snapshot for Spark: {demo_spark.publish(db)}")
        if forwarded is not None:
            console.print(
                f"[bold]4. Forwarded[/bold] in {time.monotonic() - step:.1f}s: {forwarded.sent:,} events "
                f"sent to the sandbox Events API in {forwarded.batches} batches, {forwarded.dead} dead"
            )
    finally:
        ctx.__exit__(None, None, None)
    bi_copy = publish_read_only_copy(db)
    console.print("[bold]5. Results[/bold]")
    show_results(console, db, forwarded)
    console.print(
        f"Warehouse: [bold]{db}[/bold]; read-only copy for BI tools and SQL clients: [bold]{bi_copy}[/bold] "
        f"(open that one: a tool holding the main file blocks the pipeline). "
        f"Total {time.monotonic() - started:.1f}s. `make sandbox` keeps the servers running."
    )
    page = write_dashboard(bi_copy)
    console.print(f"[bold]6. Dashboard[/bold] (open it in a browser; it works offline): [bold]{page}[/bold]")


def forward(console: Console, db, endpoints) -> ForwardingSummary | None:
    """Step 4: the forwarder against the sandbox's Events API; a stop is reported, not raised
    (undelivered events stay pending in the ledger)."""
    with console.status("4. Forwarding eligible events to the TikTok Events API (sandbox)..."):
        try:
            return forward_events(db, base_url=endpoints.tiktok_url, token=endpoints.credentials.events_api_token)
        except ForwardingError as exc:
            console.print(f"[bold red]4. Forwarding stopped[/bold red]: {exc}")
            return exc.summary


if __name__ == "__main__":
    main()
