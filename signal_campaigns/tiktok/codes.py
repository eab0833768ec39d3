"""TikTok's return codes: the one table of what each code means and what to do about it.

TikTok answers HTTP 200 even when a call failed; the envelope's ``code`` says what happened
(docs/tiktok_business_api.md). Every client of this project (the dlt source, the Events API
forwarder, the CLI) classifies a code through :func:`lookup`, so a code means the same thing
everywhere. ``meaning`` may name the advertiser as ``{advertiser}``; ``advice`` is what a person
has to do (empty when nothing: success, or retried by itself).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from types import MappingProxyType


class Kind(enum.StrEnum):
    """How a client treats a code."""

    OK = "ok"  # success
    PARTIAL = "partial"  # success for most items: counted as success, logged as a warning
    AUTH = "auth"  # token, account, app or authorization code: a person has to act; never retried
    RATE_LIMIT = "rate_limit"  # a quota: retried with backoff
    SERVER = "server"  # a transient failure at TikTok: retried with backoff
    PARAMETER = "parameter"  # a request parameter was refused: a configuration or code bug; never retried
    NOT_FOUND = "not_found"  # the advertiser (or object) is unknown to TikTok; never retried
    REQUEST = "request"  # any other refusal; never retried
    TOO_LARGE = "too_large"  # the request asks for too much at once: split it and send the parts


@dataclasses.dataclass(frozen=True)
class ReturnCode:
    kind: Kind
    meaning: str
    advice: str = ""

    @property
    def retryable(self) -> bool:
        return self.kind in (Kind.RATE_LIMIT, Kind.SERVER)


OK = 0
PARTIAL_SUCCESS = 20001
# on the Events API: an event of the batch is invalid when the message names it (data.N...: the batch is
# bisected); a 40002 naming no event refuses the request itself (the run stops, events stay pending)
INVALID_PARAMETER = 40002
NO_TOKEN = 40104
QUERY_TOO_LARGE = 40067  # a report query too large for one call: the source splits it
SERVER_ERRORS = range(50000, 60000)  # 5xxxx: TikTok server errors, all transient

_RECONNECT = "reconnect TikTok Ads"

CODES: Mapping[int, ReturnCode] = MappingProxyType(
    {
        OK: ReturnCode(Kind.OK, "OK"),
        PARTIAL_SUCCESS: ReturnCode(Kind.PARTIAL, "partial success: some items of the request failed"),
        40000: ReturnCode(
            Kind.PARAMETER,
            "a request parameter is invalid",
            "this is a configuration or source bug and is not retried; check the settings",
        ),
        40001: ReturnCode(
            Kind.AUTH,
            "TikTok denied access to advertiser {advertiser} (no permission): the connected TikTok account is "
            "not an Admin or Operator of this advertiser",
            "grant it access in TikTok Business Center, or reconnect TikTok Ads with an account that has "
            "advertiser access",
        ),
        INVALID_PARAMETER: ReturnCode(
            Kind.PARAMETER,
            "a parameter value is invalid",
            "this is a configuration or source bug and is not retried; check the settings",
        ),
        40011: ReturnCode(Kind.REQUEST, "too many ids in one request", "send fewer ids per request"),
        QUERY_TOO_LARGE: ReturnCode(
            Kind.TOO_LARGE,
            "the report query for advertiser {advertiser} is too large for one request",
            "the source splits it by itself (halves the date window, then the set of campaigns); if one day "
            "of one campaign is still too large, request fewer metrics",
        ),
        40016: ReturnCode(Kind.RATE_LIMIT, "the app's requests per minute or per day are exhausted"),
        40100: ReturnCode(Kind.RATE_LIMIT, "the app's requests per second are exhausted"),
        40101: ReturnCode(
            Kind.AUTH,
            "TikTok rejected the app id / app secret or the authorization code",
            "check the app id and secret in the TikTok developer portal (Basic Information), then "
            f"{_RECONNECT} with a new authorization code",
        ),
        40102: ReturnCode(
            Kind.AUTH,
            "TikTok says the access token has expired",
            f"{_RECONNECT} to get a new long-term token",
        ),
        NO_TOKEN: ReturnCode(
            Kind.AUTH,
            "No TikTok access token was sent",
            "set sources.tiktok_ads.access_token in .dlt/secrets.toml or the "
            "SOURCES__TIKTOK_ADS__ACCESS_TOKEN environment variable",
        ),
        40105: ReturnCode(
            Kind.AUTH,
            "TikTok rejected the access token",
            f"{_RECONNECT} with an account that still has advertiser access",
        ),
        40106: ReturnCode(
            Kind.AUTH,
            "TikTok says the access token does not belong to advertiser {advertiser}",
            f"check advertiser_ids, or {_RECONNECT} with the account that owns this advertiser",
        ),
        40110: ReturnCode(
            Kind.AUTH,
            "TikTok says this authorization code was already used or has expired: codes are single-use and "
            "valid for 1 hour",
            "authorize again to get a new code",
        ),
        # The sandbox and TikTok's docs agree: the app is blocked, or the token was issued to another app.
        40113: ReturnCode(
            Kind.AUTH,
            "TikTok blocked the developer app, or the access token belongs to another app",
            f"check the app in the TikTok developer portal, then {_RECONNECT}",
        ),
        40132: ReturnCode(Kind.RATE_LIMIT, "the requests per second for one field value are exhausted"),
        40133: ReturnCode(Kind.RATE_LIMIT, "the advertiser's requests per second are exhausted"),
        40202: ReturnCode(Kind.SERVER, "a write conflict at TikTok"),
        40300: ReturnCode(
            Kind.NOT_FOUND,
            "TikTok does not know advertiser {advertiser}",
            "check advertiser_ids and select an advertiser this connection can read",
        ),
        40301: ReturnCode(
            Kind.NOT_FOUND,
            "TikTok does not know advertiser {advertiser}",
            "check advertiser_ids and select an advertiser this connection can read",
        ),
        40700: ReturnCode(Kind.SERVER, "an internal validation error at TikTok (transient)"),
        60001: ReturnCode(Kind.SERVER, "TikTok is under maintenance"),
    }
)

_SERVER_ERROR = ReturnCode(Kind.SERVER, "a TikTok server error")
_UNKNOWN = ReturnCode(Kind.REQUEST, "TikTok refused the request", "check the request; it is not retried")


def lookup(code: int) -> ReturnCode:
    """The table's entry for ``code``; 5xxxx codes are server errors, any other unknown code a refusal."""
    entry = CODES.get(code)
    if entry is not None:
        return entry
    return _SERVER_ERROR if code in SERVER_ERRORS else _UNKNOWN


def kind_of(code: int) -> Kind:
    return lookup(code).kind


def codes_of(kind: Kind) -> frozenset[int]:
    """Every code of the table with this kind (5xxxx server errors are a range, not listed)."""
    return frozenset(code for code, entry in CODES.items() if entry.kind is kind)


def explain(code: int, *, advertiser: str = "?") -> str:
    """``"<meaning> (code N): <advice>"``: the sentence a person reads."""
    entry = lookup(code)
    text = f"{entry.meaning.format(advertiser=advertiser)} (code {code})"
    return f"{text}: {entry.advice}" if entry.advice else text
