"""TikTok's answer envelope ``{code, message, data, request_id}`` and the errors it turns into.

TikTok answers HTTP 200 even when a call failed: :func:`parse_envelope` reads the envelope (a body
that is not one, e.g. an HTML error page, raises :class:`NotAnEnvelope`, which is retried), and
:func:`error_for_code` turns a failing ``code`` into the :class:`TikTokError` of its kind in
:mod:`.codes`. Messages never contain a secret: callers pass TikTok's message through their
:class:`~signal_campaigns.secrets.Scrubber` first.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from . import codes
from .codes import Kind


class TikTokError(Exception):
    """Base of every error a TikTok client raises. Messages never contain the access token."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        endpoint: str | None = None,
        request_id: str | None = None,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.endpoint = endpoint
        self.request_id = request_id
        self.http_status = http_status
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[Any, ...]:
        # keep the keyword attributes when pickled (dlt may move errors across processes)
        return (_rebuild_error, (type(self), self.message, self.__dict__))


def _rebuild_error(cls: type[TikTokError], message: str, attrs: dict[str, Any]) -> TikTokError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(attrs)
    return err


class TikTokRetryableError(TikTokError):
    """A transient failure: retried with backoff, then :class:`TikTokRetryExhausted`."""


class TikTokRateLimitError(TikTokRetryableError):
    """A rate-limit code (kind ``rate_limit`` in :mod:`.codes`)."""


class TikTokServerError(TikTokRetryableError):
    """A server code (5xxxx and the other kind ``server`` codes), HTTP 5xx/429, a body that is not
    an envelope."""


class TikTokRetryExhausted(TikTokError):  # noqa: N818 (a public name the source's users catch)
    """A transient failure persisted through every attempt."""

    def __init__(self, message: str, *, attempts: int, last_error: BaseException | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.attempts = attempts
        self.last_error_type = type(last_error).__name__ if last_error is not None else None


class TikTokAuthError(TikTokError):
    """The token, the account or the app cannot do this (kind ``auth``). Not retried: a person has
    to act (the message says what to do)."""


class TikTokParameterError(TikTokError):
    """TikTok rejected a request parameter (kind ``parameter``). Not retried. ``parameter`` names
    it when TikTok's message does."""

    def __init__(self, message: str, *, parameter: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.parameter = parameter


class TikTokApiError(TikTokError):
    """Any other refusal (unknown advertiser, too many ids, wrong path...)."""


# --- the envelope --------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Envelope:
    code: int
    message: str
    data: Any
    request_id: str | None

    @property
    def kind(self) -> Kind:
        return codes.kind_of(self.code)

    @property
    def succeeded(self) -> bool:
        """Success, or partial success (which every client counts as a success)."""
        return self.kind in (Kind.OK, Kind.PARTIAL)


class NotAnEnvelope(ValueError):  # noqa: N818 (reads as what it is: the body is not an envelope)
    """The body is not a TikTok envelope (HTML, truncated, no integer ``code``): a transient fault."""


def parse_envelope(content: bytes | str) -> Envelope:
    """The envelope of a response body; :class:`NotAnEnvelope` with what was wrong otherwise."""
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        raise NotAnEnvelope("without a JSON envelope (an HTML or truncated body)") from None
    if not isinstance(body, dict) or "code" not in body:
        raise NotAnEnvelope("without a TikTok envelope")
    try:
        code = int(body["code"])
    except (TypeError, ValueError):
        raise NotAnEnvelope("with a non-integer code") from None
    request_id = body.get("request_id")
    return Envelope(code, str(body.get("message") or ""), body.get("data"), str(request_id) if request_id else None)


# --- errors for codes ----------------------------------------------------------------------------
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


def error_for_code(
    code: int,
    message: str,
    *,
    endpoint: str,
    request_id: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> TikTokError:
    """The exception for a failing envelope ``code``, by its kind in :mod:`.codes`."""
    params = params or {}
    advertiser = str(params.get("advertiser_id") or params.get("advertiser_ids") or "?")
    where = f"{endpoint} (request_id {request_id})" if request_id else endpoint
    entry = codes.lookup(code)
    if entry.kind is Kind.RATE_LIMIT:
        return TikTokRateLimitError(
            f"TikTok rate limit on {where}: code {code}: {message}", code=code, endpoint=endpoint, request_id=request_id
        )
    if entry.kind is Kind.SERVER:
        return TikTokServerError(
            f"TikTok server error on {where}: code {code}: {message}",
            code=code,
            endpoint=endpoint,
            request_id=request_id,
        )
    explained = f"{codes.explain(code, advertiser=advertiser)}. TikTok said: {message} [{where}]"
    if entry.kind is Kind.AUTH:
        return TikTokAuthError(explained, code=code, endpoint=endpoint, request_id=request_id)
    if entry.kind is Kind.PARAMETER:
        parameter = find_parameter(message, list(params))
        named = f"parameter '{parameter}'" if parameter else "a request parameter"
        return TikTokParameterError(
            f"TikTok rejected {named} of {endpoint} (code {code}): {message.rstrip('.')}. This is a configuration "
            f"or source bug and is not retried; check the tiktok_ads source settings [{where}]",
            parameter=parameter,
            code=code,
            endpoint=endpoint,
            request_id=request_id,
        )
    if code in codes.CODES:
        return TikTokApiError(explained, code=code, endpoint=endpoint, request_id=request_id)
    return TikTokApiError(
        f"TikTok error on {where}: code {code}: {message}", code=code, endpoint=endpoint, request_id=request_id
    )
