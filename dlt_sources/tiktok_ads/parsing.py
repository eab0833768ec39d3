"""Value parsing of TikTok's answers: every metric is a string, ``"-"`` means no data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any


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
