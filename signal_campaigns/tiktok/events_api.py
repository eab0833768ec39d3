"""Events API client: one keep-alive ``httpx.Client``, TikTok error classification (DESIGN D6,
reference §4.9) and bounded exponential backoff with jitter.

Classification of one ``POST /open_api/v1.3/event/track/``:

- ``ok``: code 0, or 20001 (partial success: counted as success, logged as a warning);
- ``retry``: 40100 / 40016 (app QPS), 40133 (advertiser QPS), 40132 (pixel QPS), 40202, 40700,
  5xxxx, 60001, HTTP 5xx / 429 (HTML or not), unreadable bodies, timeouts and connection errors;
- ``auth``: 40001, 40102, 40104, 40105, 40106 -> :class:`EventsApiAuthError` (stop, keep pending);
- ``invalid``: 40002 -> returned to the caller, who bisects the batch;
- anything else -> :class:`EventsApiRequestError` (stop, keep pending: a configuration problem).

The token is only ever put in the ``Access-Token`` header: never in a message, a log line, an
exception or a ``repr``; messages from TikTok are scrubbed of it anyway.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
from collections.abc import Callable
from typing import Any

import httpx
import orjson

log = logging.getLogger(__name__)

API_PREFIX = "/open_api/v1.3"
TRACK_PATH = "/event/track/"

AUTH_CODES = frozenset({40001, 40102, 40104, 40105, 40106})
RETRY_CODES = frozenset({40016, 40100, 40132, 40133, 40202, 40700, 60001})
INVALID_CODES = frozenset({40002})
PARTIAL_SUCCESS = 20001
AUTH_ADVICE = "Events API token rejected: generate a new token in Business Center, then reconnect"


class ForwardingError(RuntimeError):
    """A forwarding run stopped. The events it did not deliver stay ``pending`` in the ledger.
    ``summary`` (a :class:`~signal_campaigns.forwarding.forwarder.ForwardingSummary`) is set by
    the forwarder."""

    summary: Any = None


class EventsApiAuthError(ForwardingError):
    """The Events API rejected the token (40001/40102/40104/40105/40106)."""

    def __init__(self, code: int, tiktok_message: str = "") -> None:
        self.code = code
        self.tiktok_message = tiktok_message
        detail = f" (TikTok: {tiktok_message})" if tiktok_message else ""
        super().__init__(f"{AUTH_ADVICE}. TikTok code {code}{detail}.")


class EventsApiUnavailableError(ForwardingError):
    """Retryable errors persisted beyond the retry budget."""

    def __init__(self, reason: str, attempts: int) -> None:
        self.reason = reason
        self.attempts = attempts
        super().__init__(
            f"Events API still failing after {attempts} attempts (last: {reason}); "
            "events stay pending and are retried on the next run."
        )


class EventsApiRequestError(ForwardingError):
    """A non-retryable answer that is neither an auth error nor a 40002 (e.g. 40000, HTTP 404)."""

    def __init__(self, code: int | None, message: str, http_status: int | None = None) -> None:
        self.code = code
        self.http_status = http_status
        self.tiktok_message = message
        where = f"TikTok code {code}" if code is not None else f"HTTP {http_status}"
        super().__init__(f"Events API request refused ({where}): {message}; events stay pending.")


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter: attempt ``n`` (1-based) that failed waits
    ``min(max_delay, base_delay * 2**(n-1))`` scaled by a random factor in ``[1-jitter, 1]``."""

    max_attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0
    jitter: float = 0.5

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        raw = min(self.max_delay, self.base_delay * (2 ** max(0, attempt - 1)))
        r = (rng or random).random()
        return raw * (1.0 - self.jitter * r)


@dataclasses.dataclass
class TrackResult:
    """The outcome of one request (after retries): ``kind`` is ``ok`` or ``invalid``."""

    kind: str
    code: int
    message: str
    attempts: int
    retries: dict[str, int]


@dataclasses.dataclass
class _Answer:
    kind: str  # ok | retry | auth | invalid | fatal
    code: int | None
    message: str
    reason: str  # for retries: a short label (code_40100, http_502, timeout, ...)
    http_status: int | None = None


