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
  request is prepared (so it is not in the headers dlt logs), and is scrubbed from every message.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import random
import re
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
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

logger = logging.getLogger(__name__)

REDACTED = "***"


# =================================================================================================
# Exceptions
# =================================================================================================
class TikTokError(Exception):
    """Base of every error the TikTok client raises. Messages never contain the access token."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        endpoint: str | None = None,
        request_id: str | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.endpoint = endpoint
        self.request_id = request_id
        self.http_status = http_status

    def __reduce__(self):  # keep keyword attributes when pickled (dlt may move errors across processes)
        return (_rebuild_error, (type(self), self.message, self.__dict__))


def _rebuild_error(cls: type, message: str, attrs: dict[str, Any]) -> TikTokError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(attrs)
    return err


class TikTokRetryableError(TikTokError):
    """A transient failure: retried with backoff, then :class:`TikTokRetryExhausted`."""


class TikTokRateLimitError(TikTokRetryableError):
    """40100 / 40016 (app QPS/QPM/QPD), 40133 (advertiser QPS), 40132 (QPS by field value)."""


class TikTokServerError(TikTokRetryableError):
    """5xxxx codes, HTTP 5xx, HTML or other non-JSON bodies, timeouts, dropped connections."""


class TikTokRetryExhausted(TikTokError):
    """A transient failure persisted through every attempt."""

    def __init__(self, message: str, *, attempts: int, last_error: BaseException | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.attempts = attempts
        self.last_error_type = type(last_error).__name__ if last_error is not None else None


class TikTokAuthError(TikTokError):
    """The token or the account cannot read this advertiser (40001, 40102, 40104, 40105, 40106,
    40113). Not retried: a person has to act (the message says what to do)."""


class TikTokParameterError(TikTokError):
    """TikTok rejected a request parameter (40000, 40002). Not retried. ``parameter`` names it when
    TikTok's message does."""

    def __init__(self, message: str, *, parameter: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.parameter = parameter


class TikTokApiError(TikTokError):
    """Any other error code (object does not exist, unsupported in sandbox, wrong path...)."""


# Advice per authentication code: what the user has to do (DESIGN.md D6, D7).
AUTH_ADVICE: dict[int, str] = {
    40001: (
        "TikTok denied access to advertiser {advertiser} (code 40001: no permission): the connected "
        "TikTok account is not an admin or operator of this advertiser. Grant it access in TikTok "
        "Business Center, or reconnect TikTok Ads with an account that has advertiser access"
    ),
    40102: ("TikTok says the access token has expired (code 40102): reconnect TikTok Ads to get a new long-term token"),
    40104: (
        "No TikTok access token was sent (code 40104): set sources.tiktok_ads.access_token in "
        ".dlt/secrets.toml or the SOURCES__TIKTOK_ADS__ACCESS_TOKEN environment variable"
    ),
    40105: (
        "TikTok rejected the access token (code 40105): reconnect TikTok Ads with an account that still "
        "has advertiser access"
    ),
    40106: (
        "TikTok says the access token does not belong to advertiser {advertiser} (code 40106): check "
        "advertiser_ids, or reconnect TikTok Ads with the account that owns this advertiser"
    ),
    40113: (
        "TikTok blocked the developer app or the token belongs to another app (code 40113): check the "
        "app in the TikTok developer portal and reconnect TikTok Ads"
    ),
}


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
# Value parsing (reference §3.4: every metric is a string, "-" means no data)
# =================================================================================================
def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in ("", "-"))


def parse_decimal(value: Any) -> Decimal | None:
    """``"20.000"`` -> ``Decimal("20.000")``; ``"-"``/``""``/``None`` -> ``None``. Never float."""
    if is_missing(value):
        return None
    text = str(value).strip().rstrip("%").replace(",", "")
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal: {value!r}") from exc


def parse_int(value: Any) -> int | None:
    """``"4696"`` -> ``4696``; ``"12.0"`` -> ``12``; ``"-"`` -> ``None``."""
    number = parse_decimal(value)
    if number is None:
        return None
    return int(number)


