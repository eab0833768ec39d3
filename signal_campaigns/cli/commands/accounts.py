"""The ``accounts`` command: the advertisers the connection can read, and which ones to report on."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from signal_campaigns.cli import settings_store as keys
from signal_campaigns.cli.render import Output, timezone_label
from signal_campaigns.cli.state import State, run, tiktok_api
from signal_campaigns.errors import ActionableError
from signal_campaigns.tiktok.marketing import TikTokApi

app = typer.Typer()


@app.command()
def accounts(
    ctx: typer.Context,
    select: Annotated[
        list[str] | None, typer.Option("--select", help="Advertiser id to report on (repeatable).")
    ] = None,
) -> None:
    """Load the advertisers this connection can read (name, currency, timezone, status); select some."""
    run(ctx, _accounts, select or [])


def _accounts(st: State, select: list[str]) -> None:
    s, out = st.store, st.out
    api = tiktok_api(st)
    granted = [r["advertiser_id"] for r in api.authorized_advertisers()]
    if select:
        unknown = [a for a in select if a not in granted]
        if unknown:
            raise ActionableError(
                f"advertiser(s) {', '.join(unknown)} are not granted to this connection",
                fix=f"choose among: {', '.join(granted) or '(none)'}; or reconnect with an account that has access",
            )
        s.set_many({keys.ADVERTISER_IDS: list(dict.fromkeys(select))})
    selected = s.get_list(keys.ADVERTISER_IDS)
    rows = advertiser_rows(api, granted, selected)
    show_advertisers(out, rows, "Advertisers (* = selected)")
    if select:
        out.say(f"[green]Selected[/] {', '.join(select)} (saved in {s.config_path}).")
    out.emit_json({"ok": True, "advertisers": rows, "selected": selected})


def advertiser_rows(api: TikTokApi, ids: list[str], selected: list[str]) -> list[dict[str, Any]]:
    info = {str(r.get("advertiser_id")): r for r in api.advertiser_info(ids)}
    return [
        {
            "advertiser_id": a,
            "name": info.get(a, {}).get("name"),
            "currency": info.get(a, {}).get("currency"),
            "timezone": info.get(a, {}).get("timezone"),
            "timezone_display": timezone_label(info.get(a, {}).get("timezone")),
            "status": info.get(a, {}).get("status"),
            "selected": a in selected,
        }
        for a in ids
    ]


def show_advertisers(out: Output, rows: list[dict[str, Any]], title: str) -> None:
    out.table(
        title,
        ["", "advertiser id", "name", "currency", "timezone", "status"],
        [
            [
                "*" if r["selected"] else "",
                r["advertiser_id"],
                r["name"],
                r["currency"],
                r["timezone_display"],
                r["status"],
            ]
            for r in rows
        ],
    )
