"""The ``link`` command; the link itself is built by :mod:`signal_campaigns.cli.link`."""

from __future__ import annotations

from typing import Any

import typer

from signal_campaigns.cli import settings_store as keys
from signal_campaigns.cli.link import CHECKLIST, signal_link
from signal_campaigns.cli.state import State, run
from signal_campaigns.cli.warehouse_reads import STAGING_SCHEMA as STAGING
from signal_campaigns.cli.warehouse_reads import Warehouse, advertiser_scope
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
    all_advertisers: bool = typer.Option(
        False, "--all", help="The warehouse's links of every advertiser (default: the selected ones)."
    ),
) -> None:
    """The Signal link with TikTok macros, ready to paste, and the campaign checklist."""
    run(ctx, _link, url, all_advertisers)


def warehouse_links(wh: Warehouse, advertisers: list[str]) -> list[dict[str, Any]]:
    """The TikTok Signal links in the warehouse: of ``advertisers`` (an ad of theirs uses the link as
    its Website URL, or a click came from one of their campaigns) and the ones no ad uses yet; all for ``[]``."""
    if not wh.has(STAGING, "stg_appsprint__signal_links"):
        return []
    scope, ids = advertiser_scope("advertiser_id", advertisers)
    users = (
        f"select a.advertiser_id, l.link_id from {STAGING}.stg_tiktok_ads__ads a join {STAGING}.stg_appsprint__signal_links l "
        f"on a.landing_page_url like '%/s/' || l.link_id || '%' union all select c.advertiser_id, k.link_id from "
        f"{STAGING}.stg_appsprint__clicks k join {STAGING}.stg_tiktok_ads__campaigns c on k.campaign_id = c.campaign_id"
    )
    if not (wh.has(STAGING, "stg_tiktok_ads__ads") and wh.has(STAGING, "stg_appsprint__clicks")):
        users = "select cast(null as varchar) as advertiser_id, cast(null as varchar) as link_id where false"
    return wh.rows(
        f"with users as ({users}) select link_name as name, link_url as url, "
        "not exists (select 1 from users u where u.link_id = l.link_id) as unused "
        f"from {STAGING}.stg_appsprint__signal_links l where network = 'tiktok' and ("
        f"not exists (select 1 from users u where u.link_id = l.link_id) or "
        f"exists (select 1 from users u where u.link_id = l.link_id and {scope})) order by link_name",
        ids,
    )


def _link(st: State, url: str | None, all_advertisers: bool) -> None:
    s, out = st.store, st.out
    links: list[dict[str, Any]] = []
    advertisers = st.advertisers(all_advertisers)
    if url:
        signal_link(url)  # validate before saving
        s.set_many({keys.SIGNAL_LINK_URL: url.strip()})
        links = [{"name": None, "url": url.strip()}]
    elif s.get_str(keys.SIGNAL_LINK_URL):
        links = [{"name": None, "url": s.get_str(keys.SIGNAL_LINK_URL)}]
    else:
        try:
            with Warehouse(st.warehouse) as wh:
                links = warehouse_links(wh, advertisers)
                out.note(wh.note)
        except ActionableError:
            links = []
    if not links:
        raise ActionableError(
            "no Signal link is known",
            fix="create a TikTok Signal link in AppSprint and pass its URL: "
            "signal-campaigns link --url https://<tracking domain>/s/<link id>",
        )
    result = [
        {
            "name": found["name"],
            "url": found["url"],
            "website_url": signal_link(found["url"]),
            "used_by_an_ad": not found.get("unused", False),
        }
        for found in links
    ]
    for r in result:
        unused = "" if r["used_by_an_ad"] else " (no ad uses it yet)"
        out.url(f"[bold]{r['name'] or 'Signal link'}[/]{unused} - paste as the ad's Website URL:", r["website_url"])
    out.say("\n[bold]Campaign checklist[/]")
    for item in CHECKLIST:
        out.say(f"  [ ] {item}")
    out.emit_json({"ok": True, "advertisers": advertisers or "all", "links": result, "checklist": list(CHECKLIST)})
