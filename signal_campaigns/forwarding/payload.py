"""Events API 2.0 (web) payloads and the project's one hashing rule (docs/tiktok_business_api.md).

- :func:`hash_identifier` is THE hashing function of the project: SHA-256, lower-case hex, of the
  trimmed value; a value that already is 64 hex characters (``^[A-Fa-f0-9]{64}$``) is never hashed
  again, only lower-cased. :func:`hash_external_id`, :func:`hash_email` and :func:`hash_phone`
  apply TikTok's per-field normalisation before it.
- :func:`build_event` turns one row of the ``events_to_forward`` queue (or the CLI's test event) into
  one ``data[]`` item;
  :func:`build_events` does it column-wise for many rows (the forwarder's hot path);
  :func:`encode_body` makes the request body bytes (orjson) for one pixel.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import orjson

EVENT_SOURCE = "web"
MAX_BATCH_EVENTS = 1000  # more than 1,000 events -> the whole request is rejected
# page.url of a test event sent before any Signal link is saved (the CLI's `pixel` check comes before
# `link`): a placeholder on a reserved domain that says what it is. Production events always carry
# their Signal link; the queue skips an event without one (reason missing_page_url).
TEST_EVENT_PAGE_URL = "https://signal-link.invalid/signal-campaigns-test-event"

_HEX64 = re.compile(r"[A-Fa-f0-9]{64}").fullmatch
_sha256 = hashlib.sha256


def is_sha256_hex(value: str) -> bool:
    """True when ``value`` already looks like a SHA-256 digest (64 hex characters, any case)."""
    return _HEX64(value) is not None


def hash_identifier(value: Any, *, lowercase: bool = False) -> str | None:
    """SHA-256 (lower-case hex) of the trimmed ``value``; ``None`` for a missing/blank value.

    A value that already matches ``^[A-Fa-f0-9]{64}$`` is returned lower-cased, not re-hashed.
    ``lowercase=True`` lower-cases the value before hashing (emails)."""
    if value is None:
        return None
    text = value.strip() if isinstance(value, str) else str(value).strip()
    if not text:
        return None
    if _HEX64(text) is not None:
        return text.lower()
    if lowercase:
        text = text.lower()
    return _sha256(text.encode("utf-8")).hexdigest()


def hash_external_id(value: Any) -> str | None:
    """``user.external_id``: SHA-256 of the trimmed stable user id (case kept, as Rudder does)."""
    return hash_identifier(value)


def hash_email(value: Any) -> str | None:
    """``user.email``: trim, lower-case, SHA-256."""
    return hash_identifier(value, lowercase=True)


_PHONE_JUNK = re.compile(r"[\s()\-.]")


def hash_phone(value: Any) -> str | None:
    """``user.phone``: E.164 (``+`` and digits only) then SHA-256. Only removes spaces, brackets,
    dashes and dots; a number without ``+`` gets one (the caller must supply the country code)."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if _HEX64(text) is not None:
        return text.lower()
    text = _PHONE_JUNK.sub("", text)
    if not text.startswith("+"):
        text = "+" + text.lstrip("0")
    return _sha256(text.encode("utf-8")).hexdigest()


def _number(value: Any) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if isinstance(value, (int, float)) else None


def build_event(row: Mapping[str, Any]) -> dict[str, Any]:
    """One ``data[]`` item from one queue row (keys as in ``events_to_forward``)."""
    return build_events(
        [row.get("tiktok_event")],
        [row.get("event_time")],
        [row.get("event_id")],
        [row.get("ttclid")],
        [row.get("ip")],
        [row.get("user_agent")],
        [row.get("external_id_source")],
        [row.get("value")],
        [row.get("currency")],
        [row.get("page_url")],
    )[0]


def build_events(
    tiktok_event: Sequence[Any],
    event_time: Sequence[Any],
    event_id: Sequence[Any],
    ttclid: Sequence[Any],
    ip: Sequence[Any],
    user_agent: Sequence[Any],
    external_id_source: Sequence[Any],
    value: Sequence[Any],
    currency: Sequence[Any],
    page_url: Sequence[Any],
) -> list[dict[str, Any]]:
    """``data[]`` items for many rows given column-wise (the forwarder's hot path).

    ``event_time`` is unix seconds (int; datetimes are converted); ``event_id`` is sent as a
    string; ``ttclid``/``ip``/``user_agent`` raw; ``external_id`` hashed once; ``properties``
    only when there is a value or a currency (the queue always sets both on Purchase); ``page.url``
    always (TikTok requires it on web events): a row without ``page_url`` raises ``ValueError``."""
    out: list[dict[str, Any]] = []
    append = out.append
    hx = _HEX64
    sha = _sha256
    for name, t, eid, click, addr, ua, ext, val, cur, url in zip(
        tiktok_event, event_time, event_id, ttclid, ip, user_agent, external_id_source, value, currency, page_url
    ):
        when = t if type(t) is int else (int(t.timestamp()) if hasattr(t, "timestamp") else int(t))
        user: dict[str, Any] = {}
        if click:
            user["ttclid"] = click
        if addr:
            user["ip"] = addr
        if ua:
            user["user_agent"] = ua
        if ext is not None:
            ext_text = (ext if type(ext) is str else str(ext)).strip()
            if ext_text:
                user["external_id"] = (
                    ext_text.lower() if hx(ext_text) is not None else sha(ext_text.encode("utf-8")).hexdigest()
                )
        ev: dict[str, Any] = {
            "event": name,
            "event_time": when,
            "event_id": eid if type(eid) is str else str(eid),
            "user": user,
        }
        if val is not None or cur is not None:
            props: dict[str, Any] = {}
            if val is not None:
                number = val if type(val) is float or type(val) is int else _number(val)
                if number is not None:
                    props["value"] = number
            if cur:
                props["currency"] = cur
            if props:
                ev["properties"] = props
        page = url.strip() if type(url) is str else ""
        if not page:
            raise ValueError("no page_url: TikTok requires page.url on web events (the Signal link URL)")
        ev["page"] = {"url": page}
        append(ev)
    return out


def build_body(
    pixel_code: str,
    events: Iterable[dict[str, Any]],
    *,
    test_event_code: str | None = None,
    partner_name: str | None = None,
) -> dict[str, Any]:
    """The request body for one pixel (``events`` must hold 1..1,000 items)."""
    body: dict[str, Any] = {"event_source": EVENT_SOURCE, "event_source_id": pixel_code}
    if test_event_code:
        body["test_event_code"] = test_event_code
    if partner_name:
        body["partner_name"] = partner_name
    body["data"] = events if isinstance(events, list) else list(events)
    return body


def encode_body(
    pixel_code: str,
    events: Sequence[dict[str, Any]],
    *,
    test_event_code: str | None = None,
    partner_name: str | None = None,
) -> bytes:
    """JSON bytes of :func:`build_body` (orjson)."""
    if not 1 <= len(events) <= MAX_BATCH_EVENTS:
        raise ValueError(f"a request holds 1..{MAX_BATCH_EVENTS} events, got {len(events)}")
    return orjson.dumps(
        build_body(pixel_code, list(events), test_event_code=test_event_code, partner_name=partner_name)
    )
