"""The ``mapping`` commands (show, set, disable, reset); the seed they read and write is handled by
:mod:`signal_campaigns.cli.mapping`."""

from __future__ import annotations

import dataclasses
from typing import Any

import typer

from signal_campaigns.cli import mapping as mapping_mod
from signal_campaigns.cli.state import State, run

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
    primary = [r for r in rows if r.dashboard_group == mapping_mod.PRIMARY]
    others = [r for r in rows if r.dashboard_group != mapping_mod.PRIMARY]
    shown = rows if all_events else primary
    st.out.table(
        f"Event mapping ({mapping_mod.mapping_path()})",
        ["SDK event", "TikTok event", "group"],
        [[r.sdk_event, r.tiktok_event or "(disabled)", r.dashboard_group] for r in shown],
    )
    if others and not all_events:
        st.out.say(
            f"+ {len(others)} more events ({', '.join(r.sdk_event for r in others)}): "
            "signal-campaigns mapping show --all"
        )
    st.out.emit_json(
        {
            "ok": True,
            "path": str(mapping_mod.mapping_path()),
            "mapping": [dataclasses.asdict(r) | {"enabled": r.enabled} for r in rows],
        }
    )


def _mapping_changed(st: State, message: str, data: dict[str, Any]) -> None:
    st.out.say(message)
    st.out.say("The models and the forwarder read this file: the next `dbt build` (or `make demo`) applies it.")
    st.out.emit_json({"ok": True, "path": str(mapping_mod.mapping_path()), **data})


@app.command("set")
def mapping_set(
    ctx: typer.Context,
    sdk_event: str = typer.Argument(..., help="AppSprint event type, e.g. purchase."),
    tiktok_event: str = typer.Argument(..., help="TikTok web event (standard or custom name)."),
) -> None:
    """Map an SDK event to a TikTok event (standard or custom name, validated)."""

    def change(st: State) -> None:
        row, kind = mapping_mod.set_event(sdk_event, tiktok_event)
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
        row, _ = mapping_mod.set_event(sdk_event, "")
        _mapping_changed(
            st,
            f"[yellow]{row.sdk_event}[/] is no longer forwarded.",
            {"sdk_event": row.sdk_event, "tiktok_event": "", "kind": "disabled"},
        )

    run(ctx, change)


@app.command("reset")
def mapping_reset(ctx: typer.Context) -> None:
    """Restore AppSprint's default mapping (listed in docs/appsprint_integration.md)."""

    def change(st: State) -> None:
        rows = mapping_mod.reset()
        _mapping_changed(
            st,
            f"[green]Default mapping restored[/] ({len(rows)} events).",
            {"mapping": [dataclasses.asdict(r) for r in rows]},
        )

    run(ctx, change)
