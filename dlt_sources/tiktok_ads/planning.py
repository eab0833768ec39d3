"""Which advertiser-local days one run pulls, and the source's option checks (pure functions)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from . import settings


# =================================================================================================
# Planning (pure functions, unit-testable)
# =================================================================================================
class ReportPlan:
    """The advertiser-local days one run pulls: ``[start, end]`` inclusive."""

    __slots__ = ("end", "start")

    def __init__(self, start: dt.date, end: dt.date) -> None:
        self.start = start
        self.end = end

    def __repr__(self) -> str:
        return f"ReportPlan({self.start.isoformat()}..{self.end.isoformat()})"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def plan_report_days(
    *,
    today: dt.date,
    lookback_days: int,
    last_stat_date: dt.date | None = None,
    first_stat_date: dt.date | None = None,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    default_backfill_days: int = settings.DEFAULT_BACKFILL_DAYS,
) -> ReportPlan | None:
    """Which local days to pull for one advertiser, or ``None`` when there is nothing to do.

    - First run (no cursor): from ``start_date`` (default: ``default_backfill_days`` up to today).
    - Later runs: the ``lookback_days`` days ending with the last day pulled (restatement), plus
      every day since. If ``start_date`` was moved before the first day ever pulled, from there.
    - Up to ``end_date`` if given, never after the advertiser's ``today``.
    """
    end = min(end_date, today) if end_date else today
    if last_stat_date is None:
        start = start_date or (today - dt.timedelta(days=default_backfill_days - 1))
    else:
        start = min(last_stat_date, end) - dt.timedelta(days=lookback_days - 1)
        if start_date is not None:
            if first_stat_date is not None and start_date < first_stat_date:
                start = start_date  # the configured start moved earlier: backfill the gap
            else:
                start = max(start, start_date)
    if start > end:
        return None
    return ReportPlan(start, end)


def split_windows(start: dt.date, end: dt.date, window_days: int) -> list[tuple[dt.date, dt.date]]:
    """``[start, end]`` cut into consecutive windows of at most ``window_days`` days."""
    windows: list[tuple[dt.date, dt.date]] = []
    cursor = start
    while cursor <= end:
        stop = min(cursor + dt.timedelta(days=window_days - 1), end)
        windows.append((cursor, stop))
        cursor = stop + dt.timedelta(days=1)
    return windows


def validate_options(*, lookback_days: int, window_days: int, page_size: int, metrics: Sequence[str]) -> list[str]:
    """Raise ``ValueError`` with a clear message for an invalid configuration; return the metric list."""
    if (
        not isinstance(lookback_days, int)
        or not settings.MIN_LOOKBACK_DAYS <= lookback_days <= settings.MAX_LOOKBACK_DAYS
    ):
        raise ValueError(
            f"lookback_days must be between {settings.MIN_LOOKBACK_DAYS} and {settings.MAX_LOOKBACK_DAYS} "
            f"(TikTok's longest click-through attribution window is 28 days), got {lookback_days!r}"
        )
    if not isinstance(window_days, int) or not 1 <= window_days <= settings.MAX_WINDOW_DAYS:
        raise ValueError(
            f"window_days must be between 1 and {settings.MAX_WINDOW_DAYS} (TikTok's cap for daily "
            f"reports), got {window_days!r}"
        )
    if not isinstance(page_size, int) or not 1 <= page_size <= settings.MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {settings.MAX_PAGE_SIZE}, got {page_size!r}")
    if isinstance(metrics, str):
        metrics = [m.strip() for m in metrics.split(",") if m.strip()]
    cleaned: list[str] = []
    for metric in metrics:
        if metric in settings.REPORT_ATTRIBUTE_METRICS:
            continue  # always requested
        if metric not in cleaned:
            cleaned.append(metric)
    ratios = [m for m in cleaned if m in settings.RATIO_METRICS or m.startswith(settings.RATIO_METRIC_PREFIXES)]
    if ratios:
        raise ValueError(
            "ratio metrics are not stored in the raw layer (the models recompute them from sums): "
            f"remove {', '.join(ratios)} from metrics"
        )
    if not cleaned:
        raise ValueError("metrics must name at least one report metric, e.g. spend")
    return cleaned


def as_date(value: Any, name: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise ValueError(f"{name} must be a date YYYY-MM-DD, got {value!r}") from exc


def as_instant(value: Any) -> dt.datetime:
    if value is None or value == "":
        return dt.datetime.now(dt.UTC)
    if isinstance(value, dt.datetime):
        instant = value
    else:
        try:
            instant = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"now must be an ISO-8601 instant, got {value!r}") from exc
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return instant.astimezone(dt.UTC)


def as_ids(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [v.strip() for v in value.replace(";", ",").split(",")]
    ids: list[str] = []
    for item in value or []:
        if isinstance(item, float):
            raise ValueError("advertiser_ids must be strings (TikTok ids exceed 2^53); quote them")
        text = str(item).strip()
        if text and text not in ids:
            ids.append(text)
    if not ids:
        raise ValueError("advertiser_ids is empty: set sources.tiktok_ads.advertiser_ids")
    return ids
