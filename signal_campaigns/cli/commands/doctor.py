"""The ``doctor`` command: shows the checks of :mod:`signal_campaigns.cli.doctor`, exit code 1 on a failing one."""

from __future__ import annotations

import dataclasses

import typer

from signal_campaigns.cli.doctor import Doctor
from signal_campaigns.cli.state import State, run

app = typer.Typer()


@app.command()
def doctor(
    ctx: typer.Context,
    test_event_code: str | None = typer.Option(None, help="Test Events code for the token check."),
    all_advertisers: bool = typer.Option(
        False, "--all", help="Check the data of every advertiser (default: the selected ones)."
    ),
) -> None:
    """Check the setup and the data against the troubleshooting table (docs/appsprint_integration.md); each problem comes with its fix."""
    run(ctx, _doctor, test_event_code, all_advertisers)


def _doctor(st: State, test_event_code: str | None, all_advertisers: bool) -> None:
    out = st.out
    advertisers = st.advertisers(all_advertisers)
    doc = Doctor(st.store, st.warehouse, test_event_code, advertisers)
    with out.progress("checking", total=len(doc.checks())) as step:
        results = doc.run(step)
    out.note(doc.data.note)
    for c in results:
        out.say(f"{out.status(c.status)} [bold]{c.title}[/]")
        if c.detail:
            out.say(f"       {c.detail}")
        if c.table and c.table["rows"]:
            out.table(None, c.table["columns"], c.table["rows"])
        if c.fix:
            out.say(f"       [bold]Fix:[/] {c.fix}")
    counts = {k: sum(1 for c in results if c.status == k) for k in ("pass", "warn", "fail", "skip")}
    out.say(", ".join(f"{n} {k}" for k, n in counts.items()))
    out.emit_json(
        {
            "ok": counts["fail"] == 0,
            "summary": counts,
            "advertisers": advertisers or "all",
            "data_note": doc.data.note,
            "checks": [dataclasses.asdict(c) for c in results],
        }
    )
    if counts["fail"]:
        raise typer.Exit(1)
