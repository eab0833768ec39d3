"""Events API 2.0 (web) of the TikTok sandbox: the request's validation rules.

``POST /open_api/v1.3/event/track/`` is the hot path of the product's forwarding benchmark
(20,000+ events/s in 1,000-event batches), so validation is a single tight loop over the parsed
body with precompiled regexes, no per-event logging and no per-event allocation beyond what the
store (:mod:`.tiktok_events`) keeps.

Rules (docs/tiktok_business_api.md, Events API):

- ``event_source`` must be ``"web"``, ``event_source_id`` a known pixel code (checked by the
  server, together with the token's permission on that pixel).
- ``data`` holds 1..1000 events, otherwise the WHOLE request fails with 40002.
- Per event: ``event`` is a non-empty string; standard names (and the legacy names TikTok still
  auto-converts: CompletePayment -> Purchase, SubmitForm -> Lead) are accepted; any other name is a
  custom event and must match ``^[A-Za-z][A-Za-z0-9_-]{0,49}$`` and must not be a reserved name;
  ``event_time`` is an integer of unix seconds, not older than ``max_age_seconds`` (default 28
  days) nor more than ``max_future_seconds`` (default 5 minutes) ahead of the sandbox clock (both
  bounds inferred, hence configurable in :class:`EventsConfig`); ``event_id``, when present, is a
  string; ``user.email`` / ``phone`` / ``external_id`` (string or list of strings) are SHA-256
  hex (64 lower-case hex characters): rejected in strict mode (the default), accepted and flagged
  otherwise; ``properties.value`` is a number and ``properties.currency`` three upper-case letters;
  ``page.url`` is a non-empty string (TikTok requires it on web events; ``require_page_url``).
- Any invalid event fails the whole request with 40002 and a path-qualified message such as
  ``data.3.event_time: ...`` (all-or-nothing: the sandbox's choice, inferred where the
  documentation is not explicit).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

# --- event names (standard, legacy, reserved) ---------------------------------------------------------------
WEB_STANDARD_EVENTS: frozenset[str] = frozenset(
    {
        "AddPaymentInfo",
        "AddToCart",
        "AddToWishlist",
        "ApplicationApproval",
        "CompleteRegistration",
        "Contact",
        "CustomizeProduct",
        "Download",
        "FindLocation",
        "InitiateCheckout",
        "Lead",
        "Purchase",
        "Schedule",
        "Search",
        "StartTrial",
        "SubmitApplication",
        "Subscribe",
        "ViewContent",
        "Pageview",
        # soft-deprecated but still fully supported until 2027
        "ClickButton",
        "PlaceAnOrder",
    }
)
# Legacy names still accepted and converted on TikTok's backend (effective 2025-05-01).
LEGACY_EVENT_NAMES: dict[str, str] = {"CompletePayment": "Purchase", "SubmitForm": "Lead"}
# Reserved names: they map to a standard event and may not be used as custom names.
RESERVED_EVENT_NAMES: dict[str, str] = {
    "AddBilling": "AddPaymentInfo",
    "Browse": "PageView",
    "Checkout": "PlaceAnOrder",
    "ClickForm": "SubmitForm",
    "ClickInDownloadPage": "ClickButton",
    "ClickToDownload": "Download",
    "Consult": "Contact",
    "ConsultByPhone": "Contact",
    "Registration": "CompleteRegistration",
    "StartCheckout": "InitiateCheckout",
    "ViewConsultationPage": "ViewContent",
    "ViewDownloadPage": "ViewContent",
    "ViewForm": "ViewContent",
}
# name -> canonical name for every accepted non-custom name
_CANONICAL: dict[str, str] = {name: name for name in WEB_STANDARD_EVENTS} | LEGACY_EVENT_NAMES

_CUSTOM_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,49}").fullmatch
_SHA256_HEX = re.compile(r"[a-f0-9]{64}").fullmatch
_CURRENCY = re.compile(r"[A-Z]{3}").fullmatch

_HASHED_USER_FIELDS = ("email", "phone", "external_id")
_STRING_USER_FIELDS = ("ttclid", "ttp", "ip", "user_agent", "locale")
MAX_EVENTS_PER_REQUEST = 1000

NO_PERMISSION_PIXEL = (
    "No permission to operate pixel code: {code}. You must be an admin or operator of this advertiser account."
)


class TrackError(Exception):
    """A rejected ``event/track`` request: ``code`` and TikTok-style ``message``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclasses.dataclass
class EventsConfig:
    """Events API strictness knobs (the rules TikTok does not document exactly are configurable)."""

    max_age_seconds: float = 28 * 86400.0
    max_future_seconds: float = 300.0
    dedup_window_seconds: float = 48 * 3600.0
    # True: unhashed email/phone/external_id -> 40002. False: accept and flag the event.
    strict_hashing: bool = True
    # True: a web event without page.url (or with an empty one) -> 40002, as TikTok requires it.
    require_page_url: bool = True
    store_payloads: bool = True
    # Payloads kept per pixel and kind (production/test); counters keep counting beyond it.
    max_stored_payloads: int = 2_000_000


