"""The one retry policy of every TikTok call: what is retried, how long to wait, how often.

Retried: rate-limit and server codes (:mod:`.codes`), HTTP 5xx and 429, bodies that are not a
TikTok envelope (an HTML error page, a truncated answer), timeouts and dropped connections, for
both HTTP stacks in use (httpx for the Events API and the CLI, requests under dlt's REST client).
Never retried: authentication, parameter and other refusals: a person has to act.

Waits: bounded exponential backoff with "equal jitter" (half fixed, half random), and at least
what a ``Retry-After`` header asks, both capped by ``max_delay``.
"""

from __future__ import annotations

import dataclasses
import random

import httpx
import requests

from . import codes

TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    httpx.TransportError,  # httpx.TimeoutException included
    requests.Timeout,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
)


def retryable_code(code: int) -> bool:
    return codes.lookup(code).retryable


def retryable_status(status: int) -> bool:
    """An HTTP status other than 200 that is worth retrying: 5xx and 429."""
    return status >= 500 or status == 429


def retryable_transport_error(exc: BaseException) -> bool:
    return isinstance(exc, TRANSPORT_ERRORS)


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header in seconds (the HTTP-date form is not used by TikTok: ignored)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """At most ``max_attempts`` tries; the wait after failed try ``n`` (1-based) is
    ``min(max_delay, base_delay * 2**(n-1))``, half of it random, and never less than a
    ``Retry-After`` the answer asked for (still capped by ``max_delay``)."""

    max_attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("retry delays must not be negative")

    def delay(self, attempt: int, rng: random.Random | None = None, retry_after: float | None = None) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** max(0, attempt - 1))
        jitter = rng.uniform(0, ceiling / 2) if rng is not None else random.uniform(0, ceiling / 2)
        wait = ceiling / 2 + jitter
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_delay))
        return wait

    def exhausted(self, attempt: int) -> bool:
        return attempt >= self.max_attempts