def parse_id(value: Any) -> str | None:
    """Ids stay strings (they exceed 2^53); ``"-"``/empty -> ``None``."""
    if is_missing(value):
        return None
    if isinstance(value, float):  # never expected in v1.3; avoid "1.7e18" if a float ever appears
        raise ValueError(f"id received as a float: {value!r}")
    return str(value)


def parse_text(value: Any) -> str | None:
    return None if is_missing(value) else str(value)


def parse_stat_day(value: Any) -> dt.date:
    """``"2024-05-01 00:00:00"`` (advertiser-local, no offset) -> ``date(2024, 5, 1)``."""
    return dt.date.fromisoformat(str(value).strip()[:10])


def parse_tiktok_time(value: Any) -> dt.datetime | None:
    """Entity times ``"YYYY-MM-DD HH:MM:SS"`` (UTC) or unix seconds -> aware UTC datetime."""
    if is_missing(value):
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit()):
        return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)
    text = str(value).strip().replace("T", " ").replace("Z", "+00:00")
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def parse_bool(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes")


# =================================================================================================
# Error classification
# =================================================================================================
_PARAM_PATTERNS = (
    # "page_size: Must be ...", "filtering.secondary_status: Invalid value ..." (TikTok's style)
    re.compile(r"^\s*['\"`]?([A-Za-z_][\w.\[\]]*)['\"`]?\s*:"),
    # "Invalid value for event_id: ...", "Missing value for parameter x"
    re.compile(
        r"(?:invalid|wrong|missing|unsupported)\s+(?:value\s+)?(?:for|of)\s+(?:the\s+)?(?:param(?:eter)?\s+)?"
        r"['\"`]?([A-Za-z_][\w.\[\]]*)",
        re.I,
    ),
    re.compile(r"(?:param(?:eter)?|field)\s+['\"`]([A-Za-z_][\w.\[\]]*)['\"`]", re.I),
)


def find_parameter(message: str, sent: Sequence[str] = ()) -> str | None:
    """The parameter TikTok's message names: a leading ``"name: ..."`` or ``"Invalid value for
    name"``, else the first parameter we sent that the message mentions (longest name first)."""
    for pattern in _PARAM_PATTERNS[:2]:
        match = pattern.search(message)
        if match:
            return match.group(1).strip(".")
    for name in sorted(sent, key=len, reverse=True):
        if re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", message):
            return name
    match = _PARAM_PATTERNS[2].search(message)
    return match.group(1).strip(".") if match else None


def classify_error(
    code: int,
    message: str,
    *,
    endpoint: str,
    request_id: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> TikTokError:
    """The exception for a non-zero envelope ``code`` (reference §4.9)."""
    params = params or {}
    advertiser = params.get("advertiser_id") or params.get("advertiser_ids") or "?"
    where = f"{endpoint} (request_id {request_id})" if request_id else endpoint
    kw = dict(code=code, endpoint=endpoint, request_id=request_id)
    if code in settings.RATE_LIMIT_CODES:
        return TikTokRateLimitError(f"TikTok rate limit on {where}: code {code}: {message}", **kw)
    if 50000 <= code <= 59999 or code in settings.TRANSIENT_CODES:
        return TikTokServerError(f"TikTok server error on {where}: code {code}: {message}", **kw)
    if code in settings.AUTH_CODES:
        advice = AUTH_ADVICE[code].format(advertiser=advertiser)
        return TikTokAuthError(f"{advice}. TikTok said: {message} [{where}]", **kw)
    if code in settings.PARAMETER_CODES:
        parameter = find_parameter(message, list(params))
        named = f"parameter '{parameter}'" if parameter else "a request parameter"
        return TikTokParameterError(
            f"TikTok rejected {named} of {endpoint} (code {code}): {message.rstrip('.')}. This is a configuration "
            f"or source bug and is not retried; check the tiktok_ads source settings [{where}]",
            parameter=parameter,
            **kw,
        )
    if code == 40011:
        return TikTokApiError(f"Too many ids in one request to {where} (code 40011): {message}", **kw)
    if code in (40300, 40301):
        return TikTokApiError(
            f"TikTok does not know advertiser {advertiser} (code {code}): check advertiser_ids. "
            f"TikTok said: {message} [{where}]",
            **kw,
        )
    return TikTokApiError(f"TikTok error on {where}: code {code}: {message}", **kw)


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