def field_error(path: str, message: str) -> TrackError:
    """The 40002 rejection of the field at ``path`` (e.g. ``data.3.event_time``)."""
    return TrackError(40002, f"{path}: {message}")


def validate_events(data: Any, now: float, config: EventsConfig) -> list[tuple[str, Any, tuple[str, ...] | None]]:
    """Validate ``data`` (the request's event list). Returns ``[(canonical_name, event_id, flags)]``
    in order, or raises :class:`TrackError` (40002) at the first invalid event."""
    if type(data) is not list:
        raise field_error("data", "Not a valid list." if data is not None else "Missing data for required field.")
    n = len(data)
    if n < 1 or n > MAX_EVENTS_PER_REQUEST:
        raise field_error("data", f"Length must be between 1 and {MAX_EVENTS_PER_REQUEST}.")
    oldest = now - config.max_age_seconds
    newest = now + config.max_future_seconds
    strict = config.strict_hashing
    require_page = config.require_page_url
    canonical_of = _CANONICAL
    custom_ok = _CUSTOM_NAME
    hashed = _SHA256_HEX
    out: list[tuple[str, Any, tuple[str, ...] | None]] = []
    append = out.append
    for i, ev in enumerate(data):
        if type(ev) is not dict:
            raise field_error(f"data.{i}", "Not a valid mapping type.")
        name = ev.get("event")
        canonical = canonical_of.get(name) if type(name) is str else None
        if canonical is None:
            if name is None:
                raise field_error(f"data.{i}.event", "Missing data for required field.")
            if type(name) is not str:
                raise field_error(f"data.{i}.event", "Not a valid string.")
            if not name:
                raise field_error(f"data.{i}.event", "Field may not be empty.")
            if name in RESERVED_EVENT_NAMES:
                raise field_error(
                    f"data.{i}.event",
                    f"'{name}' is a reserved event name (it maps to "
                    f"{RESERVED_EVENT_NAMES[name]}) and cannot be used as a custom event.",
                )
            if custom_ok(name) is None:
                raise field_error(
                    f"data.{i}.event",
                    f"Invalid custom event name '{name}': use at most 50 letters, "
                    "digits, '_' or '-', starting with a letter.",
                )
            canonical = name
        t = ev.get("event_time")
        if type(t) is not int:
            if t is None:
                raise field_error(f"data.{i}.event_time", "Missing data for required field.")
            raise field_error(f"data.{i}.event_time", "Not a valid integer (unix seconds).")
        if t < oldest:
            raise field_error(
                f"data.{i}.event_time",
                f"event_time {t} is older than the accepted maximum of {config.max_age_seconds / 86400:g} days.",
            )
        if t > newest:
            raise field_error(
                f"data.{i}.event_time",
                f"event_time {t} is more than {config.max_future_seconds:g} seconds in the future.",
            )
        event_id = ev.get("event_id")
        if event_id is not None and type(event_id) is not str:
            raise field_error(f"data.{i}.event_id", "Invalid value for event_id: not a valid string.")
        flags: tuple[str, ...] | None = None
        user = ev.get("user")
        if user is not None:
            if type(user) is not dict:
                raise field_error(f"data.{i}.user", "Not a valid mapping type.")
            for key in _HASHED_USER_FIELDS:
                value = user.get(key)
                if value is None:
                    continue
                if type(value) is str:
                    ok = hashed(value) is not None
                elif type(value) is list:
                    ok = True
                    for item in value:
                        if type(item) is not str:
                            raise field_error(f"data.{i}.user.{key}", "Not a valid string.")
                        if hashed(item) is None:
                            ok = False
                else:
                    raise field_error(f"data.{i}.user.{key}", "Not a valid string.")
                if not ok:
                    if strict:
                        raise field_error(
                            f"data.{i}.user.{key}", "must be SHA-256 hashed (64 lower-case hex characters)."
                        )
                    flags = (flags or ()) + (f"unhashed_{key}",)
            for key in _STRING_USER_FIELDS:
                value = user.get(key)
                if value is not None and type(value) is not str:
                    raise field_error(f"data.{i}.user.{key}", "Not a valid string.")
        props = ev.get("properties")
        if props is not None:
            if type(props) is not dict:
                raise field_error(f"data.{i}.properties", "Not a valid mapping type.")
            value = props.get("value")
            if value is not None and type(value) is not int and type(value) is not float:
                raise field_error(f"data.{i}.properties.value", "Not a valid number.")
            currency = props.get("currency")
            if currency is not None and (type(currency) is not str or _CURRENCY(currency) is None):
                raise field_error(
                    f"data.{i}.properties.currency", "Not a valid ISO 4217 currency code (3 upper-case letters)."
                )
        page = ev.get("page")
        if page is not None:
            if type(page) is not dict:
                raise field_error(f"data.{i}.page", "Not a valid mapping type.")
            url = page.get("url")
            if url is not None and type(url) is not str:
                raise field_error(f"data.{i}.page.url", "Not a valid string.")
        else:
            url = None
        if not url and require_page:
            raise field_error(f"data.{i}.page.url", "Missing data for required field (web events need page.url).")
        append((canonical, event_id, flags))
    return out
