"""The ``mapping`` commands (show, set, disable, reset); the seed and the local override they read
and write are handled by :mod:`signal_campaigns.cli.mapping`."""

from __future__ import annotations

import dataclasses
from typing import Any

import typer

from signal_campaigns.cli import mapping as mapping_mod
from signal_campaigns.cli.state import State, run
from signal_campaigns.cli.warehouse_reads import STAGING_SCHEMA, Warehouse
from signal_campaigns.errors import ActionableError
from signal_campaigns.warehouse.dbt_runner import mapping_override_path, mapping_overrides

app = typer.Typer(no_args_is_help=True, help="Show and change the SDK event -> TikTok event mapping.")


@app.command("show")
def mapping_show(
    ctx: typer.Context,
    all_events: bool = typer.Option(False, "--all", help="Also list the other events (collapsed otherwise)."),
) -> None:
    """The mapping: primary events first, the others collapsed unless --all."""
    run(ctx, _mapping_show, all_events)


def _mapping_show(st: State, all_events: bool) -> None:
    rows = mapping_mod.ordered(mapping_mod.read_mapping())
    overridden = set(mapping_overrides())
    primary = [r for r in rows if r.dashboard_group == mapping_mod.PRIMARY]
    others = [r for r in rows if r.dashboard_group != mapping_mod.PRIMARY]
    shown = rows if all_events else primary
    st.out.table(
        "Event mapping (* = your change, kept in " + str(mapping_override_path()) + ")",
        ["", "SDK event", "TikTok event", "group"],
        [
            ["*" if r.sdk_event in overridden else "", r.sdk_event, r.tiktok_event or "(disabled)", r.dashboard_group]
            for r in shown
        ],
    )
    if others and not all_events:
        st.out.say(
            f"+ {len(others)} more events ({', '.join(r.sdk_event for r in others)}): "
            "signal-campaigns mapping show --all"
        )
    st.out.emit_json(
        {
            "ok": True,
            "seed": str(mapping_mod.mapping_path()),
            "override": str(mapping_override_path()),
            "mapping": [
                dataclasses.asdict(r) | {"enabled": r.enabled, "overridden": r.sdk_event in overridden} for r in rows
            ],
        }
    )


def _mapping_changed(st: State, message: str, data: dict[str, Any]) -> None:
    st.out.say(message)
    where = mapping_override_path()
    saved = f"Saved in {where} (git-ignored; the tracked seed keeps AppSprint's defaults)"
    if not where.exists():
        saved = f"Your changes ({where}) are removed; the tracked seed's defaults apply"
    st.out.say(f"{saved}: the next build (`make demo`, a Dagster run, or dbt through the project) applies it.")
    st.out.emit_json({"ok": True, "override": str(mapping_override_path()), **data})


def reported_sdk_events(st: State) -> list[str]:
    """The event types AppSprint reported into the warehouse (none when it cannot be read)."""
    try:
        with Warehouse(st.warehouse) as wh:
            if not wh.has(STAGING_SCHEMA, "stg_appsprint__events"):
                return []
            return [
                r["event_type"]
                for r in wh.rows(f"select distinct event_type from {STAGING_SCHEMA}.stg_appsprint__events")
            ]
    except ActionableError:
        return []


@app.command("set")
def mapping_set(
    ctx: typer.Context,
    sdk_event: str = typer.Argument(..., help="AppSprint event type, e.g. purchase."),
    tiktok_event: str = typer.Argument(..., help="TikTok web event (standard or custom name)."),
    new: bool = typer.Option(
        False, "--new", help="The SDK event is new: AppSprint has not reported it yet (skips the spelling check)."
    ),
) -> None:
    """Map an SDK event to a TikTok event (standard or custom name, validated)."""

    def change(st: State) -> None:
        known = None if new else mapping_mod.known_sdk_events(reported_sdk_events(st))
        row, kind = mapping_mod.set_event(sdk_event, tiktok_event, known=known, new=new)
        note = " (custom events can be reported on but not optimised for)" if kind == "custom" else ""
        _mapping_changed(
            st,
            f"[green]{row.sdk_event} -> {row.tiktok_event}[/] ({kind}){note}.",
            {"sdk_event": row.sdk_event, "tiktok_event": row.tiktok_event, "kind": kind},
        )

    run(ctx, change)


@app.command("disable")
def mapping_disable(ctx: typer.Context, sdk_event: str = typer.Argument(..., help="AppSprint event type.")) -> None:
    """Stop forwarding an SDK event (its TikTok event becomes blank)."""

    def change(st: State) -> None:
        row, _ = mapping_mod.set_event(sdk_event, "", known=mapping_mod.known_sdk_events(reported_sdk_events(st)))
        _mapping_changed(
            st,
            f"[yellow]{row.sdk_event}[/] is no longer forwarded.",
            {"sdk_event": row.sdk_event, "tiktok_event": "", "kind": "disabled"},
        )

    run(ctx, change)


@app.command("reset")
def mapping_reset(ctx: typer.Context) -> None:
    """Forget your changes: AppSprint's default mapping applies again (docs/appsprint_integration.md)."""

    def change(st: State) -> None:
        rows = mapping_mod.reset()
        _mapping_changed(
            st,
            f"[green]Default mapping restored[/] ({len(rows)} events).",
            {"mapping": [dataclasses.asdict(r) for r in rows]},
        )

    run(ctx, change)
