"""The ``signal-campaigns`` command: the integration's setup steps and its operations.

Global options: ``--project-dir`` (where ``.dlt/`` lives; env ``DLT_PROJECT_DIR``; default the
current directory), ``--warehouse`` (the DuckDB file; env ``SIGNAL_WAREHOUSE_PATH``) and ``--json``
(one JSON document on stdout, messages on stderr). Exit code 1 on an error (and when ``doctor``
finds a failing check), 2 on a usage error. See docs/cli.md.

Each command group lives in its own module of :mod:`signal_campaigns.cli.commands`; what they
share (:class:`~signal_campaigns.cli.state.State`, the error handling) is in
:mod:`signal_campaigns.cli.state`.
"""

from __future__ import annotations

import typer

from .commands import accounts, connect, dashboard, doctor, link, mapping, pixel, report
from .render import Output
from .settings_store import SettingsStore, resolve_project_dir
from .state import State

app = typer.Typer(
    name="signal-campaigns",
    no_args_is_help=True,
    add_completion=False,
    help="Set up and operate TikTok Signal Campaigns measured by AppSprint.",
)
# the order of the commands in --help: setup steps first, then operations; groups (mapping) last
for group in (connect, accounts, pixel, link, doctor, report, dashboard):
    app.add_typer(group.app)
app.add_typer(mapping.app, name="mapping")


@app.callback()
def _global(
    ctx: typer.Context,
    project_dir: str | None = typer.Option(
        None,
        "--project-dir",
        help="Project directory holding .dlt/ (env DLT_PROJECT_DIR; default: the current directory).",
    ),
    warehouse: str | None = typer.Option(
        None, "--warehouse", help="DuckDB warehouse file (env SIGNAL_WAREHOUSE_PATH)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON document on stdout (for scripts)."),
) -> None:
    ctx.obj = State(SettingsStore(resolve_project_dir(project_dir)), Output(json_output), warehouse)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
