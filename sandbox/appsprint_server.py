"""The sandbox AppSprint export API and the Signal link redirect, as one ASGI app.

The contract it serves is written down in docs/appsprint_export_api.md. In short:

- ``GET /v1/apps/{app_id}/signal-links | clicks | installs | events`` with
  ``Authorization: Bearer <export token>``; ``updated_since`` (exclusive), ``cursor`` (opaque),
  ``limit`` (1..1000, default 1000); rows in ascending ``(updated_at, id)`` order; reply
  ``{"data": [...], "meta": {"next_cursor": str | null, "request_id": str}}``, or with
  ``Accept: application/vnd.apache.arrow.stream`` the same page as an Arrow IPC stream
  (``X-Next-Cursor`` / ``X-Request-Id`` headers).
- Only rows visible at the sandbox clock are served (``updated_at <= now``; installs: not
  superseded as of now), so advancing the clock (``POST /_sandbox/clock``) reveals late
  attributions, late events and re-deliveries exactly as the world planned them.
- ``GET /s/{link_id}?campaign_id=..&adgroup_id=..&ad_id=..&placement=..&ttclid=..`` is the Signal
  link itself: it records a click (client IP, User-Agent, TikTok ids, clock time) that the
  ``/clicks`` endpoint then serves, and redirects to the App Store / Google Play by user agent.
- Faults, delays, 429s and the optional rate limiter come from :class:`~.control.SandboxControl`
  (endpoint names ``signal-links``, ``clicks``, ``installs``, ``events``, ``signal-link``);
  hostile pages (a poisoned value, a cursor cycle, endless empty pages) from
  :mod:`.appsprint_page_faults` (``/_sandbox/page_faults``). Every page carries ``X-Server-Time``.

Paging work (sorting, visibility, cursors, fast rendering) lives in :mod:`.appsprint_pages`, the
Signal link in :mod:`.appsprint_signal_link`, the error replies in :mod:`.appsprint_errors`.
"""

from __future__ import annotations

import collections
import datetime as dt
import hmac
import itertools
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .appsprint_arrow import ARROW_MEDIA_TYPE, wants_arrow
from .appsprint_errors import error, error_name, rate_limited, render_fault
from .appsprint_page_faults import PageFaults
from .appsprint_render import envelope, format_ms, parse_timestamp, to_ms
from .appsprint_resources import RESOURCES, BadRequestError, Cursor
from .appsprint_segments import SEGMENT_ROWS, build_indexes
from .appsprint_signal_link import DEFAULT_APP_STORE_URL, DEFAULT_PLAY_STORE_URL, SignalLink
from .control import SandboxClock, SandboxControl
from .world import World

# every page reply says when the server served it (its clock: the sandbox clock here); the
# extractor measures "in the future" against it (docs/appsprint_export_api.md)
SERVER_TIME_HEADER = "X-Server-Time"
MAX_LIMIT = 1000
DEFAULT_LIMIT = 1000
PREFETCH_SLOTS = 16  # prefetched pages kept (one per concurrent reader is enough)


