"""The ``link`` command; the link itself is built by :mod:`signal_campaigns.cli.link`."""

from __future__ import annotations

from typing import Any

import typer

from signal_campaigns.cli import settings_store as keys
from signal_campaigns.cli.link import CHECKLIST, signal_link
from signal_campaigns.cli.state import State, run
from signal_campaigns.cli.warehouse_reads import STAGING_SCHEMA as STAGING
from signal_campaigns.cli.warehouse_reads import Warehouse
from signal_campaigns.errors import ActionableError

app = typer.Typer()


@app.command()
def link(
    ctx: typer.Context,
    url: str | None = typer.Option(
        None,
        "--url",
        help="The Signal link URL from AppSprint (https://<tracking domain>/s/<link id>); saved for next time.",
    ),
) -> None:
    """The Signal link with TikTok macros, ready to paste, and the campaign checklist."""
    run(ctx, _link, url)


def _link(st: State, url: str | None) -> None:
    s, out = st.store, st.out
    links: list[dict[str, Any]] = []
    if url:
        signal_link(url)  # validate before saving
        s.set_many({keys.SIGNAL_LINK_URL: url.strip()})
        links = [{"name": None, "url": url.strip()}]
    elif s.get_str(keys.SIGNAL_LINK_URL):
        links = [{"name": None, "url": s.get_str(keys.SIGNAL_LINK_URL)}]
    else:
        try:
            with Warehouse(st.warehouse) as wh:
                if wh.has(STAGING, "stg_appsprint__signal_links"):
                    links = wh.rows(
                        f"select link_name as name, link_url as url from {STAGING}.stg_appsprint__signal_links "
                        "where network = 'tiktok' order by link_name"
                    )
        except ActionableError:
            links = []
    if not links:
        raise ActionableError(
            "no Signal link is known",
            fix="create a TikTok Signal link in AppSprint and pass its URL: "
            "signal-campaigns link --url https://<tracking domain>/s/<link id>",
        )
    result = [{"name": found["name"], "url": found["url"], "website_url": signal_link(found["url"])} for found in links]
    for r in result:
        out.url(f"[bold]{r['name'] or 'Signal link'}[/] - paste as the ad's Website URL:", r["website_url"])
    out.say("\n[bold]Campaign checklist[/]")
    for item in CHECKLIST:
        out.say(f"  [ ] {item}")
    out.emit_json({"ok": True, "links": result, "checklist": list(CHECKLIST)})
