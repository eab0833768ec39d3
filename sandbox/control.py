"""What both sandbox servers share: the clock, fault injection, rate limiting, request counters,
and the ``/_sandbox/...`` control routes that tests, the demo and benchmarks use.

Control routes (same on both servers; JSON in, JSON out):

- ``GET  /_sandbox/clock`` -> ``{"now": iso, "anchor": iso, "live": bool}``
- ``POST /_sandbox/clock`` body ``{"advance_seconds": 3600}`` or ``{"at": iso}`` or
  ``{"live": true}`` (live: the clock also follows wall time from now on).

The clock of a sandbox people use (``make sandbox``, ``make dev``) follows wall time from the start
(:meth:`SandboxClock.follow_wall_time`): the CLI stamps test events with this machine's time, and
a clock frozen at the anchor hour would refuse them as future events from about five past the
hour. Tests and the demo keep a frozen clock at the anchor and move it on purpose.
- ``GET  /_sandbox/faults`` lists armed faults; ``POST /_sandbox/faults`` arms one (body = the
  fields of :class:`Fault`); ``DELETE /_sandbox/faults`` disarms all.
- ``GET  /_sandbox/stats`` -> request counts per endpoint and per outcome (``ok``, ``fault``,
  ``rate_limited``) since start or the last ``POST /_sandbox/stats/reset``.

A fault matches an endpoint by name (``"report/integrated/get"``, ``"events"``, ``"*"`` for all)
and fires for the next ``count`` matching requests (``count: null`` = until disarmed).
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Callable
from email.utils import formatdate
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

FaultKind = Literal["code", "http", "delay", "timeout", "shape"]

HTML_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
_STATUS_TEXT = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
    520: "Unknown Error",
}


def nginx_error_page(status: int) -> str:
    """The HTML page nginx answers with when the app behind it fails (``HTML_502`` for 502)."""
    title = f"{status} {_STATUS_TEXT.get(status, 'Error')}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>"
        "\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )


@dataclasses.dataclass
class Fault:
    """One armed fault.

    kind:
      - ``code``: the server answers with an API error ``code`` (TikTok: HTTP 200 + envelope;
        AppSprint: ``status`` + ``{"error", "message"}``), e.g. 40100, 40133, 50000, 40105.
      - ``http``: an HTTP ``status`` with an HTML body (502 nginx page by default), or for
        AppSprint 429 with ``Retry-After: retry_after`` seconds.
      - ``delay``: sleep ``seconds`` and then answer normally (slow reply).
      - ``timeout``: sleep ``seconds`` (default 30) before answering: longer than any client
        timeout, so the client times out.
      - ``shape``: answer normally, but in the odd shape ``message`` names (TikTok server only:
        :func:`sandbox.tiktok_core.apply_shape`).
    """

    endpoint: str = "*"
    kind: FaultKind = "code"
    code: int | None = None
    status: int | None = None
    message: str | None = None
    seconds: float = 0.0
    retry_after: float | None = None
    count: int | None = 1

    def matches(self, endpoint: str) -> bool:
        return self.endpoint in ("*", endpoint)


class SandboxClock:
    """Sandbox "now": ``anchor`` + a manual offset (+ wall time elapsed since going live).

    ``wall_time``: the clock starts at this machine's time and follows it (live), instead of
    standing at the anchor; :meth:`restart` (the servers' ``/_sandbox/reset``) returns to that start."""

    def __init__(self, anchor: dt.datetime, *, wall_time: bool = False) -> None:
        if anchor.tzinfo is None:
            raise ValueError("anchor must be timezone-aware (UTC)")
        self.anchor = anchor.astimezone(dt.UTC)
        self.wall_time = wall_time
        self._offset = dt.timedelta(0)
        self._live_since: float | None = None
        self._lock = threading.Lock()
        self.restart()

    def restart(self) -> dt.datetime:
        """Back to the start: at the anchor and frozen, or (``wall_time``) at wall time and live."""
        self.set_live(False)
        if self.wall_time:
            self.follow_wall_time()
        else:
            self.set(self.anchor)
        return self.now()

    def follow_wall_time(self) -> None:
        """From now on the clock reads this machine's UTC time (moved on demand by ``advance``/``set``)."""
        self.set(dt.datetime.now(dt.UTC))
        self.set_live(True)

    def now(self) -> dt.datetime:
        with self._lock:
            extra = dt.timedelta(seconds=time.monotonic() - self._live_since) if self._live_since else dt.timedelta(0)
            return self.anchor + self._offset + extra

    def advance(self, seconds: float) -> dt.datetime:
        with self._lock:
            self._offset += dt.timedelta(seconds=seconds)
        return self.now()

    def set(self, at: dt.datetime) -> dt.datetime:
        now = self.now()
        return self.advance((at - now).total_seconds())

    def set_live(self, live: bool) -> None:
        current = self.now()
        with self._lock:
            self._live_since = time.monotonic() if live else None
            self._offset = current - self.anchor

    @property
    def live(self) -> bool:
        return self._live_since is not None


class ClockDateHeader:
    """ASGI middleware: every response's HTTP ``Date`` is the sandbox clock's "now", as a real
    server's Date is its own clock (the CLI shows it when TikTok refuses an event's time). Replaces
    the app's own Date; uvicorn adds its wall-time one first unless ``date_header=False``, and
    clients read the last."""

    def __init__(self, app: Any, clock: SandboxClock) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_dated(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                headers.append((b"date", formatdate(self.clock.now().timestamp(), usegmt=True).encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_dated)


class TokenBucket:
    """A token bucket: ``rate`` requests per second with bursts up to ``burst``."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(rate, 1.0)
        self._tokens = self.burst
        self._stamp = time.monotonic()
        self._lock = threading.Lock()

    def allow(self) -> bool:
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


class RateLimiter:
    """Per-key token buckets; ``limits`` maps an endpoint name (or ``"*"``) to requests/second.
    ``None`` or 0 disables limiting for that key."""

    def __init__(self, limits: dict[str, float | None]) -> None:
        self.limits = dict(limits)
        self._buckets: dict[str, TokenBucket] = {}

    def allow(self, endpoint: str, who: str = "") -> bool:
        rate = self.limits.get(endpoint, self.limits.get("*"))
        if not rate:
            return True
        key = f"{endpoint}|{who}"
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(rate)
        return bucket.allow()

    def configure(self, limits: dict[str, float | None]) -> None:
        self.limits.update(limits)
        self._buckets.clear()


class SandboxControl:
    """Per-server shared state: clock, faults, rate limiter, counters."""

    def __init__(self, clock: SandboxClock, rate_limits: dict[str, float | None] | None = None) -> None:
        self.clock = clock
        self.rate_limiter = RateLimiter(rate_limits or {})
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.stats: collections.Counter[str] = collections.Counter()

    # --- faults -------------------------------------------------------------------------------
    def arm(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def disarm_all(self) -> None:
        with self._lock:
            self._faults.clear()

    def take_fault(self, endpoint: str) -> Fault | None:
        """The first armed fault matching ``endpoint``, consuming one of its ``count``."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(endpoint):
                    if fault.count is not None:
                        fault.count -= 1
                        if fault.count <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def count(self, endpoint: str, outcome: str) -> None:
        self.stats[f"{endpoint}|{outcome}"] += 1
        self.stats[f"{endpoint}|total"] += 1

    async def intercept(
        self,
        endpoint: str,
        render_code: Callable[[Fault], Response],
        who: str = "",
        render_rate_limited: Callable[[], Response] | None = None,
    ) -> Response | None:
        """Apply rate limiting and armed faults for one request.

        Returns the response to send instead of the real one, or ``None`` to go on (after any
        injected delay). ``render_code`` turns a ``code``/``http`` fault into the server's own
        error format; ``render_rate_limited`` answers a request over the rate limit.
        """
        if render_rate_limited is not None and not self.rate_limiter.allow(endpoint, who):
            self.count(endpoint, "rate_limited")
            return render_rate_limited()
        fault = self.take_fault(endpoint)
        if fault is None:
            self.count(endpoint, "ok")
            return None
        self.count(endpoint, "fault")
        if fault.kind in ("delay", "timeout"):
            await asyncio.sleep(fault.seconds or (30.0 if fault.kind == "timeout" else 0.0))
            if fault.kind == "delay":
                return None
            return render_code(Fault(kind="http", status=504, message="sandbox timeout fault"))
        if fault.kind == "http" and fault.status and fault.code is None:
            if fault.status == 429:
                headers = {"Retry-After": str(int(fault.retry_after or 1))}
                return JSONResponse(
                    {"error": "rate_limited", "message": fault.message or "Too many requests"},
                    status_code=429,
                    headers=headers,
                )
            return HTMLResponse(nginx_error_page(fault.status), status_code=fault.status)
        return render_code(fault)

    # --- control routes -----------------------------------------------------------------------
    def routes(self, extra_state: Callable[[], dict[str, Any]] | None = None) -> list[Route]:
        async def clock(request: Request) -> Response:
            if request.method == "POST":
                body = await request.json()
                if "live" in body:
                    self.clock.set_live(bool(body["live"]))
                if "advance_seconds" in body:
                    self.clock.advance(float(body["advance_seconds"]))
                if "at" in body:
                    self.clock.set(dt.datetime.fromisoformat(body["at"].replace("Z", "+00:00")))
            return JSONResponse(
                {"now": self.clock.now().isoformat(), "anchor": self.clock.anchor.isoformat(), "live": self.clock.live}
            )

        async def faults(request: Request) -> Response:
            if request.method == "POST":
                body = await request.json()
                try:
                    fault = Fault(**body)
                except TypeError as exc:
                    return JSONResponse({"error": "bad_fault", "message": str(exc)}, status_code=400)
                self.arm(fault)
            elif request.method == "DELETE":
                self.disarm_all()
            with self._lock:
                armed = [dataclasses.asdict(f) for f in self._faults]
            return JSONResponse({"faults": armed})

        async def stats(request: Request) -> Response:
            if request.url.path.endswith("/reset"):
                self.stats.clear()
            body: dict[str, Any] = {"requests": dict(self.stats)}
            if extra_state is not None:
                body.update(extra_state())
            return JSONResponse(body)

        async def rate_limits(request: Request) -> Response:
            if request.method == "POST":
                self.rate_limiter.configure(await request.json())
            return JSONResponse({"rate_limits": self.rate_limiter.limits})

        return [
            Route("/_sandbox/clock", clock, methods=["GET", "POST"]),
            Route("/_sandbox/faults", faults, methods=["GET", "POST", "DELETE"]),
            Route("/_sandbox/stats", stats, methods=["GET"]),
            Route("/_sandbox/stats/reset", stats, methods=["POST"]),
            Route("/_sandbox/rate_limits", rate_limits, methods=["GET", "POST"]),
        ]
