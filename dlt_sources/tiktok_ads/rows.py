"""Row shaping: TikTok's answers -> the raw layer's rows (ids as strings, decimals, UTC times)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from . import settings
from .parsing import parse_bool, parse_decimal, parse_id, parse_int, parse_stat_day, parse_text, parse_tiktok_time


# =================================================================================================
# Row shaping
# =================================================================================================
def _is_deleted(row: dict[str, Any]) -> bool | None:
    if row.get("is_deleted") is not None:
        return parse_bool(row.get("is_deleted"))
    status = row.get("secondary_status") or ""
    return "DELETE" in str(status).upper() if status else None


def shape_advertiser(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "advertiser_id": parse_id(row.get("advertiser_id")),
        "name": parse_text(row.get("name")),
        "currency": parse_text(row.get("currency")),
        "timezone": parse_text(row.get("timezone")),
        "display_timezone": parse_text(row.get("display_timezone")),
        "status": parse_text(row.get("status")),
        "country": parse_text(row.get("country")),
        "company": parse_text(row.get("company")),
        "create_time": parse_tiktok_time(row.get("create_time")),
    }


_ID_COLUMNS = {"advertiser_id", "campaign_id", "adgroup_id", "ad_id", "pixel_id", "tracking_pixel_id"}
_TIME_COLUMNS = {"create_time", "modify_time"}
_MONEY_COLUMNS = {"budget"}


def shape_entity(row: dict[str, Any], columns: Sequence[str], advertiser_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in columns:
        value = row.get(column)
        if column == "advertiser_id":
            out[column] = parse_id(value) or advertiser_id
        elif column == "is_deleted":
            out[column] = _is_deleted(row)
        elif column == "operating_systems":
            if value is None and row.get("operating_system") is not None:
                value = [row["operating_system"]]
            out[column] = list(value) if isinstance(value, (list, tuple)) else ([value] if value else None)
        elif column in _ID_COLUMNS:
            out[column] = parse_id(value)
        elif column in _TIME_COLUMNS:
            out[column] = parse_tiktok_time(value)
        elif column in _MONEY_COLUMNS:
            out[column] = parse_decimal(value)
        else:
            out[column] = parse_text(value)
    return out


def shape_report_row(
    row: dict[str, Any],
    *,
    advertiser_id: str,
    report_timezone: str,
    currency: str | None,
    metrics: Sequence[str],
    synced_at: dt.datetime,
) -> dict[str, Any]:
    dims = row.get("dimensions") or {}
    values = row.get("metrics") or {}
    out: dict[str, Any] = {
        "advertiser_id": advertiser_id,
        "ad_id": parse_id(dims.get("ad_id")),
        "stat_date": parse_stat_day(dims.get("stat_time_day")),
        "campaign_id": parse_id(values.get("campaign_id")),
        "campaign_name": parse_text(values.get("campaign_name")),
        "adgroup_id": parse_id(values.get("adgroup_id")),
        "adgroup_name": parse_text(values.get("adgroup_name")),
        "ad_name": parse_text(values.get("ad_name")),
        "report_timezone": report_timezone,
        "currency": parse_text(values.get("currency")) or currency,
    }
    for metric in metrics:
        raw = values.get(metric)
        out[metric] = parse_int(raw) if metric in settings.COUNT_METRICS else parse_decimal(raw)
    out["synced_at"] = synced_at
    return out


def day_markers(
    advertiser_id: str, first: dt.date, last: dt.date, report_timezone: str, synced_at: dt.datetime
) -> list[dict[str, Any]]:
    """One marker row per day of a re-pulled window: the delete-insert merge deletes the stored
    rows of each (advertiser, day) it receives, and the hard-delete flag keeps the marker itself
    out of the table. Without it, a day that TikTok now reports empty would keep stale rows."""
    days = (first + dt.timedelta(days=n) for n in range((last - first).days + 1))
    return [
        {
            "advertiser_id": advertiser_id,
            "ad_id": settings.DAY_MARKER_AD_ID,
            "stat_date": day,
            "report_timezone": report_timezone,
            "synced_at": synced_at,
            settings.DAY_REPLACED_COLUMN: True,
        }
        for day in days
    ]
