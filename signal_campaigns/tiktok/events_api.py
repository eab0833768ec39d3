"""The Events API client: ``POST /open_api/v1.3/event/track/`` over one keep-alive ``httpx.Client``.

Each answer is classified through the one table of :mod:`.codes` and retried as :mod:`.retry`
says (docs/decisions/0006-forwarding-rules.md):

- ``ok``: success, or partial success (counted as success, logged as a warning by the caller);
- ``retry``: rate-limit and server codes, HTTP 5xx / 429, unreadable bodies, timeouts and
  connection errors, with backoff until the attempts are spent -> :class:`EventsApiUnavailableError`;
- ``auth``: authorization codes -> :class:`EventsApiAuthError` (stop, keep pending);
- ``invalid``: a 40002 whose message points at an event of the request (``data.3.event_time: ...``)
  -> returned to the caller, who bisects the batch; a 40002 that names no event is about the request
  itself (wrong pixel, malformed body) -> :class:`EventsApiRequestError` (stop, keep pending: nothing
  is dead-lettered);
- anything else -> :class:`EventsApiRequestError` (stop, keep pending: a configuration problem).

The token is only ever put in the ``Access-Token`` header: never in a message, a log line, an
exception or a ``repr``; messages from TikTok are scrubbed of it anyway.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import re
import time
from collections.abc import Callable
from typing import Any

import httpx

from signal_campaigns.secrets import Scrubber

from . import api, codes, retry
from .codes import Kind
from .envelope import NotAnEnvelope, parse_envelope
from .retry import RetryPolicy

log = logging.getLogger(__name__)

# The forwarder's defaults: patient, the events stay pending anyway when it gives up.
EVENTS_API_RETRY = RetryPolicy(max_attempts=8, base_delay=0.5, max_delay=30.0)
# What to do when the Events API refuses the token (any authorization code).
AUTH_ADVICE = "Events API token rejected: generate a new token in Business Center, then reconnect"
# What to do when a 40002 names no event: the request itself was refused, not an event in it.
REQUEST_40002_ADVICE = (
    "TikTok refused the request itself, not an event in it (its message names no event), so no event "
    "was dead-lettered. Check the pixel code (event_source_id) and the test event code; if both are "
    "right, the forwarder built a malformed request: report it with this message"
)
# TikTok names an invalid event by its path in the request: "data.3.event_time: ...", or "data[3]".
_EVENT_PATH = re.compile(r"(?<![\w.])data(?:\.|\[)(\d+)")


def invalid_event_index(message: str) -> int | None:
    """The index in ``data[]`` of the event a 40002 message points at; ``None`` when the message
    names no event (the request itself was refused: do not bisect)."""
    match = _EVENT_PATH.search(message)
    return int(match.group(1)) if match else None


class ForwardingError(RuntimeError):
    """A forwarding run stopped. The events it did not deliver stay ``pending`` in the ledger.
    ``summary`` (a :class:`~signal_campaigns.forwarding.config.ForwardingSummary`) is set by
    the forwarder."""

    summary: Any = None
    outcome: Any = None  # what the forwarder knows of the batch it was sending


class EventsApiAuthError(ForwardingError):
    """The Events API rejected the token (an authorization code of :mod:`.codes`)."""

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
    """A non-retryable answer that is neither an auth error nor a 40002 naming an event (e.g. 40000,
    HTTP 404, a 40002 about the request itself). ``advice`` says what to do."""

    def __init__(self, code: int | None, message: str, http_status: int | None = None, advice: str = "") -> None:
        self.code = code
        self.http_status = http_status
        self.tiktok_message = message
        self.advice = advice
        where = f"TikTok code {code}" if code is not None else f"HTTP {http_status}"
        todo = f" {advice};" if advice else ""
        super().__init__(
            f"Events API request refused ({where}): {message.rstrip('.')}.{todo} events stay pending and "
            "are sent by the next run."
        )


@dataclasses.dataclass
class TrackResult:
    """The outcome of one request (after retries): ``kind`` is ``ok`` or ``invalid``."""

    kind: str
    code: int
    message: str
    attempts: int
    retries: dict[str, int]
    event_index: int | None = None  # ``invalid``: the index in data[] TikTok's message points at


@dataclasses.dataclass
class _Answer:
    kind: str  # ok | retry | auth | invalid | request (a 40002 naming no event) | fatal
    code: int | None
    message: str
    reason: str  # for retries: a short label (code_40100, http_502, timeout, ...)
    http_status: int | None = None
    retry_after: float | None = None


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
            raise EventsApiAuthError(codes.NO_TOKEN, "Access token is empty.")
        self.url = api.endpoint_url(base_url, api.TRACK_PATH)
        self.scrub = Scrubber([token])
        self.retry = retry or EVENTS_API_RETRY
        self._own_http = http is None
        self._http = http or httpx.Client(timeout=timeout, limits=httpx.Limits(max_keepalive_connections=4))
        self._headers = {api.ACCESS_TOKEN_HEADER: token, "Content-Type": "application/json"}
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

    def _post_once(self, body: bytes) -> _Answer:
        try:
            resp = self._http.post(self.url, content=body, headers=self._headers)
        except httpx.TimeoutException:
            return _Answer("retry", None, "request timed out", "timeout")
        except retry.TRANSPORT_ERRORS as exc:
            return _Answer("retry", None, f"transport error: {type(exc).__name__}", "network")
        status = resp.status_code
        retry_after = retry.retry_after_seconds(resp.headers.get("Retry-After"))
        if status != 200:
            if retry.retryable_status(status):
                return _Answer("retry", None, f"HTTP {status}", f"http_{status}", status, retry_after)
            return _Answer("fatal", None, self.scrub(resp.text[:200]), f"http_{status}", status)
        try:
            envelope = parse_envelope(resp.content)
        except NotAnEnvelope:
            return _Answer("retry", None, "unreadable response body", "bad_response", status)
        code, message = envelope.code, self.scrub(envelope.message)
        kind = envelope.kind
        if kind in (Kind.OK, Kind.PARTIAL):
            return _Answer("ok", code, message, "")
        if kind is Kind.AUTH:
            return _Answer("auth", code, message, f"code_{code}")
        if code == codes.INVALID_PARAMETER:
            if invalid_event_index(message) is not None:
                return _Answer("invalid", code, message, f"code_{code}")
            return _Answer("request", code, message, f"code_{code}")
        if retry.retryable_code(code):
            return _Answer("retry", code, message, f"code_{code}", retry_after=retry_after)
        return _Answer("fatal", code, message, f"code_{code}")

    def track(self, body: bytes, retries: dict[str, int] | None = None) -> TrackResult:
        """POST ``body`` (JSON bytes) until it is answered ``ok`` or ``invalid`` (a 40002 naming an event).

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
                index = invalid_event_index(ans.message) if ans.kind == "invalid" else None
                return TrackResult(ans.kind, ans.code or 0, ans.message, attempt, retries, index)
            if ans.kind == "auth":
                raise EventsApiAuthError(ans.code or 0, ans.message)
            if ans.kind == "request":
                raise EventsApiRequestError(ans.code, ans.message, advice=REQUEST_40002_ADVICE)
            if ans.kind == "fatal":
                raise EventsApiRequestError(ans.code, ans.message, ans.http_status)
            retries[ans.reason] = retries.get(ans.reason, 0) + 1
            if self.retry.exhausted(attempt):
                raise EventsApiUnavailableError(ans.reason, attempt)
            delay = self.retry.delay(attempt, self._rng, ans.retry_after)
            log.warning(
                "Events API %s (%s); retry %d/%d in %.2fs",
                ans.reason,
                ans.message,
                attempt,
                self.retry.max_attempts - 1,
                delay,
            )
            self._sleep(delay)
