"""The ``dashboard`` command: write the marketer's dashboard (one self-contained HTML file,
:mod:`signal_campaigns.dashboard`) from the warehouse, and optionally open it."""

from __future__ import annotations

import webbrowser

import typer

from signal_campaigns.cli.state import State, run
from signal_campaigns.dashboard import write_dashboard

app = typer.Typer()


@app.command()
def dashboard(
    ctx: typer.Context,
    open_it: bool = typer.Option(False, "--open", help="Open the page in the default browser."),
    days: int = typer.Option(7, help="The window shown first, in days (the switch also offers 7, 14 and 28)."),
    advertiser: str | None = typer.Option(None, help="Only this advertiser (default: every advertiser)."),
    out: str | None = typer.Option(
        None, help="Where to write the page (default: dashboard.html beside the warehouse)."
    ),
) -> None:
    """The dashboard: trends, the 12 metrics, readiness, forwarding health and reconciliation, per advertiser."""
    run(ctx, _dashboard, open_it, days, advertiser, out)


def _dashboard(st: State, open_it: bool, days: int, advertiser: str | None, out: str | None) -> None:
    path = write_dashboard(st.warehouse, out, days=days, advertiser_id=advertiser)
    st.out.say(f"Dashboard written: {path}")
    if open_it:
        webbrowser.open(path.as_uri())
    st.out.emit_json({"ok": True, "path": str(path)})
