"""The HTTP client of the export API: one request with retries, and paging with a prefetch thread.

:class:`AppSprintClient` reads one export endpoint page by page (``updated_since`` + the API's
opaque ``cursor``) over one keep-alive ``httpx`` connection and retries what is transient:
HTTP 429 (honouring ``Retry-After``), 5xx, HTML or truncated bodies, timeouts and dropped
connections, with bounded, counted retries. 401/403 stop at once with advice.
:meth:`AppSprintClient.iter_pages` fetches the next pages in a thread while the caller types
the current ones (the cursor chain itself is sequential). With ``raw_bodies`` the client keeps
each body as bytes and parses only the small ``meta`` object at its end (for the next cursor).

The JSON path does not use dlt's ``RESTClient``: its ``paginate()`` parses every body in full
with ``response.json()`` before the bulk reader could see it. Tried with a
``JSONResponseCursorPaginator`` on ``meta.next_cursor`` (1M events, JSON pages): about twice the
client CPU (17.6-20.4 s against 7.8-9.9 s) and 26-71 % slower end to end.

The export token lives only in the ``Authorization`` header of the client. It never appears in a
message, an exception or a log line; every text that came back from the server is scrubbed of it,
just in case the server echoes it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any

import httpx
import orjson
import pyarrow as pa

from signal_campaigns.secrets import Scrubber

from . import settings
from .errors import (
    AppSprintAuthError,
    AppSprintError,
    AppSprintRequestError,
    AppSprintResponseError,
    AppSprintRetriesExhaustedError,
    TransientError,
    error_fields,
    snippet,
)
from .guards import PagingGuard, server_time
from .urllib3_transport import default_transport
from .wire import ARROW_MEDIA_TYPE, NEXT_CURSOR_HEADER, REQUEST_ID_HEADER, WIRE_ACCEPT, Page, envelope_meta, loads_json

logger = logging.getLogger("dlt_sources.appsprint")

TOKEN_ENV_VAR = "SOURCES__APPSPRINT__EXPORT_TOKEN"


@dataclasses.dataclass
class RequestStats:
    """Counters of one client (one resource's run). Reported as dlt resource metrics."""

    requests: int = 0
    pages: int = 0
    rows: int = 0
    retries: int = 0
    retries_by_reason: dict[str, int] = dataclasses.field(default_factory=dict)
    retry_after_waited_s: float = 0.0
    backoff_waited_s: float = 0.0
    http_seconds: float = 0.0
    pages_by_wire: dict[str, int] = dataclasses.field(default_factory=dict)

    def count_page(self, wire: str) -> None:
        self.pages += 1
        self.pages_by_wire[wire] = self.pages_by_wire.get(wire, 0) + 1

    def count_retry(self, reason: str) -> None:
        self.retries += 1
        self.retries_by_reason[reason] = self.retries_by_reason.get(reason, 0) + 1

    def as_metrics(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "pages": self.pages,
            "rows_received": self.rows,
            "retries": self.retries,
            "retries_by_reason": dict(self.retries_by_reason),
            "retry_after_waited_s": round(self.retry_after_waited_s, 3),
            "backoff_waited_s": round(self.backoff_waited_s, 3),
            "pages_by_wire": dict(self.pages_by_wire),
            "http_s": round(self.http_seconds, 3),
        }


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


_END = object()


class AppSprintClient:
    """Reads the AppSprint export API (docs/appsprint_export_api.md)."""

    def __init__(
        self,
        base_url: str,
        app_id: str,
        export_token: str,
        *,
        timeout: float = settings.DEFAULT_TIMEOUT_SECONDS,
        max_retries: int = settings.DEFAULT_MAX_RETRIES,
        backoff_base: float = settings.DEFAULT_BACKOFF_BASE_SECONDS,
        backoff_max: float = settings.DEFAULT_BACKOFF_MAX_SECONDS,
        max_retry_after: float = settings.DEFAULT_MAX_RETRY_AFTER_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        raw_bodies: bool = False,
        wire: str = "json",
    ) -> None:
        if not base_url:
            raise AppSprintError("sources.appsprint.base_url is not set (e.g. https://<host>/v1)")
        if not app_id:
            raise AppSprintError("sources.appsprint.app_id is not set")
        if not export_token:
            raise AppSprintAuthError(
                f"no AppSprint export token: create an export token for app {app_id} and set "
                f"{TOKEN_ENV_VAR} (or sources.appsprint.export_token in .dlt/secrets.toml)"
            )
        self.base_url = base_url.rstrip("/")
        self.app_id = str(app_id)
        self._scrub = Scrubber([export_token])
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self._sleep = sleep
        if wire not in WIRE_ACCEPT:
            raise ValueError(f"wire must be one of {sorted(WIRE_ACCEPT)}, got {wire!r}")
        self.raw_bodies = raw_bodies
        self.stats = RequestStats()
        self._http = httpx.Client(
            headers={
                "Authorization": f"Bearer {export_token}",
                "Accept": WIRE_ACCEPT[wire],
                "User-Agent": "signal-campaigns-dlt/0.1",
            },
            timeout=httpx.Timeout(timeout),
            transport=transport if transport is not None else default_transport(),
            follow_redirects=False,
        )

    # -- lifecycle ----------------------------------------------------------------------------
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AppSprintClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def url(self, endpoint: str) -> str:
        return f"{self.base_url}/apps/{self.app_id}/{endpoint}"

    # -- one request --------------------------------------------------------------------------
    def get_page(self, endpoint: str, params: dict[str, Any]) -> Page:
        """GET one page, retrying transient failures. Raises an :class:`AppSprintError`."""
        attempt = 0
        while True:
            try:
                return self._try_once(endpoint, params)
            except TransientError as t:
                if attempt >= self.max_retries:
                    raise AppSprintRetriesExhaustedError(
                        f"AppSprint {endpoint}: giving up after {attempt + 1} attempts; last failure: "
                        f"{self._scrub(t.detail)}"
                    ) from None
                if t.wait is not None:
                    wait = t.wait
                    self.stats.retry_after_waited_s += wait
                else:
                    wait = min(self.backoff_max, self.backoff_base * (2**attempt))
                    wait *= 0.5 + random.random() / 2  # jitter
                    self.stats.backoff_waited_s += wait
                self.stats.count_retry(t.reason)
                logger.warning(
                    "AppSprint %s: %s; retry %d/%d in %.1fs",
                    endpoint,
                    self._scrub(t.detail),
                    attempt + 1,
                    self.max_retries,
                    wait,
                )
                attempt += 1
                self._sleep(wait)

    def _try_once(self, endpoint: str, params: dict[str, Any]) -> Page:
        self.stats.requests += 1
        started = time.perf_counter()
        try:
            resp = self._http.get(self.url(endpoint), params=params)
        except httpx.TimeoutException as exc:
            raise TransientError("timeout", f"timed out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise TransientError("connection", f"connection error ({type(exc).__name__}: {exc})") from None
        finally:
            self.stats.http_seconds += time.perf_counter() - started
        status = resp.status_code
        body = resp.content
        if status == 200:
            return self._parse_page(endpoint, resp, body)
        code, message = error_fields(body)
        detail = f"HTTP {status}" + (f" {code}" if code else "") + (f": {message}" if message else "")
        if not code and not message and body:
            detail += f" body: {snippet(body)!r}"
        if status in (401, 403):
            raise AppSprintAuthError(
                f"the AppSprint export token was rejected (HTTP {status} on {endpoint}"
                + (f", {self._scrub(str(code))}" if code else "")
                + f"): create a new export token for app {self.app_id} and set {TOKEN_ENV_VAR} "
                "(or sources.appsprint.export_token in .dlt/secrets.toml). "
                "An export token is app-scoped: check that sources.appsprint.app_id is the app "
                "the token was created for."
            )
        if status == 429:
            wait = parse_retry_after(resp.headers.get("Retry-After"))
            if wait is None:
                wait = min(self.backoff_max, self.backoff_base * 4)
            if wait > self.max_retry_after:
                raise AppSprintRetriesExhaustedError(
                    f"AppSprint {endpoint}: rate limited with Retry-After {wait:.0f}s, more than "
                    f"max_retry_after={self.max_retry_after:.0f}s; run again later"
                )
            raise TransientError("rate_limited", detail, wait)
        if status >= 500 or status == 408:
            raise TransientError(f"http_{status}", detail)
        hint = ""
        if status == 404:
            hint = f" (check sources.appsprint.base_url and sources.appsprint.app_id={self.app_id})"
        raise AppSprintRequestError(f"AppSprint {endpoint}: {self._scrub(detail)}{hint}")

    def _parse_page(self, endpoint: str, resp: httpx.Response, body: bytes) -> Page:
        ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == ARROW_MEDIA_TYPE:
            return self._parse_arrow_page(endpoint, resp, body)
        if self.raw_bodies:
            meta = envelope_meta(body)
            if meta is not None:
                # fast path: the rows stay JSON bytes (typed later, in bulk); only the envelope's
                # small `meta` object was parsed to learn the next cursor
                self.stats.count_page("json")
                next_cursor = meta.get("next_cursor")
                if next_cursor is not None and not isinstance(next_cursor, str):
                    next_cursor = str(next_cursor)
                return Page(
                    endpoint, None, next_cursor or None, meta.get("request_id"), body, served_at=server_time(resp)
                )
        try:
            doc = loads_json(body)
        except orjson.JSONDecodeError:
            # an HTML error page from a proxy, or a truncated body: transient
            ctype = resp.headers.get("content-type", "?")
            raise TransientError(
                "invalid_body", f"HTTP 200 with a body that is not JSON ({ctype}): {snippet(body)!r}"
            ) from None
        if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
            shape = type(doc).__name__ if not isinstance(doc, dict) else f"keys {sorted(doc)[:8]}"
            raise AppSprintResponseError(
                f"AppSprint {endpoint}: unexpected reply shape ({shape}); expected "
                '{"data": [...], "meta": {"next_cursor": ...}}'
            )
        meta = doc.get("meta") or {}
        if not isinstance(meta, dict):
            raise AppSprintResponseError(f"AppSprint {endpoint}: unexpected reply shape: 'meta' is not an object")
        next_cursor = meta.get("next_cursor")
        if next_cursor is not None and not isinstance(next_cursor, str):
            next_cursor = str(next_cursor)
        rows = doc["data"]
        self.stats.count_page("json")
        return Page(endpoint, rows, next_cursor or None, meta.get("request_id"), served_at=server_time(resp))

    def _parse_arrow_page(self, endpoint: str, resp: httpx.Response, body: bytes) -> Page:
        """An Arrow IPC stream page; ``next_cursor`` / ``request_id`` come from the headers."""
        try:
            table = pa.ipc.open_stream(pa.BufferReader(body)).read_all()
        except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
            # a truncated or corrupted stream (a proxy cut it): transient, like a cut JSON body
            raise TransientError(
                "invalid_body", f"HTTP 200 with an Arrow stream that cannot be read ({exc}); {len(body)} bytes"
            ) from None
        self.stats.count_page("arrow")
        next_cursor = resp.headers.get(NEXT_CURSOR_HEADER) or None
        request_id = resp.headers.get(REQUEST_ID_HEADER)
        return Page(endpoint, None, next_cursor, request_id, table=table, served_at=server_time(resp))

    # -- paging ---------------------------------------------------------------------------------
    def iter_pages(
        self,
        endpoint: str,
        *,
        updated_since: str | None = None,
        limit: int = settings.DEFAULT_PAGE_LIMIT,
        prefetch: int = settings.DEFAULT_PREFETCH_PAGES,
    ) -> Generator[Page, None, None]:
        """All pages of ``endpoint`` newer than ``updated_since``, following ``next_cursor``."""
        if not 1 <= limit <= settings.MAX_PAGE_LIMIT:
            raise ValueError(f"page limit must be within 1..{settings.MAX_PAGE_LIMIT}, got {limit}")
        base: dict[str, Any] = {"limit": limit}
        if updated_since:
            base["updated_since"] = updated_since

        def pages() -> Iterator[Page]:
            guard = PagingGuard(endpoint)
            cursor: str | None = None
            while True:
                params = dict(base, cursor=cursor) if cursor else base
                page = self.get_page(endpoint, params)
                yield page  # its rows are good whatever its next_cursor says
                guard.check(cursor, page.empty, page.next_cursor, page.request_id)
                if not page.next_cursor:
                    return
                cursor = page.next_cursor

        if prefetch <= 0:
            yield from pages()
            return
        yield from _prefetched(pages(), prefetch, name=f"appsprint-{endpoint}")


def _prefetched(source: Iterator[Page], depth: int, name: str) -> Iterator[Page]:
    """Run ``source`` in a thread, ``depth`` items ahead of the consumer."""
    q: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def worker() -> None:
        try:
            for item in source:
                if not put(item):
                    return
            put(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            put(_Failure(exc))

    thread = threading.Thread(target=worker, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        stop.set()
        thread.join(timeout=60)


@dataclasses.dataclass
class _Failure:
    exc: BaseException