def api_base(base_url: str) -> str:
    """``https://business-api.tiktok.com`` or ``.../open_api/v1.3`` -> ``.../open_api/v1.3``."""
    base = base_url.rstrip("/")
    return base if base.endswith(API_PREFIX) else base + API_PREFIX


class EventsApiClient:
    """``POST /event/track/`` with classification and retries. Use as a context manager or call
    :meth:`close`. ``sleep`` is injectable for tests."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if not token:
            raise EventsApiAuthError(40104, "Access token is empty.")
        self.url = api_base(base_url) + TRACK_PATH
        self._token = token
        self.retry = retry or RetryPolicy()
        self._own_http = http is None
        self._http = http or httpx.Client(timeout=timeout, limits=httpx.Limits(max_keepalive_connections=4))
        self._headers = {"Access-Token": token, "Content-Type": "application/json"}
        self._sleep = sleep
        self._rng = rng or random.Random()

    def __repr__(self) -> str:  # never the token
        return f"EventsApiClient(url={self.url!r})"

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    def __enter__(self) -> EventsApiClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def scrub(self, text: str) -> str:
        """``text`` with the token replaced (defence in depth: TikTok never echoes it)."""
        return text.replace(self._token, "***") if self._token and self._token in text else text

    def _post_once(self, body: bytes) -> _Answer:
        try:
            resp = self._http.post(self.url, content=body, headers=self._headers)
        except httpx.TimeoutException:
            return _Answer("retry", None, "request timed out", "timeout")
        except httpx.TransportError as exc:
            return _Answer("retry", None, f"transport error: {type(exc).__name__}", "network")
        status = resp.status_code
        if status != 200:
            if status >= 500 or status == 429:
                return _Answer("retry", None, f"HTTP {status}", f"http_{status}", status)
            return _Answer("fatal", None, self.scrub(resp.text[:200]), f"http_{status}", status)
        try:
            payload = orjson.loads(resp.content)
            code = int(payload.get("code"))
            message = self.scrub(str(payload.get("message") or ""))
        except (orjson.JSONDecodeError, TypeError, ValueError, AttributeError):
            return _Answer("retry", None, "unreadable response body", "bad_response", status)
        if code == 0:
            return _Answer("ok", 0, message, "")
        if code == PARTIAL_SUCCESS:
            return _Answer("ok", code, message, "")
        if code in AUTH_CODES:
            return _Answer("auth", code, message, f"code_{code}")
        if code in INVALID_CODES:
            return _Answer("invalid", code, message, f"code_{code}")
        if code in RETRY_CODES or 50000 <= code <= 59999:
            return _Answer("retry", code, message, f"code_{code}")
        return _Answer("fatal", code, message, f"code_{code}")

    def track(self, body: bytes, retries: dict[str, int] | None = None) -> TrackResult:
        """POST ``body`` (JSON bytes) until it is answered ``ok`` or ``invalid`` (40002).

        Raises :class:`EventsApiAuthError`, :class:`EventsApiRequestError` or, when retryable
        errors outlast ``retry.max_attempts``, :class:`EventsApiUnavailableError`. Retries are
        counted by reason into ``retries`` (a caller-owned dict, so they count even on a raise)."""
        if retries is None:
            retries = {}
        attempt = 0
        while True:
            attempt += 1
            ans = self._post_once(body)
            if ans.kind in ("ok", "invalid"):
                return TrackResult(ans.kind, ans.code or 0, ans.message, attempt, retries)
            if ans.kind == "auth":
                raise EventsApiAuthError(ans.code or 0, ans.message)
            if ans.kind == "fatal":
                raise EventsApiRequestError(ans.code, ans.message, ans.http_status)
            retries[ans.reason] = retries.get(ans.reason, 0) + 1
            if attempt >= self.retry.max_attempts:
                raise EventsApiUnavailableError(ans.reason, attempt)
            delay = self.retry.delay(attempt, self._rng)
            log.warning(
                "Events API %s (%s); retry %d/%d in %.2fs",
                ans.reason,
                ans.message,
                attempt,
                self.retry.max_attempts - 1,
                delay,
            )
            self._sleep(delay)
