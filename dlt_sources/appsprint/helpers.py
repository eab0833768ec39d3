"""HTTP paging with retries, and page typing (JSON -> typed Arrow table + quarantine).

* :class:`AppSprintClient` reads one export endpoint page by page (``updated_since`` + the API's
  opaque ``cursor``) over one keep-alive ``httpx`` connection and retries what is transient:
  HTTP 429 (honouring ``Retry-After``), 5xx, HTML or truncated bodies, timeouts and dropped
  connections, with bounded, counted retries. 401/403 stop at once with advice.
  :meth:`AppSprintClient.iter_pages` fetches the next pages in a thread while the caller types
  the current ones (the cursor chain itself is sequential). With ``raw_bodies`` the client keeps
  each body as bytes and parses only the small ``meta`` object at its end (for the next cursor).
* Two readers turn rows into Arrow columns without per-value Python work where they can:
  :class:`DuckDBPageReader` (fast path: a batch of page bodies parsed by DuckDB's C++ JSON
  reader, outside the GIL) and :func:`raw_from_rows` (rows parsed by ``orjson``, converted with
  one C++ struct conversion; used when DuckDB cannot read a page, and for ``bulk_parse=False``).
* :func:`type_raw` types those columns with the explicit schema of :mod:`.settings` and validates
  them with ``pyarrow.compute`` masks; rows that cannot be typed go to a quarantine table with
  their reason and raw JSON. Per-row Python only runs on the (rare) suspicious rows.

The export token lives only in the ``Authorization`` header of the client. It never appears in a
message, an exception or a log line; :func:`scrub` removes it from any text that came back from the
server, just in case the server echoes it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import email.utils
import logging
import os
import queue
import random
import re
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from . import settings as S
from .urllib3_transport import default_transport

logger = logging.getLogger("dlt_sources.appsprint")

TOKEN_ENV_VAR = "SOURCES__APPSPRINT__EXPORT_TOKEN"

# Wire formats (docs/appsprint_export_api.md): "arrow" asks for Arrow IPC pages and accepts JSON
# (a server without Arrow support answers JSON, and the client reads that); "json" asks for JSON.
ARROW_MEDIA_TYPE = "application/vnd.apache.arrow.stream"
WIRE_ACCEPT = {
    "arrow": f"{ARROW_MEDIA_TYPE}, application/json;q=0.5",
    "json": "application/json",
}
NEXT_CURSOR_HEADER = "X-Next-Cursor"
REQUEST_ID_HEADER = "X-Request-Id"


# ------------------------------------------------------------------------------------------------
# errors
# ------------------------------------------------------------------------------------------------
class AppSprintError(Exception):
    """Base class of the source's errors. Messages never contain the export token."""


class AppSprintAuthError(AppSprintError):
    """401/403: the export token is missing, wrong, revoked or for another app."""


class AppSprintResponseError(AppSprintError):
    """A 200 reply that is not the export API's JSON shape (not retried: retrying will not help)."""


class AppSprintRequestError(AppSprintError):
    """A non-retryable HTTP error (4xx other than 401/403/408/429)."""


class AppSprintRetriesExhausted(AppSprintError):
    """A transient failure persisted through every retry."""


def scrub(text: str, secret: str | None) -> str:
    if secret and text:
        text = text.replace(secret, "***")
    return text


def _snippet(body: bytes, limit: int = 160) -> str:
    text = body[:limit].decode("utf-8", "replace")
    text = " ".join(text.split())
    return text + ("..." if len(body) > limit else "")


# ------------------------------------------------------------------------------------------------
# HTTP
# ------------------------------------------------------------------------------------------------
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


@dataclasses.dataclass
class Page:
    endpoint: str
    rows: list | None  # parsed rows, or None when only the raw body was kept
    next_cursor: str | None
    request_id: str | None
    body: bytes | None = None  # the raw JSON body (fast path)
    table: pa.Table | None = None  # the page as Arrow (the Arrow wire format)

    @property
    def wire(self) -> str:
        return "arrow" if self.table is not None else "json"

    def parsed_rows(self) -> list:
        if self.table is not None:
            raise AppSprintResponseError(
                f"AppSprint {self.endpoint}: this page arrived as Arrow; read page.table, or create "
                "the client with wire='json' to get JSON rows"
            )
        if self.rows is None:
            doc = orjson.loads(self.body or b"{}")
            self.rows = doc.get("data") if isinstance(doc, dict) else None
            if not isinstance(self.rows, list):
                raise AppSprintResponseError(f"AppSprint {self.endpoint}: unexpected reply shape")
        return self.rows


_ENVELOPE_START = re.compile(rb'\A\s*\{\s*"data"\s*:\s*\[')


