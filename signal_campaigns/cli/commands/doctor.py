"""The ``doctor`` command: shows the checks of :mod:`signal_campaigns.cli.doctor`, exit code 1 on a failing one."""

from __future__ import annotations

import dataclasses

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn

from signal_campaigns.cli.doctor import Doctor
from signal_campaigns.cli.state import State, run

app = typer.Typer()


@app.command()
def doctor(
    ctx: typer.Context,
    test_event_code: str | None = typer.Option(None, help="Test Events code for the token check."),
) -> None:
    """Check the setup and the data against the troubleshooting table (docs/appsprint_integration.md); each problem comes with its fix."""
    run(ctx, _doctor, test_event_code)


def _doctor(st: State, test_event_code: str | None) -> None:
    out = st.out
    doc = Doctor(st.store, st.warehouse, test_event_code)
    steps = len(doc.checks())
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=out.err, transient=True) as progress:
        task = progress.add_task("checking", total=steps)
        results = doc.run(lambda title: progress.update(task, description=title, advance=1))
    for c in results:
        out.say(f"{out.status(c.status)} [bold]{c.title}[/]")
        if c.detail:
            out.say(f"       {c.detail}")
        if c.fix:
            out.say(f"       [bold]Fix:[/] {c.fix}")
    counts = {k: sum(1 for c in results if c.status == k) for k in ("pass", "warn", "fail", "skip")}
    out.say(", ".join(f"{n} {k}" for k, n in counts.items()))
    out.emit_json({"ok": counts["fail"] == 0, "summary": counts, "checks": [dataclasses.asdict(c) for c in results]})
    if counts["fail"]:
        raise typer.Exit(1)
