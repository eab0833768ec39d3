"""The errors the TikTok client raises, and the classification of TikTok's error codes."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from . import settings


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
