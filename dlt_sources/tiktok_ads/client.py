"""The TikTok Marketing API client of the ``tiktok_ads`` source.

- Transport: dlt's ``RESTClient`` over a session from dlt's requests ``Client`` (thread-local
  sessions, default timeout), with the retry policy below; pagination by dlt's
  ``PageNumberPaginator`` on ``data.page_info.total_page``.
- Every response is checked: TikTok answers HTTP 200 even on errors, so the envelope ``code`` is
  what decides (reference/tiktok_business_api.md §1, §4.9). A response hook classifies each
  response into success or one of the exceptions below *before* the paginator reads it.
- Retry policy: rate limits (40100, 40133, 40132, 40016), 5xxxx codes, HTTP 5xx, HTML/non-JSON
  bodies, timeouts and dropped connections back off exponentially with jitter, a bounded number of
  times; every retry is counted in :class:`RequestStats`. Authentication/permission failures and
  parameter errors never retry.
- The access token is sent only as the ``Access-Token`` header, added by an auth object when the
  request is prepared (so it is not in the headers dlt logs), and is scrubbed from every message."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import random
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.requests.retry import retry_if_predicate
from dlt.sources.helpers.requests.session import Session
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator, SinglePagePaginator
from requests import PreparedRequest, Response
from requests.auth import AuthBase
from requests.exceptions import ChunkedEncodingError, ConnectionError, Timeout
from tenacity import RetryCallState, Retrying, stop_after_attempt

from . import settings
from .errors import (
    AUTH_ADVICE,
    TikTokApiError,
    TikTokAuthError,
    TikTokError,
    TikTokRetryableError,
    TikTokRetryExhausted,
    TikTokServerError,
    classify_error,
)

logger = logging.getLogger(__name__)

REDACTED = "***"


# =================================================================================================
# Counters
# =================================================================================================
@dataclasses.dataclass
class RequestStats:
    """What the client did, for logs, tests and benchmarks (thread-safe counters)."""

    requests: int = 0  # HTTP attempts that got an answer or failed in transport
    retries: int = 0  # attempts repeated after a transient failure
    by_endpoint: Counter = dataclasses.field(default_factory=Counter)
    retry_reasons: Counter = dataclasses.field(default_factory=Counter)
    waited_seconds: float = 0.0
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

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "retries": self.retries,
            "by_endpoint": dict(self.by_endpoint),
            "retry_reasons": dict(self.retry_reasons),
            "waited_seconds": round(self.waited_seconds, 3),
        }


# =================================================================================================
# Transport
# =================================================================================================
class AccessTokenAuth(AuthBase):
    """Adds ``Access-Token`` when the request is prepared. Its repr never shows the token."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.headers["Access-Token"] = self._token
        return request

    def __repr__(self) -> str:
        return "AccessTokenAuth(token=***)"


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = settings.DEFAULT_MAX_ATTEMPTS
    backoff_seconds: float = settings.DEFAULT_BACKOFF_SECONDS
    max_backoff_seconds: float = settings.DEFAULT_MAX_BACKOFF_SECONDS

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.backoff_seconds < 0 or self.max_backoff_seconds < 0:
            raise ValueError("backoff seconds must not be negative")

    @staticmethod
    def should_retry(response: Response | None, exception: BaseException | None) -> bool:
        """The predicate for dlt's retry machinery (``retry_condition``)."""
        if exception is None:
            return False  # the response hook turns every failure into an exception
        return isinstance(exception, (TikTokRetryableError, Timeout, ConnectionError, ChunkedEncodingError))

    def wait(self, retry_state: RetryCallState) -> float:
        """Exponential backoff with "equal jitter": half fixed, half random, capped."""
        n = max(retry_state.attempt_number - 1, 0)
        ceiling = min(self.max_backoff_seconds, self.backoff_seconds * (2**n))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def _reason(exception: BaseException | None) -> str:
    """A short key for the retry counters: the TikTok code, ``http_502``, ``non_json`` or the
    exception type (``ReadTimeout``, ``ConnectionError``)."""
    if isinstance(exception, TikTokError):
        if exception.code is not None:
            return str(exception.code)
        if exception.http_status is not None and exception.http_status != 200:
            return f"http_{exception.http_status}"
        return "non_json"
    return type(exception).__name__ if exception is not None else "?"


