"""``make dev``: the Dagster UI on the local sandbox.

Starts both sandbox servers, points the dlt sources at them through dlt's environment
configuration (the same variables a real deployment sets), and runs ``dagster dev`` on
``workspace.yaml`` until Ctrl-C. Materialise the assets from the UI to run the pipeline.
"""

from __future__ import annotations

import os
import subprocess
import sys

from .pipeline import Connection
from .sandbox.runner import default_anchor, print_banner, sandbox_processes
from .warehouse import REPO_ROOT, WAREHOUSE_ENV, warehouse_path


def main() -> None:
    anchor = default_anchor()
    with sandbox_processes(7, "demo", anchor) as endpoints:
        print_banner(endpoints)
        home = REPO_ROOT / ".dagster_home"
        home.mkdir(exist_ok=True)
        env = dict(os.environ, DAGSTER_HOME=str(home), **{WAREHOUSE_ENV: str(warehouse_path())},
                   TIKTOK_EVENTS_API_TOKEN=endpoints.credentials.events_api_token,
                   **Connection.from_sandbox(endpoints).dlt_environment())
        print("Dagster UI: http://127.0.0.1:3000 (Ctrl-C stops it and the sandbox)")
        try:
            subprocess.run([sys.executable, "-m", "dagster", "dev", "-w", str(REPO_ROOT / "workspace.yaml"),
                            "-h", "127.0.0.1", "-p", "3000"], env=env, cwd=REPO_ROOT, check=False)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
