"""The Signal link of the AppSprint sandbox: ``GET /s/{link_id}``.

``GET /s/{link_id}?campaign_id=..&adgroup_id=..&ad_id=..&placement=..&ttclid=..`` records a click
(client IP, User-Agent, TikTok ids, clock time) that the ``/clicks`` endpoint then serves, and
redirects to the App Store / Google Play by user agent (a choice page for any other browser).
"""

from __future__ import annotations

import html
import re
import threading
import urllib.parse
import uuid
from typing import Any

import orjson
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from .appsprint_errors import rate_limited, render_fault
from .appsprint_pages import ResourceIndex
from .appsprint_render import format_ms, to_ms
from .appsprint_resources import ExtraRow
from .appsprint_segments import SegmentedIndex
from .control import SandboxControl

# The sandbox app's store pages (the same as the generator's plain-store-URL ads).
DEFAULT_APP_STORE_URL = "https://apps.apple.com/app/id6443219876"
DEFAULT_PLAY_STORE_URL = "https://play.google.com/store/apps/details?id=app.sprintly.quest"
SIGNAL_LINK_ENDPOINT = "signal-link"  # fault / rate-limit / stats name of GET /s/{link_id}

_IOS_UA = re.compile(r"iPhone|iPad|iPod|\biOS\b|CPU OS \d", re.IGNORECASE)
_ANDROID_UA = re.compile(r"Android", re.IGNORECASE)
_UNEXPANDED_MACRO = re.compile(r"^__[A-Z0-9_]+__$")


def detect_os(user_agent: str | None) -> str | None:
    """``ios`` | ``android`` from a User-Agent; None when neither (desktop, bots, missing)."""
    if not user_agent:
        return None
    if _ANDROID_UA.search(user_agent):
        return "android"
    if _IOS_UA.search(user_agent):
        return "ios"
    return None


def _macro(params: QueryParams, name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    value = value.strip()
    if not value or _UNEXPANDED_MACRO.match(value):
        return None  # empty, or a macro TikTok did not expand (e.g. an ad preview)
    return value


class SignalLink:
    """The redirect endpoint and the clicks it recorded (``lock`` guards them and the clicks index)."""

    def __init__(
        self,
        links: dict[str, str],
        clicks: ResourceIndex | SegmentedIndex,
        control: SandboxControl,
        *,
        app_store_url: str = DEFAULT_APP_STORE_URL,
        play_store_url: str = DEFAULT_PLAY_STORE_URL,
        trust_forwarded_for: bool = True,
    ) -> None:
        self.links = links
        self.clicks = clicks
        self.control = control
        self.app_store_url = app_store_url
        self.play_store_url = play_store_url
        self.trust_forwarded_for = trust_forwarded_for
        self.lock = threading.Lock()
        self.recorded_clicks: list[dict[str, Any]] = []

    def client_ip(self, request: Request) -> str | None:
        if self.trust_forwarded_for:
            forwarded = request.headers.get("x-forwarded-for")
            if forwarded:
                first = forwarded.split(",")[0].strip()
                if first:
                    return first
        if request.client is not None and request.client.host:
            return request.client.host
        return None

    def record_click(self, link_id: str, request: Request) -> dict[str, Any]:
        params = request.query_params
        user_agent = request.headers.get("user-agent") or _macro(params, "ua")
        ip = self.client_ip(request) or _macro(params, "ip")
        clicks = self.clicks
        control = self.control
        with self.lock:
            now_ms = to_ms(control.clock.now())
            # Every recorded click gets an updated_at strictly after every click already visible,
            # so a reader resuming with updated_since=<last updated_at> never misses one. On a
            # frozen clock that means moving the clock on by a millisecond.
            latest = clicks.max_visible_ms(now_ms)
            at_ms = now_ms if latest is None or latest < now_ms else latest + 1
            if at_ms > now_ms:
                control.clock.advance((at_ms - now_ms) / 1000.0)
            click_id = f"clk_live_{uuid.uuid4().hex[:20]}"
            row = {
                "click_id": click_id,
                "link_id": link_id,
                "clicked_at": format_ms(at_ms),
                "ttclid": _macro(params, "ttclid"),
                "campaign_id": _macro(params, "campaign_id"),
                "adgroup_id": _macro(params, "adgroup_id"),
                "ad_id": _macro(params, "ad_id"),
                "placement": _macro(params, "placement"),
                "ip": ip,
                "user_agent": user_agent,
                "os": detect_os(user_agent),
                "updated_at": format_ms(at_ms),
            }
            clicks.add_extra(ExtraRow(at_ms, click_id, orjson.dumps(row).decode()))
            self.recorded_clicks.append(
                {
                    **row,
                    "campaign_name": _macro(params, "campaign_name"),
                    "ad_name": _macro(params, "ad_name"),
                    "callback": _macro(params, "callback"),
                }
            )
        return row

    async def endpoint(self, request: Request) -> Response:
        blocked = await self.control.intercept(
            SIGNAL_LINK_ENDPOINT, render_fault, who=self.client_ip(request) or "", render_rate_limited=rate_limited
        )
        if blocked is not None:
            return blocked
        link_id = request.path_params["link_id"]
        if link_id not in self.links:
            return HTMLResponse(
                "<!doctype html><html><head><title>Link not found</title></head><body>"
                "<h1>Link not found</h1><p>This AppSprint link does not exist or was removed.</p></body></html>",
                status_code=404,
            )
        click = self.record_click(link_id, request)
        headers = {"X-AppSprint-Click-Id": click["click_id"], "Cache-Control": "no-store"}
        play_store_url = self.play_store_url
        android_url = f"{play_store_url}&referrer=" + urllib.parse.quote(
            f"appsprint_click_id={click['click_id']}", safe=""
        )
        if "?" not in play_store_url:
            android_url = android_url.replace("&referrer=", "?referrer=", 1)
        if click["os"] == "ios":
            return RedirectResponse(self.app_store_url, status_code=302, headers=headers)
        if click["os"] == "android":
            return RedirectResponse(android_url, status_code=302, headers=headers)
        page = (
            '<!doctype html><html><head><meta charset="utf-8"><title>Get the app</title></head><body>'
            "<h1>Get the app</h1><p>Open this link on your phone, or choose your store:</p><ul>"
            f'<li><a href="{html.escape(self.app_store_url)}">Download on the App Store</a></li>'
            f'<li><a href="{html.escape(android_url)}">Get it on Google Play</a></li>'
            "</ul></body></html>"
        )
        return HTMLResponse(page, status_code=200, headers=headers)
