"""``make dev``: the Dagster UI on the local sandbox.

Starts both sandbox servers, points the dlt sources at them through dlt's environment
configuration (the same variables a real deployment sets), and runs ``dagster dev`` on
``workspace.yaml`` until Ctrl-C. Materialise the assets from the UI to run the pipeline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from .sandbox.runner import default_anchor, print_banner, sandbox_processes
from .warehouse import REPO_ROOT, WAREHOUSE_ENV, warehouse_path


def sandbox_environment(endpoints, advertiser_ids: list[str]) -> dict[str, str]:
    """dlt config for both sources pointed at the sandbox (sandbox credentials only)."""
    creds = endpoints.credentials
    return {
        "SOURCES__TIKTOK_ADS__BASE_URL": endpoints.tiktok_api_url,
        "SOURCES__TIKTOK_ADS__ACCESS_TOKEN": creds.tiktok_access_token,
        "SOURCES__TIKTOK_ADS__ADVERTISER_IDS": json.dumps(advertiser_ids),
        "SOURCES__APPSPRINT__BASE_URL": endpoints.appsprint_api_url,
        "SOURCES__APPSPRINT__APP_ID": creds.appsprint_app_id,
        "SOURCES__APPSPRINT__EXPORT_TOKEN": creds.appsprint_export_token,
        "TIKTOK_EVENTS_API_TOKEN": creds.events_api_token,
    }


def main() -> None:
    import httpx

    anchor = default_anchor()
    with sandbox_processes(7, "demo", anchor) as endpoints:
        print_banner(endpoints)
        creds = endpoints.credentials
        advertisers = httpx.get(f"{endpoints.tiktok_api_url}/oauth2/advertiser/get/",
                                params={"app_id": creds.tiktok_app_id, "secret": creds.tiktok_app_secret},
                                headers={"Access-Token": creds.tiktok_access_token}, timeout=30).json()["data"]["list"]
        home = REPO_ROOT / ".dagster_home"
        home.mkdir(exist_ok=True)
        env = dict(os.environ, DAGSTER_HOME=str(home), **{WAREHOUSE_ENV: str(warehouse_path())},
                   **sandbox_environment(endpoints, [a["advertiser_id"] for a in advertisers]))
        print("Dagster UI: http://127.0.0.1:3000 (Ctrl-C stops it and the sandbox)")
        try:
            subprocess.run([sys.executable, "-m", "dagster", "dev", "-w", str(REPO_ROOT / "workspace.yaml"),
                            "-h", "127.0.0.1", "-p", "3000"], env=env, cwd=REPO_ROOT, check=False)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
