"""The ``report`` and ``status`` commands: the metrics of :mod:`signal_campaigns.cli.report` and the
state of :mod:`signal_campaigns.cli.status`, read from the warehouse."""

from __future__ import annotations

import sys

import typer

from signal_campaigns.cli.render import Output
from signal_campaigns.cli.report import FRACTION_COLUMNS, GRAINS, campaign_metrics, table_rows, to_csv
from signal_campaigns.cli.state import State, run
from signal_campaigns.cli.status import status as status_data
from signal_campaigns.cli.warehouse_reads import Warehouse
from signal_campaigns.errors import ActionableError

app = typer.Typer()


@app.command()
def report(
    ctx: typer.Context,
    grain: str = typer.Option("campaign", help=f"One of: {', '.join(GRAINS)}."),
    start: str | None = typer.Option(None, help="First day, YYYY-MM-DD (advertiser-local, inclusive)."),
    end: str | None = typer.Option(None, help="Last day (default: the latest loaded day)."),
    days: int = typer.Option(7, help="Window length when --start is not given."),
    fmt: str = typer.Option("table", "--format", help="table, csv or json."),
    all_advertisers: bool = typer.Option(False, "--all", help="Every advertiser (default: the selected ones)."),
) -> None:
    """The 12 Signal Campaign metrics (ratios recomputed from sums) with their provenance."""
    run(ctx, _report, grain, start, end, days, fmt, all_advertisers)


def _report(
    st: State, grain: str, start: str | None, end: str | None, days: int, fmt: str, all_advertisers: bool
) -> None:
    out = st.out
    if fmt not in ("table", "csv", "json"):
        raise ActionableError(f"unknown format {fmt!r}", fix="use --format table, csv or json")
    with Warehouse(st.warehouse) as wh:
        data = campaign_metrics(wh, grain, start, end, days, st.advertisers(all_advertisers))
    if fmt != "json" and not out.json_mode:
        out.note(data["data_note"])
    if fmt == "csv":
        sys.stdout.write(to_csv(data["rows"]))
        return
    if fmt == "json" or out.json_mode:
        Output(True).emit_json({"ok": True, **data})
        return
    columns, rows = table_rows(grain, data["rows"])
    out.table(
        f"{grain} metrics {data['start_date']} to {data['end_date']} (advertiser-local days), advertiser(s): "
        + (", ".join(data["advertisers"]) if isinstance(data["advertisers"], list) else "all"),
        columns,
        rows,
        fractions=FRACTION_COLUMNS,
    )
    out.say(
        f"Source: {data['source']}. Installs = AppSprint's attribution; 'of which TikTok' = ad-days where AppSprint "
        "had none and TikTok's reported number was used instead. Ratios are ratio-of-sums; CTR and CTI are fractions."
    )


@app.command()
def status(ctx: typer.Context) -> None:
    """Last syncs, pending and dead events, value-optimisation readiness (x of 20)."""
    run(ctx, _status)


def _status(st: State) -> None:
    out = st.out
    with Warehouse(st.warehouse) as wh:
        data = {**status_data(wh), "data_note": wh.note}
    out.note(wh.note)
    out.table(
        "Last syncs",
        ["dataset", "last load", "loads", "failed loads"],
        [[r["dataset"], r["last_load_at"], r["loads"], r["failed_loads"]] for r in data["syncs"]],
    )
    f = data["forwarding"]
    out.table(
        "Forwarding",
        ["queue", "not yet enqueued", "pending", "in flight", "sent", "dead", "last sent"],
        [
            [
                f["queue"],
                f["not_yet_enqueued"],
                f["ledger"]["pending"],
                f["ledger"]["in_flight"],
                f["ledger"]["sent"],
                f["ledger"]["dead"],
                f["last_sent_at"],
            ]
        ],
    )
    out.table(
        "Value-based optimisation (unique Purchases in the best 7-day window)",
        ["pixel", "name", "best 7 days", "window", "current 7 days", "ready"],
        [
            [
                r["pixel_code"],
                r["pixel_name"],
                f"{r['max_purchases_in_7_days']} of {r['threshold']}",
                f"{r['best_window_start_date']} to {r['best_window_end_date']}" if r["best_window_end_date"] else None,
                r["current_7_day_purchases"],
                r["reached_20"],
            ]
            for r in data["value_optimization"]
        ],
    )
    out.emit_json({"ok": True, **data})
