"""Row shaping: TikTok's answers -> the raw layer's rows (ids as strings, decimals, UTC times).

A row that cannot be shaped raises :class:`~.parsing.BadValue` with the reason, and goes to the
quarantine table (:mod:`.quarantine`). Report rows are also refused, with their own reasons, when a
metric is negative (``negative_metric``: spend, counts and values are never below zero in a
report, and a negative one would silently lower every sum built on it), when the day is outside
the window asked for (``outside_window``: its day would be replaced by this one row), and when the
ad id is missing (``missing_id``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from . import settings
from .parsing import (
    BadValue,
    parse_bool,
    parse_decimal,
    parse_id,
    parse_int,
    parse_stat_day,
    parse_text,
    parse_tiktok_time,
)


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
        "create_time": parse_tiktok_time(row.get("create_time"), "create_time"),
    }


_ID_COLUMNS = {"advertiser_id", "campaign_id", "adgroup_id", "ad_id", "pixel_id", "tracking_pixel_id"}
_TIME_COLUMNS = {"create_time", "modify_time"}
_MONEY_COLUMNS = {"budget"}


def shape_entity(row: dict[str, Any], columns: Sequence[str], advertiser_id: str, key: str) -> dict[str, Any]:
    """One campaign, ad group, ad or pixel; ``key`` is its id column, which must be there."""
    if parse_id(row.get(key), key) is None:
        raise BadValue("missing_id", key, row.get(key))
    out: dict[str, Any] = {}
    for column in columns:
        value = row.get(column)
        if column == "advertiser_id":
            out[column] = parse_id(value, column) or advertiser_id
        elif column == "is_deleted":
            out[column] = _is_deleted(row)
        elif column == "operating_systems":
            if value is None and row.get("operating_system") is not None:
                value = [row["operating_system"]]
            out[column] = list(value) if isinstance(value, (list, tuple)) else ([value] if value else None)
        elif column in _ID_COLUMNS:
            out[column] = parse_id(value, column)
        elif column in _TIME_COLUMNS:
            out[column] = parse_tiktok_time(value, column)
        elif column in _MONEY_COLUMNS:
            out[column] = parse_decimal(value, column)
        else:
            out[column] = parse_text(value)
    return out


def report_row_key(row: dict[str, Any]) -> str | None:
    """``"<ad_id>|<stat_time_day>"`` as served, for the quarantine."""
    dims = row.get("dimensions")
    if not isinstance(dims, dict):
        return None
    return f"{dims.get('ad_id')}|{dims.get('stat_time_day')}"


def shape_report_row(
    row: dict[str, Any],
    *,
    advertiser_id: str,
    report_timezone: str,
    timezone: dt.tzinfo,
    window: tuple[dt.date, dt.date],
    currency: str | None,
    metrics: Sequence[str],
    synced_at: dt.datetime,
) -> dict[str, Any]:
    dims = row.get("dimensions")
    values = row.get("metrics")
    if not isinstance(dims, dict) or not isinstance(values, dict):
        raise BadValue("bad_row", "dimensions/metrics", {"dimensions": dims, "metrics": values})
    ad_id = parse_id(dims.get("ad_id"), "ad_id")
    if ad_id is None:
        raise BadValue("missing_id", "ad_id", dims.get("ad_id"))
    stat_date = parse_stat_day(dims.get("stat_time_day"), timezone)
    if not window[0] <= stat_date <= window[1]:
        raise BadValue("outside_window", "stat_time_day", dims.get("stat_time_day"))
    out: dict[str, Any] = {
        "advertiser_id": advertiser_id,
        "ad_id": ad_id,
        "stat_date": stat_date,
        "campaign_id": parse_id(values.get("campaign_id"), "campaign_id"),
        "campaign_name": parse_text(values.get("campaign_name")),
        "adgroup_id": parse_id(values.get("adgroup_id"), "adgroup_id"),
        "adgroup_name": parse_text(values.get("adgroup_name")),
        "ad_name": parse_text(values.get("ad_name")),
        "report_timezone": report_timezone,
        "currency": parse_text(values.get("currency")) or currency,
    }
    for metric in metrics:
        raw = values.get(metric)
        number = parse_int(raw, metric) if metric in settings.COUNT_METRICS else parse_decimal(raw, metric)
        if number is not None and number < 0:
            raise BadValue("negative_metric", metric, raw)
        out[metric] = number
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