def envelope_meta(body: bytes) -> dict | None:
    """The ``meta`` object of a ``{"data": [...], "meta": {...}}`` body, parsing only its tail.

    Returns None when the body does not look like that exactly (then the caller parses it all);
    the rows themselves are validated when they are typed."""
    if not _ENVELOPE_START.match(body):
        return None
    end = len(body.rstrip())
    if end < 2 or body[end - 1 : end] != b"}":
        return None
    at = body.rfind(b'"meta"')
    if at < 0:
        return None
    before = body[:at].rstrip()
    colon = body.find(b":", at + 6)
    if not before.endswith(b",") or not before[:-1].rstrip().endswith(b"]") or colon < 0:
        return None
    try:
        meta = orjson.loads(body[colon + 1 : end - 1])
    except orjson.JSONDecodeError:
        return None
    return meta if isinstance(meta, dict) else None


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


class _Transient(Exception):
    def __init__(self, reason: str, detail: str, wait: float | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.wait = wait


_END = object()


class AppSprintClient:
    """Reads the AppSprint export API (docs/appsprint_export_api.md, DESIGN.md §5)."""

    def __init__(
        self,
        base_url: str,
        app_id: str,
        export_token: str,
        *,
        timeout: float = S.DEFAULT_TIMEOUT_SECONDS,
        max_retries: int = S.DEFAULT_MAX_RETRIES,
        backoff_base: float = S.DEFAULT_BACKOFF_BASE_SECONDS,
        backoff_max: float = S.DEFAULT_BACKOFF_MAX_SECONDS,
        max_retry_after: float = S.DEFAULT_MAX_RETRY_AFTER_SECONDS,
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
        self._token = export_token
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

    def _scrub(self, text: str) -> str:
        return scrub(text, self._token)

    # -- one request --------------------------------------------------------------------------
    def get_page(self, endpoint: str, params: dict[str, Any]) -> Page:
        """GET one page, retrying transient failures. Raises an :class:`AppSprintError`."""
        attempt = 0
        while True:
            try:
                return self._try_once(endpoint, params)
            except _Transient as t:
                if attempt >= self.max_retries:
                    raise AppSprintRetriesExhausted(
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
            raise _Transient("timeout", f"timed out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise _Transient("connection", f"connection error ({type(exc).__name__}: {exc})") from None
        finally:
            self.stats.http_seconds += time.perf_counter() - started
        status = resp.status_code
        body = resp.content
        if status == 200:
            return self._parse_page(endpoint, resp, body)
        code, message = _error_fields(body)
        detail = f"HTTP {status}" + (f" {code}" if code else "") + (f": {message}" if message else "")
        if not code and not message and body:
            detail += f" body: {_snippet(body)!r}"
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
                raise AppSprintRetriesExhausted(
                    f"AppSprint {endpoint}: rate limited with Retry-After {wait:.0f}s, more than "
                    f"max_retry_after={self.max_retry_after:.0f}s; run again later"
                )
            raise _Transient("rate_limited", detail, wait)
        if status >= 500 or status == 408:
            raise _Transient(f"http_{status}", detail)
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
                return Page(endpoint, None, next_cursor or None, meta.get("request_id"), body)
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            # an HTML error page from a proxy, or a truncated body: transient
            ctype = resp.headers.get("content-type", "?")
            raise _Transient(
                "invalid_body", f"HTTP 200 with a body that is not JSON ({ctype}): {_snippet(body)!r}"
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
        return Page(endpoint, rows, next_cursor or None, meta.get("request_id"))

    def _parse_arrow_page(self, endpoint: str, resp: httpx.Response, body: bytes) -> Page:
        """An Arrow IPC stream page; ``next_cursor`` / ``request_id`` come from the headers."""
        try:
            table = pa.ipc.open_stream(pa.BufferReader(body)).read_all()
        except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
            # a truncated or corrupted stream (a proxy cut it): transient, like a cut JSON body
            raise _Transient(
                "invalid_body", f"HTTP 200 with an Arrow stream that cannot be read ({exc}); {len(body)} bytes"
            ) from None
        self.stats.count_page("arrow")
        next_cursor = resp.headers.get(NEXT_CURSOR_HEADER) or None
        return Page(endpoint, None, next_cursor, resp.headers.get(REQUEST_ID_HEADER), table=table)

    # -- paging ---------------------------------------------------------------------------------
    def iter_pages(
        self,
        endpoint: str,
        *,
        updated_since: str | None = None,
        limit: int = S.DEFAULT_PAGE_LIMIT,
        prefetch: int = S.DEFAULT_PREFETCH_PAGES,
    ) -> Iterator[Page]:
        """All pages of ``endpoint`` newer than ``updated_since``, following ``next_cursor``."""
        if not 1 <= limit <= S.MAX_PAGE_LIMIT:
            raise ValueError(f"page limit must be within 1..{S.MAX_PAGE_LIMIT}, got {limit}")
        base: dict[str, Any] = {"limit": limit}
        if updated_since:
            base["updated_since"] = updated_since

        def pages() -> Iterator[Page]:
            cursor: str | None = None
            while True:
                params = dict(base, cursor=cursor) if cursor else base
                page = self.get_page(endpoint, params)
                yield page
                if not page.next_cursor:
                    return
                if page.next_cursor == cursor:
                    raise AppSprintResponseError(f"AppSprint {endpoint}: next_cursor did not advance")
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


def _error_fields(body: bytes) -> tuple[str | None, str | None]:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None
    if isinstance(doc, dict):
        code, msg = doc.get("error"), doc.get("message")
        return (str(code) if code is not None else None, str(msg) if msg is not None else None)
    return None, None


def format_updated_since(value: Any) -> str | None:
    """ISO-8601 UTC with ``Z`` for the ``updated_since`` parameter."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_iso_utc(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(dt.UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    raise TypeError(f"cannot use {value!r} as updated_since")


def parse_iso_utc(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


# ------------------------------------------------------------------------------------------------
# typing: raw columns (from parsed rows, or from DuckDB's JSON reader) -> typed Arrow + quarantine
# ------------------------------------------------------------------------------------------------
_CURRENCY_RE = r"^[A-Z]{3}$"
# An ISO-8601 UTC timestamp of a real calendar day, except that 29 February is accepted in every
# year (the leap year is checked for those rows only): one regex pass, no per-field slicing.
_ISO_UTC_RE = (
    r"^\d{4}-((0[13578]|1[02])-(0[1-9]|[12]\d|3[01])|(0[469]|11)-(0[1-9]|[12]\d|30)|02-(0[1-9]|1\d|2[0-9]))"
    r"[T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|z|[+-]([01]\d|2[0-3]):?[0-5]\d)$"
)
# bytes of field names, quotes, colons, commas, braces and numbers of one event row: a generous
# upper bound used to decide which rows need their exact serialized size measured
_EVENT_FIXED_OVERHEAD = 1024


@dataclasses.dataclass
class TypedPage:
    table: pa.Table  # good rows, spec.arrow_schema
    quarantine: pa.Table | None  # settings.QUARANTINE_SCHEMA, None when every row typed
    unknown_fields: frozenset[str] = frozenset()
    rows: int = 0  # rows received (typed + quarantined)


class _Problems:
    """Per-row reasons, collected as (mask, reason builder) pairs and expanded only for bad rows."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.any = np.zeros(n, dtype=bool)
        self._checks: list[tuple[np.ndarray, Callable[[int], str]]] = []

    def add(self, mask: Any, reason: Callable[[int], str]) -> None:
        if isinstance(mask, (pa.Array, pa.ChunkedArray)):
            mask = pc.fill_null(mask, False).to_numpy(zero_copy_only=False)
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            self.any |= mask
            self._checks.append((mask, reason))

    def reasons(self, index: int) -> str:
        reasons = [reason(index) for mask, reason in self._checks if mask[index]]
        return "; ".join(dict.fromkeys(reasons))


@dataclasses.dataclass
class RawColumns:
    """Rows (of one or more pages) as Arrow columns, before typing.

    ``columns`` maps each raw-table column to: a string array (ids, strings, timestamps,
    currencies, JSON text of objects) or, for numbers, a float64 array or the numbers' JSON text.
    ``row_json(i)`` gives row ``i`` as JSON text (for quarantine and exact sizes)."""

    n: int
    columns: dict[str, pa.Array]
    row_json: Callable[[int], str]
    problems: _Problems
    odd_rows: list[str] = dataclasses.field(default_factory=list)  # rows that are not objects
    unknown_fields: set[str] = dataclasses.field(default_factory=set)
    extra_field_rows: np.ndarray | None = None


def _text(value: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    return orjson.dumps(value).decode()


def _string_array(values: list) -> pa.Array:
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid, TypeError):
        # a number (or anything else) where a string belongs: keep its JSON text
        return pa.array([_text(v) for v in values], pa.string())


def _cast_marking_bad(raw: pa.Array, target: pa.DataType) -> tuple[pa.Array, np.ndarray]:
    """Cast ``raw`` to ``target``; values that cannot be cast become null and are flagged.

    One vectorised cast for the whole column; when it fails (a hostile value in the batch) the bad
    values are found by bisection (a few casts of shrinking slices), nulled, and the rest cast."""
    try:
        return raw.cast(target), np.zeros(len(raw), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    bad = np.zeros(len(raw), dtype=bool)
    if target == S.TS:
        # bad timestamps either do not look like one or name a day the month does not have:
        # both found in vectorised passes, so the bisection below is for oddities only
        implausible = _implausible_timestamps(raw)
        bad |= implausible.to_numpy(zero_copy_only=False)
        raw = pc.if_else(implausible, pa.scalar(None, raw.type), raw)
        try:
            return raw.cast(target), bad
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    _find_uncastable(raw, target, 0, bad)
    kept = pc.if_else(pa.array(bad), pa.scalar(None, raw.type), raw)
    return kept.cast(target), bad


def _implausible_timestamps(raw: pa.Array) -> pa.Array:
    """True where a string is not an ISO-8601 UTC timestamp of a real calendar day."""
    looks_right = pc.fill_null(pc.match_substring_regex(raw, _ISO_UTC_RE), True)
    bad = np.asarray(pc.invert(looks_right).to_numpy(zero_copy_only=False), dtype=bool).copy()
    feb29 = np.nonzero(
        pc.fill_null(pc.and_(looks_right, pc.match_substring(raw, "-02-29")), False).to_numpy(zero_copy_only=False)
    )[0]
    for i in map(int, feb29):
        text = raw[i].as_py()
        year = int(text[:4])
        if text[4:10] == "-02-29":  # the date, not an offset that happens to read so
            bad[i] = not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0))
    return pa.array(bad)


def _find_uncastable(arr: pa.Array, target: pa.DataType, offset: int, bad: np.ndarray) -> None:
    try:
        arr.cast(target)
        return
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    if len(arr) == 1:
        bad[offset] = True
        return
    mid = len(arr) // 2
    _find_uncastable(arr.slice(0, mid), target, offset, bad)
    _find_uncastable(arr.slice(mid), target, offset + mid, bad)


def _number_array(values: list) -> tuple[pa.Array, np.ndarray]:
    """Python values to float64; returns (array, mask of values that are not numbers)."""
    try:
        return pa.array(values, pa.float64()), np.zeros(len(values), dtype=bool)
    except (pa.ArrowTypeError, pa.ArrowInvalid, TypeError):
        pass
    bad = np.zeros(len(values), dtype=bool)
    clean = []
    for i, v in enumerate(values):
        if v is None or type(v) in (int, float):
            clean.append(v)
        else:
            clean.append(None)
            bad[i] = True
    return pa.array(clean, pa.float64()), bad


def _as_float(src: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """float64 as is; JSON number text cast in bulk (a JSON string or boolean is flagged)."""
    if pa.types.is_floating(src.type) or pa.types.is_integer(src.type) or pa.types.is_decimal(src.type):
        return src.cast(pa.float64()), np.zeros(len(src), dtype=bool)
    src = pc.if_else(pc.equal(src, "null"), pa.scalar(None, src.type), src)
    return _cast_marking_bad(src, pa.float64())


def _values(rows: list, path: tuple[str, ...]) -> tuple[list, np.ndarray | None]:
    """The values at ``path`` in every row; second item flags rows whose parent is not an object."""
    if len(path) == 1:
        key = path[0]
        return [r.get(key) for r in rows], None
    parent_key, key = path[0], path[1]
    parents = [r.get(parent_key) for r in rows]
    try:
        return [p.get(key) if p is not None else None for p in parents], None
    except AttributeError:
        bad = np.array([p is not None and type(p) is not dict for p in parents], dtype=bool)
        return [p.get(key) if type(p) is dict else None for p in parents], bad


def _param_problem(params: dict) -> str | None:
    """Why an event's parameters break the SDK's limits, or None."""
    if len(params) > S.PARAMETERS_MAX_KEYS:
        return f"parameters has {len(params)} keys (max {S.PARAMETERS_MAX_KEYS})"
    for key, value in params.items():
        if len(key) > S.PARAMETER_KEY_MAX_CHARS:
            return f"parameter key {key[:32]!r}... is {len(key)} chars (max {S.PARAMETER_KEY_MAX_CHARS})"
        if type(value) is str and len(value) > S.PARAMETER_STRING_VALUE_MAX_CHARS:
            return f"parameter {key!r} is a string of {len(value)} chars (max {S.PARAMETER_STRING_VALUE_MAX_CHARS})"
    return None


# --- reader 1: rows already parsed (orjson) --------------------------------------------------------
def raw_from_rows(spec: S.ResourceSpec, rows: Sequence[Any]) -> RawColumns:
    rows = rows if isinstance(rows, list) else list(rows)
    odd_rows: list[str] = []
    if rows and set(map(type, rows)) != {dict}:
        odd_rows = [orjson.dumps(r).decode() for r in rows if type(r) is not dict]
        rows = [r for r in rows if type(r) is dict]
    n = len(rows)
    problems = _Problems(n)

    # unknown top-level fields: the first row's keys, plus the keys of any row whose field count
    # differs from the contract's (the API sends every field, null or not)
    known = spec.top_level_fields
    unknown: set[str] = set()
    extra_field_rows = np.zeros(n, dtype=bool)
    if n:
        unknown.update(set(rows[0]) - known)
        if unknown:
            extra_field_rows[:] = True
        lens = np.fromiter(map(len, rows), dtype=np.int64, count=n)
        for i in np.nonzero(lens != len(known))[0]:
            extra = set(rows[i]) - known
            if extra:
                unknown.update(extra)
                extra_field_rows[i] = True

    columns: dict[str, pa.Array] = {}
    raw_type = spec.raw_struct_type
    try:  # fast path: one C++ conversion of the row dicts into a struct array
        struct = pa.array(rows, type=raw_type)
    except (pa.ArrowTypeError, pa.ArrowInvalid, TypeError, ValueError, AttributeError):
        struct = None
    for col in spec.columns:
        if col.kind == "json":
            key = col.source_path[0]
            dumps = orjson.dumps
            columns[col.name] = pa.array(
                [None if v is None else dumps(v) for v in (r.get(key) for r in rows)], pa.string()
            )
        elif struct is not None:
            arr = struct.field(raw_type.get_field_index(col.source_path[0]))
            if len(col.source_path) > 1:
                parent = arr
                arr = parent.field(parent.type.get_field_index(col.source_path[1]))
                if parent.null_count:  # a null parent makes its fields null
                    arr = pc.if_else(pc.is_valid(parent), arr, pa.scalar(None, arr.type))
            columns[col.name] = arr
        else:  # a value of an unexpected type somewhere: column by column
            values, bad_parent = _values(rows, col.source_path)
            if bad_parent is not None:
                problems.add(bad_parent, lambda i, p=col.source_path[0]: f"bad_nested: {p} is not an object")
            if col.kind in ("money", "double"):
                arr, bad_type = _number_array(values)
                reason = "bad_revenue" if col.kind == "money" else "bad_number"
                problems.add(bad_type, lambda i, c=col.name, v=values, r=reason: f"{r}: {c}={v[i]!r} is not a number")
            else:
                arr = _string_array(values)
            columns[col.name] = arr
    return RawColumns(
        n, columns, lambda i: orjson.dumps(rows[i]).decode(), problems, odd_rows, unknown, extra_field_rows
    )


# --- reader 3: Arrow pages (the Arrow wire format) -------------------------------------------------
def raw_from_arrow(spec: S.ResourceSpec, table: pa.Table) -> RawColumns:
    """Arrow pages -> raw columns, vectorised. The server's schema is hostile input like JSON:
    a missing field is null; a number where a string belongs becomes its text; text where a number
    belongs is flagged by :func:`type_raw` (as JSON text of a string); a nested field that is not a
    struct flags its non-null rows ``bad_nested``; anything else unexpected is converted per value
    to JSON text (rare)."""
    n = table.num_rows
    problems = _Problems(n)
    names = set(table.column_names)
    columns: dict[str, pa.Array] = {}
    for col in spec.columns:
        top = col.source_path[0]
        arr = _one_chunk(table.column(top)) if top in names else pa.nulls(n, pa.string())
        if len(col.source_path) > 1:
            parent = arr
            if pa.types.is_struct(parent.type):
                index = parent.type.get_field_index(col.source_path[1])
                arr = parent.field(index) if index >= 0 else pa.nulls(n, pa.string())
                if parent.null_count and index >= 0:  # a null parent makes its fields null
                    arr = pc.if_else(pc.is_valid(parent), arr, pa.scalar(None, arr.type))
            else:
                problems.add(pc.is_valid(parent), lambda i, p=top: f"bad_nested: {p} is not an object")
                arr = pa.nulls(n, pa.string())
        columns[col.name] = _arrow_raw_column(col, arr)
    unknown = names - spec.top_level_fields

    json_fields = {c.source_path[0] for c in spec.columns if c.kind == "json"}

    def row_json(i: int) -> str:
        row = table.slice(i, 1).to_pylist()[0]
        for name in json_fields & row.keys():
            row[name] = _embedded_json(row[name])
        return orjson.dumps(row, default=_json_default, option=orjson.OPT_PASSTHROUGH_DATETIME).decode()

    extra = np.full(n, bool(unknown), dtype=bool)
    return RawColumns(n, columns, row_json, problems, unknown_fields=set(unknown), extra_field_rows=extra)


def _one_chunk(col: Any) -> pa.Array:
    if isinstance(col, pa.ChunkedArray):
        return col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    return col


def _arrow_raw_column(col: S.Column, arr: pa.Array) -> pa.Array:
    """One Arrow column in the form :func:`type_raw` reads (see :class:`RawColumns`)."""
    t = arr.type
    if pa.types.is_null(t):
        return pa.nulls(len(arr), pa.float64() if col.kind in ("money", "double") else pa.string())
    if pa.types.is_dictionary(t):
        arr, t = arr.dictionary_decode(), t.value_type
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        arr, t = arr.cast(pa.string()), pa.string()
    if col.kind in ("money", "double"):
        if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
            return arr
        if pa.types.is_string(t):  # text where a number belongs: flagged, like a JSON string
            return pc.binary_join_element_wise('"', arr, '"', "")
        return _json_texts(arr)
    if col.kind == "timestamp":
        if pa.types.is_timestamp(t):
            return arr if t.tz is not None else arr.cast(pa.timestamp(t.unit, tz="UTC"))
        if pa.types.is_date(t):
            return arr.cast(pa.timestamp("s")).cast(pa.timestamp("s", tz="UTC"))
    if col.kind == "json" and pa.types.is_string(t):
        return arr  # the JSON text of the value, as the contract says
    if pa.types.is_string(t):
        return arr
    if pa.types.is_integer(t) or pa.types.is_boolean(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return arr.cast(pa.string())  # the value's text, like a JSON number read as a string
    return _json_texts(arr)


def _number_text(value: Any) -> Any:
    """A decimal as its JSON number text, without the scale's trailing zeros (``-59.99``, as the
    JSON wire serves it); other values unchanged."""
    if not isinstance(value, decimal.Decimal):
        return value
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _embedded_json(value: Any) -> Any:
    """JSON text carried in a string column, embedded as JSON (kept a string if it is not JSON)."""
    if type(value) is str:
        try:
            orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
        return orjson.Fragment(value)
    return value


def _json_texts(arr: pa.Array) -> pa.Array:
    return pa.array(
        [
            None
            if v is None
            else orjson.dumps(v, default=_json_default, option=orjson.OPT_PASSTHROUGH_DATETIME).decode()
            for v in arr.to_pylist()
        ],
        pa.string(),
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(timespec="milliseconds") + "Z"
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, decimal.Decimal):
        return orjson.Fragment(_number_text(value)) if value.is_finite() else None
    raise TypeError(type(value).__name__)


# --- reader 2: page bodies parsed by DuckDB's JSON reader (no Python object per value) ----------
def _duck_type(col: S.Column) -> str:
    return "JSON" if col.kind in ("money", "double", "json") else "VARCHAR"


def _tmp_base() -> str | None:
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


class DuckDBPageReader:
    """Parses a batch of raw page bodies with DuckDB's JSON reader into Arrow columns.

    The bodies are written as NDJSON lines (one page each) to a temporary file in memory
    (/dev/shm when available) and read with an explicit structure: ids and strings as VARCHAR,
    numbers and objects as JSON text. DuckDB parses in C++ without the GIL, so the next pages
    download meanwhile. Returns None when DuckDB cannot read the batch (an unexpected shape); the
    caller then types those pages one by one from ``orjson`` (which reports what is wrong)."""

    def __init__(self, spec: S.ResourceSpec) -> None:
        import duckdb

        self.spec = spec
        self._duckdb = duckdb
        # one thread: the other core serves the next pages (HTTP thread) and, on one machine,
        # the API itself
        self.con = duckdb.connect(":memory:", config={"threads": 1})
        self.dir = tempfile.mkdtemp(prefix="appsprint_pages_", dir=_tmp_base())
        self.path = os.path.join(self.dir, "pages.ndjson")
        # removed on close(), or when the reader is garbage collected (a generator never closed)
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.dir, True)
        top: dict[str, Any] = {}
        select: list[str] = []
        for col in spec.columns:
            path = col.source_path
            if len(path) == 1:
                top[path[0]] = _duck_type(col)
                select.append(f'r."{path[0]}" AS "{col.name}"')
            else:
                top.setdefault(path[0], {})[path[1]] = _duck_type(col)
                select.append(f'r."{path[0]}"."{path[1]}" AS "{col.name}"')

        def struct(fields: dict[str, Any]) -> str:
            inner = ", ".join(f'"{k}" {struct(v) if isinstance(v, dict) else v}' for k, v in fields.items())
            return f"STRUCT({inner})"

        columns = "{data: '" + struct(top).replace("'", "''") + "[]', meta: 'JSON'}"
        self.sql = (
            f"SELECT {', '.join(select)} FROM (SELECT unnest(data) AS r FROM read_json("
            f"'{self.path}', format='newline_delimited', columns={columns}, "
            f"maximum_object_size=2147483647))"
        )

    def read(self, bodies: Sequence[bytes]) -> RawColumns | None:
        with open(self.path, "wb") as f:
            for body in bodies:
                # one page per line: JSON allows a line break only where a space is allowed
                f.write(body.replace(b"\n", b" ").replace(b"\r", b" ") if b"\n" in body or b"\r" in body else body)
                f.write(b"\n")
        try:
            table = self.con.sql(self.sql).to_arrow_table()
        except self._duckdb.Error:
            return None
        finally:
            os.remove(self.path)
        columns = {name: table.column(name).combine_chunks() for name in table.column_names}
        columns = {k: (v.cast(pa.string()) if pa.types.is_large_string(v.type) else v) for k, v in columns.items()}
        n = table.num_rows
        spec = self.spec

        def row_json(i: int) -> str:
            row: dict[str, Any] = {}
            for col in spec.columns:
                value = columns[col.name][i].as_py()
                if value is not None and _duck_type(col) == "JSON":
                    value = orjson.Fragment(value)
                if len(col.source_path) == 1:
                    row[col.source_path[0]] = value
                else:
                    row.setdefault(col.source_path[0], {})[col.source_path[1]] = value
            return orjson.dumps(row).decode()

        return RawColumns(n, columns, row_json, _Problems(n), extra_field_rows=np.zeros(n, dtype=bool))

    def close(self) -> None:
        self.con.close()
        self._cleanup()

    def __enter__(self) -> DuckDBPageReader:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# --- typing ----------------------------------------------------------------------------------------
def type_page(spec: S.ResourceSpec, rows: Sequence[Any], *, quarantined_at: dt.datetime | None = None) -> TypedPage:
    """Type one page of parsed API rows. Rows that cannot be typed go to the quarantine table."""
    return type_raw(spec, raw_from_rows(spec, rows), quarantined_at=quarantined_at)


def type_raw(spec: S.ResourceSpec, raw: RawColumns, *, quarantined_at: dt.datetime | None = None) -> TypedPage:
    """Type raw columns with the explicit schema, validating with vectorised masks."""
    n = raw.n
    problems = raw.problems
    arrays: list[pa.Array] = []
    raw_strings: dict[str, pa.Array] = {}  # string source values, for size bounds
    typed: dict[str, pa.Array] = {}
    for col in spec.columns:
        name = col.name
        src = raw.columns[name]
        if col.kind in ("id", "string"):
            arr = src
            raw_strings[name] = arr
            if col.required:
                missing = pc.or_kleene(pc.is_null(arr), pc.equal(pc.utf8_length(arr), 0))
                reason = "missing_id" if col.kind == "id" else f"missing_{name}"
                problems.add(missing, lambda i, r=reason: r)
        elif col.kind == "timestamp":
            if pa.types.is_string(src.type):
                raw_strings[name] = src
            arr, bad = _cast_marking_bad(src, S.TS)
            problems.add(bad, lambda i, c=name, v=src: f"bad_timestamp: {c}={v[i].as_py()!r}")
            if col.required:
                problems.add(pc.is_null(src), lambda i, c=name: f"bad_timestamp: {c}=None")
        elif col.kind == "money":
            num, bad_type = _as_float(src)
            problems.add(
                bad_type, lambda i, c=name, v=src: f"bad_revenue: {c}={_number_text(v[i].as_py())} is not a number"
            )
            negative = pc.fill_null(pc.less(num, 0), False)
            problems.add(negative, lambda i, c=name, v=src: f"negative_revenue: {c}={_number_text(v[i].as_py())}")
            too_big = pc.fill_null(pc.greater_equal(pc.abs(num), float(S.MONEY_MAX_ABS)), False)
            problems.add(
                too_big, lambda i, c=name, v=src: f"bad_revenue: {c}={_number_text(v[i].as_py())} out of range"
            )
            drop = pc.or_(negative, too_big)
            if pc.any(drop).as_py():
                num = pc.if_else(drop, pa.scalar(None, pa.float64()), num)
            if pa.types.is_decimal(src.type):  # exact: no round trip through float
                arr = pc.if_else(pc.is_null(num), pa.scalar(None, S.MONEY), src.cast(S.MONEY, safe=False))
            else:
                arr = num.cast(S.MONEY)
        elif col.kind == "double":
            arr, bad_type = _as_float(src)
            problems.add(bad_type, lambda i, c=name, v=src: f"bad_number: {c}={v[i].as_py()} is not a number")
        elif col.kind == "currency":
            raw_strings[name] = src
            arr = pc.utf8_upper(src)
            bad = pc.and_(pc.is_valid(arr), pc.invert(pc.match_substring_regex(arr, _CURRENCY_RE)))
            problems.add(bad, lambda i, c=name, v=src: f"bad_currency: {c}={v[i].as_py()!r}")
        elif col.kind == "json":
            arr = _json_objects(name, src, problems)
        else:  # pragma: no cover - settings and this function move together
            raise AssertionError(col.kind)
        arrays.append(arr)
        typed[name] = arr

    if spec.name == "events" and n:
        _check_event_limits(raw, typed, raw_strings, problems)

    table = pa.Table.from_arrays(arrays, schema=_nullable_schema(spec))
    bad_idx = np.nonzero(problems.any)[0]
    q_raw = list(raw.odd_rows)
    q_reason = ["not_an_object: row is not a JSON object"] * len(raw.odd_rows)
    q_key: list[str | None] = [None] * len(raw.odd_rows)
    q_updated: list[Any] = [None] * len(raw.odd_rows)
    if len(bad_idx):
        keys = raw.columns[spec.key]
        updated = typed[spec.cursor]
        for i in map(int, bad_idx):
            q_raw.append(raw.row_json(i))
            q_reason.append(problems.reasons(i))
            q_key.append(keys[i].as_py() or None)
            q_updated.append(updated[i].as_py())
        table = table.filter(pa.array(~problems.any))
    table = table.cast(spec.arrow_schema)  # required columns become NOT NULL
    quarantine = None
    if q_raw:
        when = quarantined_at or dt.datetime.now(dt.UTC)
        quarantine = pa.table(
            {
                "resource": pa.array([spec.name] * len(q_raw), pa.string()),
                "row_key": pa.array(q_key, pa.string()),
                "reason": pa.array(q_reason, pa.string()),
                "raw": pa.array(q_raw, pa.string()),
                "updated_at": pa.array(q_updated, S.TS),
                "quarantined_at": pa.array([when] * len(q_raw), S.TS),
            },
            schema=S.QUARANTINE_SCHEMA,
        )
    return TypedPage(table, quarantine, frozenset(raw.unknown_fields), n + len(raw.odd_rows))


def _nullable_schema(spec: S.ResourceSpec) -> pa.Schema:
    return pa.schema([pa.field(f.name, f.type, nullable=True) for f in spec.arrow_schema])


def _json_objects(name: str, src: pa.Array, problems: _Problems) -> pa.Array:
    """JSON text that must be an object. A JSON string holding an object is unwrapped; anything
    else (array, number, string) is flagged ``bad_parameters``."""
    not_object = pc.fill_null(pc.invert(pc.starts_with(src, "{")), False)
    if not pc.any(not_object).as_py():
        return src
    values = src.to_pylist()
    bad = np.zeros(len(values), dtype=bool)
    for i in np.nonzero(not_object.to_numpy(zero_copy_only=False))[0]:
        text = values[i]
        try:
            parsed = orjson.loads(text)
            if type(parsed) is str:
                parsed = orjson.loads(parsed)
        except orjson.JSONDecodeError:
            parsed = None
        if type(parsed) is dict:
            values[i] = orjson.dumps(parsed).decode()
        else:
            bad[i] = True
            values[i] = None
    original = src
    problems.add(bad, lambda i, c=name, v=original: f"bad_parameters: {c} is not a JSON object: {v[i].as_py()[:80]!r}")
    return pa.array(values, pa.string())


def _check_event_limits(
    raw: RawColumns,
    typed: dict[str, pa.Array],
    raw_strings: dict[str, pa.Array],
    problems: _Problems,
) -> None:
    """The SDK's event limits (16 KiB serialized; parameters <= 64 keys, keys <= 128 chars,
    string values <= 2048 chars), vectorised: only rows that could break them are inspected."""
    n = raw.n
    params = typed["parameters"]
    params_len = pc.fill_null(pc.binary_length(params), 0).to_numpy(zero_copy_only=False)
    # Upper bound of the serialized row: parameters (already JSON) + every other string escaped
    # at worst 6 bytes per byte + a generous constant for names, punctuation and numbers.
    other = np.zeros(n, dtype=np.int64)
    for arr in raw_strings.values():
        other += pc.fill_null(pc.binary_length(arr), 0).to_numpy(zero_copy_only=False)
    # typed (Arrow) timestamps: "YYYY-MM-DDTHH:MM:SS.mmmZ" plus quotes
    other += 26 * sum(1 for c in raw.columns.values() if pa.types.is_timestamp(c.type))
    bound = params_len + 6 * other + _EVENT_FIXED_OVERHEAD
    candidates = bound > S.EVENT_MAX_BYTES
    if raw.extra_field_rows is not None:
        candidates |= raw.extra_field_rows
    size_candidates = np.nonzero(candidates)[0]
    # a parameters object under 129 bytes cannot hold a key over 128 chars, a value over
    # 2048 chars or more than 64 keys
    param_candidates = np.nonzero(params_len > S.PARAMETER_KEY_MAX_CHARS)[0]
    if not len(size_candidates) and not len(param_candidates):
        return
    too_large: dict[int, str] = {}
    for i in map(int, size_candidates):
        size = len(raw.row_json(i).encode())
        if size > S.EVENT_MAX_BYTES:
            too_large[i] = f"event is {size} bytes serialized (max {S.EVENT_MAX_BYTES})"
    for i in map(int, param_candidates):
        if i in too_large:
            continue
        text = params[i].as_py()
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            continue
        if type(value) is dict:
            why = _param_problem(value)
            if why:
                too_large[i] = why
    if too_large:
        mask = np.zeros(n, dtype=bool)
        mask[list(too_large)] = True
        problems.add(mask, lambda i: f"event_too_large: {too_large[i]}")
