"""``make demo``: the main job on the local sandbox.

Starts both sandbox servers on loopback, shows what they serve (base URLs, credentials, the
world's headline numbers, a live probe of each API), then stops them. Later stages of the
pipeline (extract -> models -> forward) hook in here as they land.
"""

from __future__ import annotations

import argparse
import time

import httpx
from rich.console import Console
from rich.table import Table

from .sandbox.ground_truth import summary
from .sandbox.runner import default_anchor, load_world, print_banner, sandbox_processes


def probe(endpoints) -> Table:
    """One real request to each API, so the user sees the sandbox answer like the real thing."""
    creds = endpoints.credentials
    table = Table(title="Live probe", show_lines=False)
    table.add_column("request")
    table.add_column("answer")
    with httpx.Client(timeout=10) as http:
        info = http.get(
            f"{endpoints.tiktok_api_url}/oauth2/advertiser/get/",
            params={"app_id": creds.tiktok_app_id, "secret": creds.tiktok_app_secret},
            headers={"Access-Token": creds.tiktok_access_token},
        ).json()
        names = ", ".join(a["advertiser_name"] for a in info.get("data", {}).get("list", []))
        table.add_row("TikTok oauth2/advertiser/get/", f"code={info.get('code')} advertisers: {names}")
        events = http.get(
            f"{endpoints.appsprint_api_url}/apps/{creds.appsprint_app_id}/events",
            params={"limit": 1000},
            headers={"Authorization": f"Bearer {creds.appsprint_export_token}"},
        )
        body = events.json()
        table.add_row(
            "AppSprint /events (first page)",
            f"HTTP {events.status_code}, {len(body.get('data', []))} rows, next_cursor "
            f"{'set' if body.get('meta', {}).get('next_cursor') else 'none'}",
        )
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m signal_campaigns.demo", description=__doc__)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scale", default="demo")
    args = parser.parse_args(argv)
    console = Console()
    anchor = default_anchor()
    started = time.monotonic()
    with console.status("Generating the sandbox world and starting the servers..."):
        world = load_world(args.seed, args.scale, anchor)
        ctx = sandbox_processes(args.seed, args.scale, anchor)
        endpoints = ctx.__enter__()
    try:
        console.print(f"Sandbox up in {time.monotonic() - started:.1f}s.")
        print_banner(endpoints)
        facts = Table(title=f"The sandbox world (seed {args.seed}, scale {args.scale})")
        facts.add_column("what")
        facts.add_column("count", justify="right")
        for key, value in summary(world).items():
            facts.add_row(str(key).replace("_", " "), f"{value:,}" if isinstance(value, int) else str(value))
        console.print(facts)
        console.print(probe(endpoints))
        console.print("Run `make sandbox` to keep the servers running for manual use.")
    finally:
        ctx.__exit__(None, None, None)


if __name__ == "__main__":
    main()
