"""dlt source for the TikTok Marketing API: advertisers, campaigns, ad groups, ads, pixels and the
daily ad-level report, into the raw ``tiktok_ads`` dataset (docs/raw_layer.md).

Config (``.dlt/config.toml`` / ``.dlt/secrets.toml`` or environment variables)::

    [sources.tiktok_ads]
    advertiser_ids = ["7002238017842757633", "7001035076276387841"]
    start_date = "2026-01-01"        # first run backfills from here (advertiser-local day)
    lookback_days = 7                # re-pulled and replaced on every run, 1..28
    # base_url = "https://business-api.tiktok.com/open_api/v1.3"   (or the sandbox)

    # secrets.toml
    [sources.tiktok_ads]
    access_token = "..."             # env: SOURCES__TIKTOK_ADS__ACCESS_TOKEN

Incremental report (DESIGN.md D1, D5): per advertiser, the resource state remembers the last
advertiser-local day pulled. Each run re-pulls the ``lookback_days`` days up to and including that
day (restated conversions) plus every day since, up to "today" in the advertiser's timezone, in
windows of at most 30 days; the load replaces those days whole (merge, delete-insert on
``(advertiser_id, stat_date)``). A failed run commits neither rows nor state, so running again
gives the same tables as one clean run. The state is per advertiser (not one
``dlt.sources.incremental`` cursor) because every advertiser has its own timezone, its own "today"
and may join the connection later and need its own backfill.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any, Dict, List, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dlt
from dlt.sources import DltResource

from . import settings
from .helpers import (
    RequestStats,
    RetryPolicy,
    TikTokApiError,
    TikTokAuthError,
    TikTokClient,
    TikTokError,
    TikTokParameterError,
    TikTokRateLimitError,
    TikTokRetryableError,
    TikTokRetryExhausted,
    TikTokServerError,
    parse_bool,
    parse_decimal,
    parse_id,
    parse_int,
    parse_stat_day,
    parse_text,
    parse_tiktok_time,
)

__all__ = [
    "ReportPlan",
    "RequestStats",
    "TikTokApiError",
    "TikTokAuthError",
    "TikTokError",
    "TikTokParameterError",
    "TikTokRateLimitError",
    "TikTokRetryExhausted",
    "TikTokRetryableError",
    "TikTokServerError",
    "plan_report_days",
    "split_windows",
    "tiktok_ads",
    "validate_options",
]


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


def split_windows(start: dt.date, end: dt.date, window_days: int) -> list[tuple]:
    """``[start, end]`` cut into consecutive windows of at most ``window_days`` days."""
    windows = []
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
            f"ratio metrics are not stored in the raw layer (the models recompute them from sums, "
            f"DESIGN.md D4): remove {', '.join(ratios)} from metrics"
        )
    if not cleaned:
        raise ValueError("metrics must name at least one report metric, e.g. spend")
    return cleaned


def _as_date(value: Any, name: str) -> dt.date | None:
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


def _as_instant(value: Any) -> dt.datetime:
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


def _as_ids(value: Any) -> list[str]:
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


# =================================================================================================
# Row shaping
# =================================================================================================
def _is_deleted(row: dict[str, Any]) -> bool | None:
    if row.get("is_deleted") is not None:
        return parse_bool(row.get("is_deleted"))
    status = row.get("secondary_status") or ""
    return "DELETE" in str(status).upper() if status else None


def _shape_advertiser(row: dict[str, Any]) -> dict[str, Any]:
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


def _shape_entity(row: dict[str, Any], columns: Sequence[str], advertiser_id: str) -> dict[str, Any]:
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


def _shape_report_row(
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


def _day_markers(
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


# =================================================================================================
# The source
# =================================================================================================
@dlt.source(name="tiktok_ads", max_table_nesting=0)
def tiktok_ads(
    advertiser_ids: list[str] = dlt.config.value,
    access_token: str = dlt.secrets.value,
    base_url: str = settings.DEFAULT_BASE_URL,
    start_date: str | None = None,
    end_date: str | None = None,
    now: str | None = None,
    lookback_days: int = settings.DEFAULT_LOOKBACK_DAYS,
    window_days: int = settings.DEFAULT_WINDOW_DAYS,
    page_size: int = settings.DEFAULT_PAGE_SIZE,
    metrics: list[str] | None = None,
    max_attempts: int = settings.DEFAULT_MAX_ATTEMPTS,
    backoff_seconds: float = settings.DEFAULT_BACKOFF_SECONDS,
    max_backoff_seconds: float = settings.DEFAULT_MAX_BACKOFF_SECONDS,
    request_timeout: float = settings.DEFAULT_REQUEST_TIMEOUT_SECONDS,
    stats: RequestStats | None = None,
) -> Sequence[DltResource]:
    """TikTok Ads reporting for one connection (one access token, several advertisers).

    Args:
        advertiser_ids: advertisers to read (strings).
        access_token: long-term Marketing API token (secret; never logged or stored).
        base_url: API base ending in ``/open_api/v1.3`` (production, TikTok's sandbox or ours).
        start_date: first advertiser-local day of the first run's backfill (``YYYY-MM-DD``);
            default: the last 30 days. Moving it earlier later backfills the gap.
        end_date: last local day to pull (default and cap: "today" in each advertiser's timezone).
        now: the instant "today" is taken from (ISO-8601); default the wall clock. Tests and the
            sandbox pass the sandbox clock.
        lookback_days: trailing days re-pulled and replaced on every run (1..28, default 7).
        window_days: days per report request (1..30).
        page_size: rows per request (1..1000, default 1000).
        metrics: report metrics (default ``settings.DEFAULT_METRICS``; no ratios).
        max_attempts, backoff_seconds, max_backoff_seconds, request_timeout: retry policy.
        stats: optional :class:`RequestStats` that receives the request and retry counters.
    """
    metric_list = validate_options(
        lookback_days=lookback_days,
        window_days=window_days,
        page_size=page_size,
        metrics=list(metrics) if metrics else list(settings.DEFAULT_METRICS),
    )
    ids = _as_ids(advertiser_ids)
    first_day = _as_date(start_date, "start_date")
    last_day = _as_date(end_date, "end_date")
    instant = _as_instant(now)
    synced_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    request_metrics = metric_list + [m for m in settings.REPORT_ATTRIBUTE_METRICS if m not in metric_list]

    client = TikTokClient(
        access_token,
        base_url,
        page_size=page_size,
        retry_policy=RetryPolicy(max_attempts, backoff_seconds, max_backoff_seconds),
        request_timeout=request_timeout,
        stats=stats,
    )
    infos: dict[str, dict[str, Any]] = {}

    def advertiser_infos() -> dict[str, dict[str, Any]]:
        """``advertiser/info/`` once per run, shared by ``advertisers`` and the report."""
        if not infos:
            rows = client.advertiser_info(ids)
            found = {str(r.get("advertiser_id")): r for r in rows}
            missing = [a for a in ids if a not in found]
            if missing:
                raise TikTokApiError(
                    f"advertiser/info returned nothing for advertiser(s) {', '.join(missing)}: check "
                    "advertiser_ids and that the connected account can read them",
                    endpoint="advertiser/info",
                )
            infos.update(found)
        return infos

    @dlt.resource(
        name="advertisers",
        write_disposition="merge",
        primary_key="advertiser_id",
        columns=copy.deepcopy(settings.ADVERTISER_HINTS),
    )
    def advertisers() -> Iterator[dict[str, Any]]:
        found = advertiser_infos()
        for advertiser_id in ids:
            yield _shape_advertiser(found[advertiser_id])

    def entity_resource(table: str, path: str, key: str, columns: list[str], hints: dict[str, Any]) -> DltResource:
        def entity_pages() -> Iterator[list[dict[str, Any]]]:
            for advertiser_id in ids:
                if table == "pixels":
                    pages = client.pixels(advertiser_id)
                else:
                    pages = client.entities(path, advertiser_id, settings.ENTITY_STATUS_ALL[table])
                for page in pages:
                    yield [_shape_entity(row, columns, advertiser_id) for row in page]

        return dlt.resource(
            entity_pages, name=table, write_disposition="merge", primary_key=key, columns=copy.deepcopy(hints)
        )

    @dlt.resource(
        name="ad_daily_report",
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        primary_key=("advertiser_id", "ad_id", "stat_date"),
        merge_key=("advertiser_id", "stat_date"),
        columns=settings.report_column_hints(metric_list),
    )
    def ad_daily_report() -> Iterator[list[dict[str, Any]]]:
        cursors: dict[str, dict[str, Any]] = dlt.current.resource_state().setdefault("advertisers", {})
        found = advertiser_infos()
        for advertiser_id in ids:
            info = found[advertiser_id]
            tz_name = info.get("timezone")
            try:
                tz = ZoneInfo(str(tz_name))
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise TikTokApiError(
                    f"advertiser {advertiser_id} has timezone {tz_name!r}, which is not an IANA timezone",
                    endpoint="advertiser/info",
                ) from exc
            cursor = cursors.get(advertiser_id) or {}
            plan = plan_report_days(
                today=instant.astimezone(tz).date(),
                lookback_days=lookback_days,
                last_stat_date=_as_date(cursor.get("last_stat_date"), "state last_stat_date"),
                first_stat_date=_as_date(cursor.get("first_stat_date"), "state first_stat_date"),
                start_date=first_day,
                end_date=last_day,
            )
            if plan is None:
                continue
            currency = parse_text(info.get("currency"))
            for window_start, window_end in split_windows(plan.start, plan.end, window_days):
                # Every day of the window replaces what is stored for it, rows or none (D5).
                yield _day_markers(advertiser_id, window_start, window_end, str(tz_name), synced_at)
                for page in client.report_pages(advertiser_id, window_start, window_end, request_metrics):
                    yield [
                        _shape_report_row(
                            row,
                            advertiser_id=advertiser_id,
                            report_timezone=str(tz_name),
                            currency=currency,
                            metrics=metric_list,
                            synced_at=synced_at,
                        )
                        for row in page
                    ]
            previous_first = _as_date(cursor.get("first_stat_date"), "state first_stat_date")
            cursors[advertiser_id] = {
                "first_stat_date": min(filter(None, [previous_first, plan.start])).isoformat(),
                "last_stat_date": max(
                    filter(None, [_as_date(cursor.get("last_stat_date"), "state"), plan.end])
                ).isoformat(),
                "report_timezone": str(tz_name),
            }

    return (
        advertisers,
        entity_resource(
            "campaigns", settings.CAMPAIGN_GET_PATH, "campaign_id", settings.CAMPAIGN_COLUMNS, settings.CAMPAIGN_HINTS
        ),
        entity_resource(
            "adgroups", settings.ADGROUP_GET_PATH, "adgroup_id", settings.ADGROUP_COLUMNS, settings.ADGROUP_HINTS
        ),
        entity_resource("ads", settings.AD_GET_PATH, "ad_id", settings.AD_COLUMNS, settings.AD_HINTS),
        entity_resource("pixels", settings.PIXEL_LIST_PATH, "pixel_id", settings.PIXEL_COLUMNS, settings.PIXEL_HINTS),
        ad_daily_report,
    )