class RetryingHttpClient(Client):
    """dlt's requests ``Client`` (thread-local sessions, adapter pool, request timeout) whose retry
    wrapper uses :class:`RetryPolicy`: our predicate only (no blanket status/exception lists),
    exponential backoff *with jitter* (dlt's default wait has none) and a ``before_sleep`` hook
    that counts every retry in :class:`RequestStats`."""

    def __init__(self, policy: RetryPolicy, stats: RequestStats, request_timeout: float) -> None:
        self._policy = policy
        self._stats = stats
        super().__init__(
            request_timeout=request_timeout,
            raise_for_status=False,
            status_codes=(),
            exceptions=(),
            request_max_attempts=policy.max_attempts,
            retry_condition=policy.should_retry,
            request_backoff_factor=policy.backoff_seconds,
            request_max_retry_delay=policy.max_backoff_seconds,
            respect_retry_after_header=False,
        )

    def _before_sleep(self, retry_state: RetryCallState) -> None:
        exception = retry_state.outcome.exception() if retry_state.outcome else None
        wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
        self._stats.count_retry(_reason(exception), wait)
        logger.warning(
            "TikTok request failed (%s); retry %d of %d in %.2fs",
            exception,
            retry_state.attempt_number,
            self._policy.max_attempts - 1,
            wait,
        )

    def _make_session(self) -> Session:
        session = Session(**self._session_kwargs)  # type: ignore[arg-type]
        session.mount("http://", self._adapter)
        session.mount("https://", self._adapter)
        retrying = Retrying(
            wait=self._policy.wait,
            retry=retry_if_predicate(self._policy.should_retry),
            stop=stop_after_attempt(self._policy.max_attempts),
            before_sleep=self._before_sleep,
            reraise=True,
        )
        session.send = retrying.wraps(session.send)  # type: ignore[method-assign]
        return session


