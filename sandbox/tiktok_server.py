"""Sandbox TikTok Business API (Marketing API v1.3 + Events API 2.0 web), an ASGI app.

It imitates the real API over real HTTP, quirks included (docs/tiktok_business_api.md), so the product's tests, demo and benchmarks run without TikTok:

- Everything lives under ``/open_api/v1.3/<path>/``. The trailing slash is required: without it,
  or on an unknown path, the answer is HTTP 404 with the plain-text body ``page not found``; a
  known path with the wrong method gets HTTP 405 plain text. Known paths always answer HTTP 200
  with the envelope ``{"code", "message", "request_id", "data"}`` (``data: {}`` on errors) and the
  headers ``X-TT-LOGID`` / ``x-tt-trace-id``.
- Auth: the ``Access-Token`` header. Missing -> 40104, unknown or revoked -> 40105, no access to
  the advertiser -> 40001, no permission on a pixel -> 40001.
- Array/object query parameters are JSON strings (Python-repr single-quoted lists are accepted
  too, as the real server is lenient); malformed -> 40002 naming the parameter.

Marketing API paths: ``oauth2/access_token/`` (POST), ``oauth2/revoke_token/`` (POST),
``oauth2/advertiser/get/``, ``advertiser/info/``, ``campaign/get/``, ``adgroup/get/``, ``ad/get/``,
``report/integrated/get/``, ``pixel/list/``; Events API: ``event/track/`` (POST).

Sandbox-only routes (not part of TikTok's API):

- ``GET /portal/auth?app_id=..&state=..&redirect_uri=..`` (also ``/marketing_api/auth``): a
  stand-in for TikTok's consent page. There is nobody to approve anything, so it immediately
  redirects (302) to ``redirect_uri?auth_code=<new code>&state=<same state>``; the product's CLI
  can thus do a real OAuth round trip against the sandbox.
- ``POST /_sandbox/auth_codes`` -> ``{"auth_code", "expires_at"}``: a fresh code, for tests.
- ``POST /_sandbox/tokens`` body ``{"kind": "marketing"|"events"|"standard", "advertiser_ids":
  [...]}`` (both optional) -> ``{"token"}``: mint a token, e.g. one limited to some advertisers.
- ``POST /_sandbox/tokens/revoke`` body ``{"token": ...}``: revoke any token (even the world's).
- ``GET /_sandbox/events/received?pixel_code=..`` -> counters ``{requests, events_received,
  unique_events, duplicates_dropped, test_events, ...}``; with ``payloads=true`` also the stored
  events (``limit`` default 100, max 10,000; ``offset``; ``kind=production|test``).
- ``POST /_sandbox/events/reset``; ``GET|POST /_sandbox/events/config`` (e.g.
  ``{"strict_hashing": false, "max_age_seconds": 604800}``).
- ``POST /_sandbox/reset``: everything back to the start state (clock at its start, faults,
  counters, rate limits, tokens, auth codes, events store and config), so one server can serve
  many tests.
- plus the shared control routes of :mod:`.control` (clock, faults, stats, rate limits).

Faults (``POST /_sandbox/faults``) use endpoint names without the version prefix and without the
trailing slash, e.g. ``report/integrated/get``, ``event/track``, ``campaign/get``, ``*``.
A ``code`` fault answers HTTP 200 + envelope (40100, 40133, 40132, 50000, 40105, ...; a 20001
fault processes the request normally and then answers code 20001); an ``http`` fault answers that
HTTP status with nginx's HTML page (502 by default); ``delay``/``timeout`` sleep first; a
``shape`` fault answers code 0 in the odd shape its ``message`` names (no ``data.list``, no
``page_info``, times in milliseconds, a bad report day, negative spend, 40067 for a query over N
rows: :func:`sandbox.tiktok_core.apply_shape`).
Rate limits: ``marketing_qps`` (default 10) per Marketing API endpoint and ``events_qps``
(default 1,000) for ``event/track``; over the limit -> HTTP 200 + 40100.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from sandbox.control import HTML_502, Fault, SandboxClock, SandboxControl
from sandbox.tiktok_core import AUTH_CODE_TTL_SECONDS, ShapeFault, apply_shape
from sandbox.tiktok_event_rules import EventsConfig, TrackError
from sandbox.tiktok_events_api import EventsApiRoutes
from sandbox.tiktok_marketing import MarketingReads
from sandbox.tiktok_oauth import OAuthRoutes
from sandbox.tiktok_params import MESSAGES, ApiError, Ctx
from sandbox.tiktok_report_query import ReportRoutes
from sandbox.world import World

log = logging.getLogger(__name__)

API_PREFIX = "/open_api/v1.3/"
DEFAULT_MARKETING_QPS = 10.0
DEFAULT_EVENTS_QPS = 1000.0
HTML_504 = (
    "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
    "<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)

NO_RATE_LIMITS: dict[str, float | None] = {"*": None, "event/track": None}


class TikTokSandbox(OAuthRoutes, MarketingReads, ReportRoutes, EventsApiRoutes):
    """One sandbox server (one World): the route families, the dispatcher, faults and reset."""

    def render_fault(self, fault: Fault) -> Response:
        if fault.kind == "shape":
            return ShapeFault(fault.message or "")
        if fault.kind == "http" or (fault.status and fault.code is None):
            status = fault.status or 502
            if status == 502:
                html = HTML_502
            elif status == 504:
                html = HTML_504
            else:
                html = (
                    f"<html><head><title>{status}</title></head><body><center><h1>{status}</h1></center>"
                    "<hr><center>nginx</center></body></html>"
                )
            return HTMLResponse(html, status_code=status)
        code = fault.code or 50000
        if code == 20001:
            return _PartialSuccess()
        return self.envelope(code, fault.message or MESSAGES.get(code, "Error"), {})

    def render_rate_limited(self) -> Response:
        return self.envelope(40100, MESSAGES[40100], {})

    # --- dispatcher -------------------------------------------------------------------------------
    async def dispatch(self, request: Request) -> Response:
        path = request.path_params.get("path", "")
        spec = ROUTES.get(path)
        if spec is None:
            return PlainTextResponse("page not found", status_code=404)
        methods, endpoint, auth, handler = spec
        if request.method not in methods:
            return PlainTextResponse("method not allowed", status_code=405)
        override = await self.control.intercept(
            endpoint, self.render_fault, render_rate_limited=self.render_rate_limited
        )
        partial = False
        shape = override.shape if isinstance(override, ShapeFault) else None
        if override is not None and shape is None:
            if not isinstance(override, _PartialSuccess):
                return override
            partial = True
        try:
            token = self.authenticate(request) if auth else None
            data = await handler(self, Ctx(request, token, request.query_params))
            if shape is not None:
                data = apply_shape(data, shape)
        except ApiError as exc:
            return self.envelope(exc.code, exc.message, {})
        except TrackError as exc:
            return self.envelope(exc.code, exc.message, {})
        except Exception:  # pragma: no cover - a sandbox bug: answer like TikTok's system error
            log.exception("sandbox TikTok handler %s failed", endpoint)
            return self.envelope(50000, MESSAGES[50000], {})
        if partial:
            return self.envelope(20001, MESSAGES[20001], data)
        return self.envelope(0, "OK", data)

    def reset(self) -> None:
        """Back to the state right after start: clock at its start (SandboxClock.restart), no faults,
        zero counters, the initial rate limits, tokens and events config, no auth codes, no events."""
        control = self.control
        control.disarm_all()
        control.stats.clear()
        self.clock.restart()
        control.rate_limiter.limits.clear()
        control.rate_limiter.configure(self.initial_rate_limits)
        self.reset_tokens()
        self.auth_codes.clear()
        self.events.reset()
        self.events.config = dataclasses.replace(self.initial_events_config)

    async def sandbox_reset(self, request: Request) -> Response:
        self.reset()
        return JSONResponse({"reset": True, "now": self.clock.now().isoformat()})


class _PartialSuccess(Response):
    """Marker: a 20001 fault; the request is processed, then answered with code 20001."""

    def __init__(self) -> None:
        super().__init__(b"", status_code=200)


Handler = Callable[[TikTokSandbox, Ctx], Awaitable[dict[str, Any]]]

# path (after /open_api/v1.3/, trailing slash included) -> (methods, endpoint name, auth?, handler)
ROUTES: dict[str, tuple[frozenset[str], str, bool, Handler]] = {
    "oauth2/access_token/": (frozenset({"POST"}), "oauth2/access_token", False, TikTokSandbox.oauth_access_token),
    "oauth2/revoke_token/": (frozenset({"POST"}), "oauth2/revoke_token", False, TikTokSandbox.oauth_revoke_token),
    "oauth2/advertiser/get/": (frozenset({"GET"}), "oauth2/advertiser/get", True, TikTokSandbox.oauth_advertiser_get),
    "advertiser/info/": (frozenset({"GET"}), "advertiser/info", True, TikTokSandbox.advertiser_info),
    "campaign/get/": (frozenset({"GET"}), "campaign/get", True, lambda s, c: s.entity_get(c, "campaign")),
    "adgroup/get/": (frozenset({"GET"}), "adgroup/get", True, lambda s, c: s.entity_get(c, "adgroup")),
    "ad/get/": (frozenset({"GET"}), "ad/get", True, lambda s, c: s.entity_get(c, "ad")),
    "report/integrated/get/": (frozenset({"GET"}), "report/integrated/get", True, TikTokSandbox.report_get),
    "pixel/list/": (frozenset({"GET"}), "pixel/list", True, TikTokSandbox.pixel_list),
    "event/track/": (frozenset({"POST"}), "event/track", True, TikTokSandbox.event_track),
}
EVENTS_ENDPOINTS = ("event/track",)


def create_tiktok_app(
    world: World,
    control: SandboxControl | None = None,
    *,
    marketing_qps: float | None = DEFAULT_MARKETING_QPS,
    events_qps: float | None = DEFAULT_EVENTS_QPS,
    rate_limits: Mapping[str, float | None] | None = None,
    events_config: EventsConfig | None = None,
    strict_hashing: bool | None = None,
    event_max_age_seconds: float | None = None,
    auth_code_ttl_seconds: float = AUTH_CODE_TTL_SECONDS,
    restate: Callable[..., Any] | None = None,
) -> Starlette:
    """The sandbox TikTok Business API for ``world``.

    - ``control``: clock/faults/rate limiter (a fresh one on ``world.anchor`` if omitted).
    - ``marketing_qps``: per-endpoint QPS of the Marketing API endpoints (``None``/0 = unlimited);
      ``events_qps``: QPS of ``event/track`` (``None``/0 = unlimited); ``rate_limits``: explicit
      per-endpoint overrides applied last (``NO_RATE_LIMITS`` lifts everything). Also adjustable at
      run time with ``POST /_sandbox/rate_limits``.
    - ``events_config`` / ``strict_hashing`` / ``event_max_age_seconds``: Events API strictness.
    - ``auth_code_ttl_seconds``: auth_code lifetime in sandbox-clock seconds (default 1 h).
    - ``restate``: override of the restatement rule, same signature as
      :func:`.restatement.restated` (default: that function; leave it for faithful runs).
    """
    control = control or SandboxControl(SandboxClock(world.anchor))
    limits: dict[str, float | None] = {"*": marketing_qps or None}
    for name in EVENTS_ENDPOINTS:
        limits[name] = events_qps or None
    if rate_limits:
        limits.update(rate_limits)
    control.rate_limiter.configure(limits)
    config = dataclasses.replace(events_config) if events_config is not None else EventsConfig()
    if strict_hashing is not None:
        config.strict_hashing = strict_hashing
    if event_max_age_seconds is not None:
        config.max_age_seconds = event_max_age_seconds
    sandbox = TikTokSandbox(
        world, control, events_config=config, auth_code_ttl_seconds=auth_code_ttl_seconds, restate=restate
    )

    async def not_found(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("page not found", status_code=404)

    routes = [
        Route("/open_api/v1.3/{path:path}", sandbox.dispatch, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
        Route("/portal/auth", sandbox.consent_page, methods=["GET"]),
        Route("/marketing_api/auth", sandbox.consent_page, methods=["GET"]),
        Route("/_sandbox/auth_codes", sandbox.sandbox_auth_codes, methods=["POST"]),
        Route("/_sandbox/tokens", sandbox.sandbox_tokens, methods=["POST"]),
        Route("/_sandbox/tokens/revoke", sandbox.sandbox_tokens_revoke, methods=["POST"]),
        Route("/_sandbox/tokens/reset", sandbox.sandbox_tokens_reset, methods=["POST"]),
        Route("/_sandbox/events/received", sandbox.sandbox_events_received, methods=["GET"]),
        Route("/_sandbox/events/reset", sandbox.sandbox_events_reset, methods=["POST"]),
        Route("/_sandbox/events/config", sandbox.sandbox_events_config, methods=["GET", "POST"]),
        Route("/_sandbox/reset", sandbox.sandbox_reset, methods=["POST"]),
        *control.routes(extra_state=lambda: {"events": sandbox.events.counts()}),
    ]
    app = Starlette(routes=routes, exception_handlers={404: not_found})
    app.router.redirect_slashes = False
    app.state.sandbox = sandbox
    app.state.control = control
    return app
