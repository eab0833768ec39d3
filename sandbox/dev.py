"""``make dev``: the Dagster UI on the local sandbox, with everything switched on.

Starts both sandbox servers, points the dlt sources and the Events API forwarder at them through
the environment a real deployment sets (``SOURCES__*`` for dlt, ``TIKTOK_EVENTS_API_TOKEN``),
prepares the Dagster instance (``.dagster_home/dagster.yaml``: the ``warehouse`` pool allows one
step at a time, docs/decisions/0008-one-writer-and-bi-copy.md) and runs ``dagster dev`` on ``workspace.yaml`` until Ctrl-C, with
the schedules and the forwarding sensor running (``SIGNAL_AUTOMATION=running``). The sensor's
first tick requests a full refresh (extract, models, forward). The sandbox clock follows wall time;
advance it further
(``POST <AppSprint URL>/_sandbox/clock {"advance_seconds": 3600}``) to make late events appear.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

from signal_campaigns.warehouse import REPO_ROOT, WAREHOUSE_ENV, bi_copy_path, warehouse_path

from .connection import sandbox_connection
from .runner import default_anchor, print_banner, sandbox_processes

DAGSTER_HOME = REPO_ROOT / ".dagster_home"
INSTANCE_CONFIG = """\
# Written by sandbox/dev.py. DuckDB allows one writing process: every asset that writes
# the warehouse is in the `warehouse` pool, and one run holding that pool is in progress at a time
# (the others wait in the run queue).
concurrency:
  pools:
    default_limit: 1
    granularity: run
# A run the forwarding sensor requests starts within a second, not the default five.
run_coordinator:
  module: dagster
  class: QueuedRunCoordinator
  config:
    dequeue_interval_seconds: 1
telemetry:
  enabled: false
"""


def prepare_dagster_home(home: Path) -> Path:
    """A Dagster instance directory whose ``dagster.yaml`` limits every pool to one run in
    progress (kept if the user already has one)."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(INSTANCE_CONFIG)
    elif "default_limit" not in config.read_text():
        print(
            f"note: {config} sets no pool limit; add `concurrency: pools: default_limit: 1` so that "
            "warehouse writers run one at a time",
            file=sys.stderr,
        )
    return home


def sandbox_environment(endpoints, *, automation: str = "running") -> dict[str, str]:
    """The process environment of a Dagster instance on the sandbox: dlt config, the Events API
    token, the warehouse path, the automation switch."""
    return dict(
        os.environ,
        **{WAREHOUSE_ENV: str(warehouse_path())},
        TIKTOK_EVENTS_API_TOKEN=endpoints.credentials.events_api_token,
        SIGNAL_AUTOMATION=automation,
        **sandbox_connection(endpoints).dlt_environment(),
    )


def main() -> None:
    anchor = default_anchor()
    with sandbox_processes(7, "demo", anchor, wall_time=True) as endpoints:
        print_banner(endpoints, wall_time=True)
        env = dict(sandbox_environment(endpoints), DAGSTER_HOME=str(prepare_dagster_home(DAGSTER_HOME)))
        print(
            "Dagster UI: http://127.0.0.1:3000 (Ctrl-C stops it and the sandbox)\n"
            "  running: schedules tiktok_ads_sync / appsprint_sync / daily_refresh, sensor forward_new_appsprint_events\n"
            f"  warehouse: {warehouse_path()} (BI tools: open {bi_copy_path()})"
        )
        with contextlib.suppress(KeyboardInterrupt):
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "dagster",
                    "dev",
                    "-w",
                    str(REPO_ROOT / "workspace.yaml"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    "3000",
                ],
                env=env,
                cwd=REPO_ROOT,
                check=False,
            )


if __name__ == "__main__":
    main()