def create_appsprint_app(
    world: World,
    control: SandboxControl | None = None,
    *,
    app_store_url: str = DEFAULT_APP_STORE_URL,
    play_store_url: str = DEFAULT_PLAY_STORE_URL,
    rate_limits: dict[str, float | None] | None = None,
    trust_forwarded_for: bool = True,
    max_limit: int = MAX_LIMIT,
    default_limit: int = DEFAULT_LIMIT,
    prefetch: bool = True,
    arrow_pages: bool = True,
    segment_rows: int = SEGMENT_ROWS,
) -> Starlette:
    """The AppSprint export API + Signal link redirect for ``world``.

    - ``control``: clock, faults and rate limiter (a fresh one on ``world.anchor`` if omitted).
    - ``app_store_url`` / ``play_store_url``: where ``/s/{link_id}`` sends iOS / Android users.
    - ``rate_limits``: requests/second per endpoint name (or ``"*"``) and per token; off by
      default (also settable at runtime with ``POST /_sandbox/rate_limits``).
    - ``trust_forwarded_for``: take a click's IP from the first ``X-Forwarded-For`` hop.
    - ``max_limit`` / ``default_limit``: page size bounds (1,000 / 1,000).
    - ``prefetch``: render the next page of a cursor walk ahead of the request (a speed-up
      only: a prefetched page is used only if it is exactly what the request would get).
    - ``arrow_pages``: answer ``Accept: application/vnd.apache.arrow.stream`` with Arrow IPC
      pages; False imitates an AppSprint without Arrow support (JSON whatever the Accept header).
    - ``segment_rows``: a world whose AppSprint rows stay on disk (``world.rows_dir``) is read
      in segments of about this many rows (:mod:`.appsprint_segments`).
    """
    started = time.perf_counter()
    control = control or SandboxControl(SandboxClock(world.anchor))
    if rate_limits:
        control.rate_limiter.configure(rate_limits)
    app_id = world.credentials.appsprint_app_id
    expected_auth = f"Bearer {world.credentials.appsprint_export_token}".encode()
    indexes = build_indexes(world, app_id, segment_rows)
    links_table = indexes["signal-links"].table
    signal_link = SignalLink(
        dict(zip(links_table["link_id"].to_pylist(), links_table["url"].to_pylist())),
        indexes["clicks"],
        control,
        app_store_url=app_store_url,
        play_store_url=play_store_url,
        trust_forwarded_for=trust_forwarded_for,
    )
    request_prefix = f"req_{secrets.token_hex(4)}_"
    request_counter = itertools.count(1)
    page_faults = PageFaults()
    prefetch_stats = collections.Counter({"hits": 0, "misses": 0})
    prefetched: collections.OrderedDict[tuple[str, str, int, bool], tuple[tuple, bytes, str | None]] = (
        collections.OrderedDict()
    )

    def new_request_id() -> str:
        return f"{request_prefix}{next(request_counter):08d}"

    def check_auth(request: Request) -> Response | None:
        given = request.headers.get("authorization")
        if not given:
            return error(
                401,
                "unauthorized",
                "missing Authorization header: send 'Authorization: Bearer <export token>'",
                {"WWW-Authenticate": "Bearer"},
            )
        if not hmac.compare_digest(given.encode(), expected_auth):
            return error(
                401,
                "unauthorized",
                "invalid export token for this API",
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return None

    def parse_limit(raw: str | None) -> int:
        if raw is None:
            return default_limit
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= max_limit:
            raise BadRequestError("invalid_parameter", f"limit must be an integer from 1 to {max_limit}, got {raw!r}")
        return int(raw)

    def render(resource: str, arrow: bool, **kwargs: Any) -> tuple[bytes, str | None]:
        index = indexes[resource]
        return index.page_arrow(**kwargs) if arrow else index.page_json(**kwargs)

    async def prefetch_page(resource: str, cursor_text: str, limit: int, arrow: bool) -> None:
        """Render the page after the one just sent while the client parses it (this runs after
        the reply is handed to the socket). A reader following next_cursor then gets its next
        page without waiting for the rendering; the page is served only if nothing that decides
        its content (visible range, live rows) changed in between."""
        index = indexes[resource]
        clock_ms = to_ms(control.clock.now())
        state = index.state_key(clock_ms)
        data, next_cursor = render(
            resource, arrow, clock_ms=clock_ms, limit=limit, cursor=Cursor.decode(cursor_text, resource)
        )
        prefetched[(resource, cursor_text, limit, arrow)] = (state, data, next_cursor)
        while len(prefetched) > PREFETCH_SLOTS:
            prefetched.popitem(last=False)

    def make_list_endpoint(resource: str) -> Callable[[Request], Awaitable[Response]]:
        async def list_rows(request: Request) -> Response:
            blocked = await control.intercept(
                resource,
                render_fault,
                who=request.headers.get("authorization", ""),
                render_rate_limited=rate_limited,
            )
            if blocked is not None:
                return blocked
            denied = check_auth(request)
            if denied is not None:
                return denied
            if request.path_params["app_id"] != app_id:
                return error(404, "not_found", f"no app {request.path_params['app_id']!r} for this token")
            params = request.query_params
            served_at = control.clock.now()  # the visible rows and the X-Server-Time header
            arrow = arrow_pages and wants_arrow(request.headers.get("accept"))
            empty_next = page_faults.empty_page(resource, params.get("cursor"))
            if empty_next is not None:
                return page_reply(page_faults.empty(resource, arrow), empty_next, arrow, served_at)
            try:
                limit = parse_limit(params.get("limit"))
                cursor_text = params.get("cursor")
                since_text = params.get("updated_since")
                cursor = Cursor.decode(cursor_text, resource) if cursor_text else None
                since_ms = parse_timestamp(since_text) if since_text and cursor is None else None
            except BadRequestError as exc:
                return error(400, exc.code, exc.message)
            index = indexes[resource]
            clock_ms = to_ms(served_at)
            hit = prefetched.pop((resource, cursor_text, limit, arrow), None) if cursor_text else None
            if hit is not None and hit[0] == index.state_key(clock_ms):
                data, next_cursor = hit[1], hit[2]
                prefetch_stats["hits"] += 1
            else:
                if cursor_text and prefetch:
                    prefetch_stats["misses"] += 1
                data, next_cursor = render(
                    resource, arrow, clock_ms=clock_ms, limit=limit, cursor=cursor, since_ms=since_ms
                )
            background = None
            if prefetch and next_cursor:
                background = BackgroundTask(prefetch_page, resource, next_cursor, limit, arrow)
            data = page_faults.rewrite(resource, data, arrow)
            next_cursor = page_faults.next_cursor(resource, cursor_text, next_cursor)
            return page_reply(data, next_cursor, arrow, served_at, background)

        list_rows.__name__ = f"list_{resource.replace('-', '_')}"
        return list_rows

    def page_reply(
        data: bytes,
        next_cursor: str | None,
        arrow: bool,
        served_at: dt.datetime,
        background: BackgroundTask | None = None,
    ) -> Response:
        request_id = new_request_id()
        headers = {"X-Request-Id": request_id, "Vary": "Accept", SERVER_TIME_HEADER: format_ms(to_ms(served_at))}
        if arrow:
            # the same page as an Arrow IPC stream; the envelope's meta moves to headers
            if next_cursor:
                headers["X-Next-Cursor"] = next_cursor
            return Response(data, media_type=ARROW_MEDIA_TYPE, headers=headers, background=background)
        return Response(
            envelope(data, next_cursor, request_id),
            media_type="application/json",
            headers=headers,
            background=background,
        )

    async def not_found(request: Request, exc: Exception) -> Response:
        return error(404, "not_found", f"no such endpoint: {request.method} {request.url.path}")

    async def method_not_allowed(request: Request, exc: Exception) -> Response:
        return error(405, "method_not_allowed", f"{request.method} is not allowed on {request.url.path}")

    async def http_exception(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error(exc.status_code, error_name(exc.status_code), str(exc.detail))

    async def server_error(request: Request, exc: Exception) -> Response:
        return error(500, "internal_error", "unexpected server error")

    def extra_state() -> dict[str, Any]:
        return {
            "rows": {name: len(index) for name, index in indexes.items()},
            "recorded_clicks": len(signal_link.recorded_clicks),
            "prefetch": dict(prefetch_stats),
            "startup_seconds": round(startup_seconds, 3),
        }

    initial_rate_limits = dict(control.rate_limiter.limits)

    async def reset(request: Request) -> Response:
        """Back to the start state: clock at its start (SandboxClock.restart), no faults, counters zero,
        the start rate limits, no recorded clicks, no prefetched pages."""
        control.clock.restart()
        control.disarm_all()
        page_faults.clear()
        control.stats.clear()
        control.rate_limiter.limits.clear()
        control.rate_limiter.configure(initial_rate_limits)
        with signal_link.lock:
            for index in indexes.values():
                index.clear_extras()
            signal_link.recorded_clicks.clear()
        prefetched.clear()
        return JSONResponse({"reset": True, "now": control.clock.now().isoformat()})

    routes = list(control.routes(extra_state))
    routes.extend(page_faults.routes())
    routes.append(Route("/_sandbox/reset", reset, methods=["POST"]))
    for resource in RESOURCES:
        routes.append(Route(f"/v1/apps/{{app_id}}/{resource}", make_list_endpoint(resource), methods=["GET"]))
    routes.append(Route("/s/{link_id}", signal_link.endpoint, methods=["GET"]))
    app = Starlette(
        routes=routes,
        exception_handlers={
            404: not_found,
            405: method_not_allowed,
            HTTPException: http_exception,
            Exception: server_error,
        },
    )
    startup_seconds = time.perf_counter() - started
    app.state.world = world
    app.state.control = control
    app.state.indexes = indexes
    app.state.recorded_clicks = signal_link.recorded_clicks
    app.state.startup_seconds = startup_seconds
    return app