class TikTokClient:
    """Reads the Marketing API endpoints the source needs. One instance per source run."""

    def __init__(
        self,
        access_token: str,
        base_url: str = settings.DEFAULT_BASE_URL,
        *,
        page_size: int = settings.DEFAULT_PAGE_SIZE,
        retry_policy: RetryPolicy | None = None,
        request_timeout: float = settings.DEFAULT_REQUEST_TIMEOUT_SECONDS,
        stats: RequestStats | None = None,
    ) -> None:
        if not access_token or not str(access_token).strip():
            raise TikTokAuthError(AUTH_ADVICE[40104] + ".", code=40104)
        if not 1 <= page_size <= settings.MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {settings.MAX_PAGE_SIZE}, got {page_size}")
        self._token = str(access_token)
        self.base_url = base_url.rstrip("/") + "/"
        self.page_size = page_size
        self.retry_policy = retry_policy or RetryPolicy()
        self.stats = stats if stats is not None else RequestStats()
        self._http = RetryingHttpClient(self.retry_policy, self.stats, request_timeout)
        self._rest = RESTClient(
            base_url=self.base_url,
            auth=AccessTokenAuth(self._token),
            session=self._http.session,
            data_selector="data.list",
        )

    def __repr__(self) -> str:
        return f"TikTokClient(base_url={self.base_url!r})"

    # --- safety -------------------------------------------------------------------------------
    def scrub(self, text: str) -> str:
        return text.replace(self._token, REDACTED) if self._token else text

    def _check(self, endpoint: str, params: Mapping[str, Any]):
        """The response hook: count, then raise the right exception for anything but success."""

        def hook(response: Response, *args: Any, **kwargs: Any) -> Response:
            self.stats.count_request(endpoint)
            status = response.status_code
            if status != 200:
                detail = (
                    "an HTML page" if "html" in response.headers.get("content-type", "").lower() else "a non-JSON body"
                )
                if status >= 500 or status == 429:
                    raise TikTokServerError(
                        f"HTTP {status} from {endpoint} with {detail}", endpoint=endpoint, http_status=status
                    )
                hint = ""
                if status == 404:
                    hint = " (check base_url: it must end in /open_api/v1.3, and paths need their trailing '/')"
                raise TikTokApiError(f"HTTP {status} from {endpoint}{hint}", endpoint=endpoint, http_status=status)
            try:
                body = response.json()
            except ValueError:
                raise TikTokServerError(
                    f"HTTP 200 from {endpoint} without a JSON envelope (an HTML or truncated body)", endpoint=endpoint
                ) from None
            if not isinstance(body, dict) or "code" not in body:
                raise TikTokServerError(f"HTTP 200 from {endpoint} without a TikTok envelope", endpoint=endpoint)
            try:
                code = int(body["code"])
            except (TypeError, ValueError):
                raise TikTokServerError(f"{endpoint} answered a non-integer code", endpoint=endpoint) from None
            if code == 0:
                return response
            message = self.scrub(str(body.get("message") or ""))
            request_id = body.get("request_id")
            if code == settings.PARTIAL_SUCCESS_CODE:
                logger.warning("TikTok %s: partial success (20001): %s [request_id %s]", endpoint, message, request_id)
                return response
            raise classify_error(code, message, endpoint=endpoint, request_id=request_id, params=params)

        return hook

    # --- requests -----------------------------------------------------------------------------
    def _pages(
        self,
        path: str,
        params: dict[str, Any],
        *,
        paged: bool = True,
        data_selector: str = "data.list",
        max_page_size: int = settings.MAX_PAGE_SIZE,
    ) -> Iterator[list[dict[str, Any]]]:
        endpoint = path.strip("/")
        sent = dict(params)
        if paged:
            sent["page_size"] = min(self.page_size, max_page_size)
            paginator: Any = PageNumberPaginator(
                base_page=1, page=1, page_param="page", total_path="data.page_info.total_page"
            )
        else:
            paginator = SinglePagePaginator()
        try:
            for page in self._rest.paginate(
                path,
                params=sent,
                paginator=paginator,
                data_selector=data_selector,
                hooks={"response": [self._check(endpoint, {**sent, "page": 1})]},
            ):
                yield list(page)
        except TikTokRetryableError as exc:
            raise self._exhausted(endpoint, exc) from None
        except (Timeout, ConnectionError, ChunkedEncodingError) as exc:
            raise self._exhausted(endpoint, exc) from None
        except TikTokError as exc:
            exc.message = self.scrub(exc.message)
            exc.args = (exc.message,)
            raise

    def _exhausted(self, endpoint: str, exc: BaseException) -> TikTokRetryExhausted:
        attempts = self.retry_policy.max_attempts
        what = (
            self.scrub(str(exc))
            if isinstance(exc, TikTokError)
            else f"{type(exc).__name__} (timeout or connection failure)"
        )
        return TikTokRetryExhausted(
            f"TikTok {endpoint} still failing after {attempts} attempts ({self.stats.retries} retries so far "
            f"in this run): {what}. This is transient (rate limit or TikTok outage): run the sync again later",
            attempts=attempts,
            last_error=exc,
            code=getattr(exc, "code", None),
            endpoint=endpoint,
        )

    def advertiser_info(
        self, advertiser_ids: Sequence[str], fields: Sequence[str] = settings.ADVERTISER_FIELDS
    ) -> list[dict[str, Any]]:
        """``advertiser/info/`` for up to 100 advertisers per request."""
        rows: list[dict[str, Any]] = []
        ids = list(advertiser_ids)
        for i in range(0, len(ids), settings.MAX_ADVERTISERS_PER_INFO_CALL):
            chunk = ids[i : i + settings.MAX_ADVERTISERS_PER_INFO_CALL]
            params = {"advertiser_ids": json.dumps(chunk), "fields": json.dumps(list(fields))}
            for page in self._pages(settings.ADVERTISER_INFO_PATH, params, paged=False):
                rows.extend(page)
        return rows

    def entities(self, path: str, advertiser_id: str, status_all: str) -> Iterator[list[dict[str, Any]]]:
        """``campaign/get/``, ``adgroup/get/`` or ``ad/get/``, every status (deleted included)."""
        params = {"advertiser_id": advertiser_id, "filtering": json.dumps({"secondary_status": status_all})}
        yield from self._pages(path, params)

    def pixels(self, advertiser_id: str) -> Iterator[list[dict[str, Any]]]:
        """``pixel/list/`` (pages of at most 20 pixels), oldest first so paging is stable."""
        params = {"advertiser_id": advertiser_id, "order_by": "EARLIEST_CREATE"}
        yield from self._pages(
            settings.PIXEL_LIST_PATH, params, data_selector="data.pixels", max_page_size=settings.MAX_PIXEL_PAGE_SIZE
        )

    def report_pages(
        self,
        advertiser_id: str,
        start: dt.date,
        end: dt.date,
        metrics: Sequence[str],
    ) -> Iterator[list[dict[str, Any]]]:
        """``report/integrated/get/``: BASIC, AUCTION_AD, by ad and local day, every ad status."""
        params = {
            "advertiser_id": advertiser_id,
            "service_type": "AUCTION",
            "report_type": "BASIC",
            "data_level": "AUCTION_AD",
            "dimensions": json.dumps(settings.REPORT_DIMENSIONS),
            "metrics": json.dumps(list(metrics)),
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "filtering": json.dumps(
                [{"field_name": "ad_status", "filter_type": "IN", "filter_value": json.dumps(["STATUS_ALL"])}]
            ),
        }
        yield from self._pages(settings.REPORT_PATH, params)
