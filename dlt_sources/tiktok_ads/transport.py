"""The HTTP session under the source's dlt ``RESTClient``: the project's retry policy and counters.

The session comes from dlt's public requests ``Client`` (pooled adapter, request timeout) with
dlt's own retries switched off; each ``send`` is then retried by tenacity as
:mod:`signal_campaigns.tiktok.retry` says (which failures, backoff with jitter, ``Retry-After``),
and every retry is counted in :class:`RequestStats`. The response hook of
:class:`~dlt_sources.tiktok_ads.client.TikTokClient` turns every failure, HTTP 200 envelopes
included, into an exception before this predicate sees it.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import Counter
from typing import Any

import requests
from dlt.sources.helpers.requests import Client
from requests import PreparedRequest
from requests.auth import AuthBase
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from signal_campaigns.tiktok import api, retry
from signal_campaigns.tiktok.envelope import TikTokError, TikTokRetryableError
from signal_campaigns.tiktok.retry import RetryPolicy

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class RequestStats:
    """What the client did, for logs, tests and benchmarks (thread-safe counters)."""

    requests: int = 0  # HTTP attempts that got an answer or failed in transport
    retries: int = 0  # attempts repeated after a transient failure
    by_endpoint: Counter[str] = dataclasses.field(default_factory=Counter)
    retry_reasons: Counter[str] = dataclasses.field(default_factory=Counter)
    waited_seconds: float = 0.0
    splits: int = 0  # report queries TikTok found too large (40067), each split in parts
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False, compare=False)

    def count_request(self, endpoint: str) -> None:
        with self._lock:
            self.requests += 1
            self.by_endpoint[endpoint] += 1

    def count_retry(self, reason: str, wait: float) -> None:
        with self._lock:
            self.retries += 1
            self.retry_reasons[reason] += 1
            self.waited_seconds += wait

    def count_split(self) -> None:
        with self._lock:
            self.splits += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "retries": self.retries,
            "splits": self.splits,
            "by_endpoint": dict(self.by_endpoint),
            "retry_reasons": dict(self.retry_reasons),
            "waited_seconds": round(self.waited_seconds, 3),
        }


class AccessTokenAuth(AuthBase):
    """Adds ``Access-Token`` when the request is prepared (so it is not in the headers dlt logs).
    Its repr never shows the token."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.headers[api.ACCESS_TOKEN_HEADER] = self._token
        return request

    def __repr__(self) -> str:
        return "AccessTokenAuth(token=***)"


def should_retry(exception: BaseException) -> bool:
    """The tenacity predicate: a retryable TikTok answer or a transport failure (:mod:`.retry`)."""
    return isinstance(exception, TikTokRetryableError) or retry.retryable_transport_error(exception)


def retry_reason(exception: BaseException | None) -> str:
    """A short key for the retry counters: the TikTok code, ``http_502``, ``non_json`` or the
    exception type (``ReadTimeout``, ``ConnectionError``)."""
    if isinstance(exception, TikTokError):
        if exception.code is not None:
            return str(exception.code)
        if exception.http_status is not None and exception.http_status != 200:
            return f"http_{exception.http_status}"
        return "non_json"
    return type(exception).__name__ if exception is not None else "?"


def _failure(retry_state: RetryCallState) -> BaseException | None:
    return retry_state.outcome.exception() if retry_state.outcome else None


def retrying_session(policy: RetryPolicy, stats: RequestStats, request_timeout: float) -> requests.Session:
    """A session of dlt's requests ``Client`` whose ``send`` retries as ``policy`` says."""

    def wait(retry_state: RetryCallState) -> float:
        failure = _failure(retry_state)
        retry_after = failure.retry_after if isinstance(failure, TikTokError) else None
        return policy.delay(retry_state.attempt_number, retry_after=retry_after)

    def before_sleep(retry_state: RetryCallState) -> None:
        failure = _failure(retry_state)
        seconds = retry_state.next_action.sleep if retry_state.next_action else 0.0
        stats.count_retry(retry_reason(failure), seconds)
        logger.warning(
            "TikTok request failed (%s); retry %d of %d in %.2fs",
            failure,
            retry_state.attempt_number,
            policy.max_attempts - 1,
            seconds,
        )

    session = Client(
        request_timeout=request_timeout,
        raise_for_status=False,
        status_codes=(),
        exceptions=(),
        request_max_attempts=1,  # retries are the policy's, below
    ).session
    retrying = Retrying(
        wait=wait,
        retry=retry_if_exception(should_retry),
        stop=stop_after_attempt(policy.max_attempts),
        before_sleep=before_sleep,
        reraise=True,
    )
    session.send = retrying.wraps(session.send)  # type: ignore[method-assign]
    return session
