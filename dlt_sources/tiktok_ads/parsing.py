"""Value parsing of TikTok's answers: every metric is a string, ``"-"`` means no data.

A value that cannot be read raises :class:`BadValue`, which names the field, the value and a
reason; the row shaping turns it into a quarantined row (docs/decisions/0011-hostile-input.md), so
one bad value never fails a load.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal, InvalidOperation
from typing import Any

# A number at or above this is a unix time in milliseconds: 1e11 seconds would be the year 5138,
# 1e11 milliseconds is March 1973 (before TikTok).
MILLISECONDS_FROM = 100_000_000_000


class BadValue(ValueError):  # noqa: N818 (reads as what it is: a value that could not be read)
    """A value that could not be read. ``reason`` is the quarantine reason (``bad_timestamp``,
    ``bad_number``, ``bad_id``...); ``field`` and ``value`` say where and what."""

    def __init__(self, reason: str, field: str, value: Any) -> None:
        self.reason = reason
        self.field = field
        self.value = value
        shown = repr(value)
        super().__init__(f"{reason}: {field}={shown[:200]}{'...' if len(shown) > 200 else ''}")


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in ("", "-"))


def parse_decimal(value: Any, field: str = "value") -> Decimal | None:
    """``"20.000"`` -> ``Decimal("20.000")``; ``"-"``/``""``/``None`` -> ``None``. Never float;
    ``NaN`` and infinities are refused."""
    if is_missing(value):
        return None
    if isinstance(value, bool):
        raise BadValue("bad_number", field, value)
    text = str(value).strip().rstrip("%").replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise BadValue("bad_number", field, value) from None
    if not number.is_finite():
        raise BadValue("bad_number", field, value)
    return number


def parse_int(value: Any, field: str = "value") -> int | None:
    """``"4696"`` -> ``4696``; ``"12.0"`` -> ``12``; ``"-"`` -> ``None``."""
    number = parse_decimal(value, field)
    if number is None:
        return None
    return int(number)


def parse_id(value: Any, field: str = "id") -> str | None:
    """Ids stay strings (they exceed 2^53); ``"-"``/empty -> ``None``."""
    if is_missing(value):
        return None
    if isinstance(value, (float, bool, dict, list)):  # a float id has already lost digits
        raise BadValue("bad_id", field, value)
    return str(value)


def parse_text(value: Any) -> str | None:
    return None if is_missing(value) else str(value)


def parse_tiktok_time(value: Any, field: str = "time", *, naive_tz: dt.tzinfo = dt.UTC) -> dt.datetime | None:
    """Every time form TikTok uses -> an aware UTC datetime (``None`` when missing):

    - ISO 8601 (``2026-06-01T10:00:00Z``, ``...+08:00``), ``YYYY-MM-DD HH:MM:SS``, ``YYYY-MM-DD``:
      a time without an offset is in ``naive_tz`` (UTC for entity times, the advertiser's timezone
      for report days);
    - unix seconds and unix milliseconds, as numbers or digit strings (told apart by size:
      :data:`MILLISECONDS_FROM`).

    Anything else raises :class:`BadValue` (``bad_timestamp``) naming ``field``.
    """
    if is_missing(value):
        return None
    if isinstance(value, bool):
        raise BadValue("bad_timestamp", field, value)
    number = _as_number(value)
    if number is not None:
        if not math.isfinite(number) or number < 0:
            raise BadValue("bad_timestamp", field, value)
        seconds = number / 1000 if number >= MILLISECONDS_FROM else number
        try:
            return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            raise BadValue("bad_timestamp", field, value) from None
    try:
        parsed = dt.datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise BadValue("bad_timestamp", field, value) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=naive_tz)
    return parsed.astimezone(dt.UTC)


def parse_stat_day(value: Any, timezone: dt.tzinfo = dt.UTC, field: str = "stat_time_day") -> dt.date:
    """A report row's day, in the advertiser's ``timezone``: ``"2026-06-01 00:00:00"`` (TikTok's
    form: local, no offset) -> ``date(2026, 6, 1)``; the other forms of :func:`parse_tiktok_time`
    (an instant) land on the advertiser-local day. Missing or unreadable: ``BadValue``."""
    try:
        instant = parse_tiktok_time(value, field, naive_tz=timezone)
    except BadValue:
        instant = None
    if instant is None:
        raise BadValue("bad_stat_day", field, value)
    return instant.astimezone(timezone).date()


def _as_number(value: Any) -> float | None:
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    text = str(value).strip()
    if text.replace(".", "", 1).lstrip("-").isdigit():
        return float(text)
    return None


def parse_bool(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes")
