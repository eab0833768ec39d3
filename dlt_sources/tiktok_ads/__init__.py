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

Incremental report (docs/decisions/0001-day-boundary.md, 0005-restatement-and-lookback.md): per
advertiser, the resource state remembers the last
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
import functools
from collections.abc import Iterator, Sequence
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dlt
from dlt.common.schema.typing import TTableSchemaColumns
from dlt.sources import DltResource

from signal_campaigns.tiktok.envelope import (
    TikTokApiError,
    TikTokAuthError,
    TikTokError,
    TikTokParameterError,
    TikTokRateLimitError,
    TikTokRetryableError,
    TikTokRetryExhausted,
    TikTokServerError,
)
from signal_campaigns.tiktok.retry import RetryPolicy

from . import settings
from .client import TikTokClient
from .parsing import parse_text
from .planning import ReportPlan, as_date, as_ids, as_instant, plan_report_days, split_windows, validate_options
from .quarantine import QUARANTINE_TABLE, resource_with_quarantine, sort_rows, with_quarantine
from .rows import day_markers, report_row_key, shape_advertiser, shape_entity, shape_report_row
from .transport import RequestStats

__all__ = [
    "QUARANTINE_TABLE",
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
    base_url = settings.checked_base_url(base_url)
    metric_list = validate_options(
        lookback_days=lookback_days,
        window_days=window_days,
        page_size=page_size,
        metrics=list(metrics) if metrics else list(settings.DEFAULT_METRICS),
    )
    ids = as_ids(advertiser_ids)
    first_day = as_date(start_date, "start_date")
    last_day = as_date(end_date, "end_date")
    instant = as_instant(now)
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

    def advertisers() -> Iterator[Any]:
        found = advertiser_infos()
        good, bad = sort_rows(
            [found[a] for a in ids],
            shape_advertiser,
            resource="advertisers",
            advertiser_id="",
            row_key=lambda r: parse_text(r.get("advertiser_id")),
            at=synced_at,
        )
        for row in bad:
            row["advertiser_id"] = row["row_key"]
        yield from with_quarantine(good, bad)

    def entity_resource(table: str, path: str, key: str, columns: list[str], hints: dict[str, Any]) -> DltResource:
        def entity_pages() -> Iterator[Any]:
            for advertiser_id in ids:
                if table == "pixels":
                    pages = client.pixels(advertiser_id)
                else:
                    pages = client.entities(path, advertiser_id, settings.ENTITY_STATUS_ALL[table])
                for page in pages:
                    good, bad = sort_rows(
                        page,
                        functools.partial(shape_entity, columns=columns, advertiser_id=advertiser_id, key=key),
                        resource=table,
                        advertiser_id=advertiser_id,
                        row_key=lambda row: parse_text(row.get(key)),
                        at=synced_at,
                    )
                    yield from with_quarantine(good, bad)

        return resource_with_quarantine(
            entity_pages,
            table,
            write_disposition="merge",
            primary_key=key,
            columns=cast("TTableSchemaColumns", copy.deepcopy(hints)),
        )

    def ad_daily_report() -> Iterator[Any]:
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
                last_stat_date=as_date(cursor.get("last_stat_date"), "state last_stat_date"),
                first_stat_date=as_date(cursor.get("first_stat_date"), "state first_stat_date"),
                start_date=first_day,
                end_date=last_day,
            )
            if plan is None:
                continue
            currency = parse_text(info.get("currency"))
            for window in split_windows(plan.start, plan.end, window_days):
                # Every day of the window replaces what is stored for it, rows or none.
                yield day_markers(advertiser_id, window[0], window[1], str(tz_name), synced_at)

                shape = functools.partial(
                    shape_report_row,
                    advertiser_id=advertiser_id,
                    report_timezone=str(tz_name),
                    timezone=tz,
                    window=window,
                    currency=currency,
                    metrics=metric_list,
                    synced_at=synced_at,
                )
                for page in client.report_pages(advertiser_id, window[0], window[1], request_metrics):
                    good, bad = sort_rows(
                        page,
                        shape,
                        resource="ad_daily_report",
                        advertiser_id=advertiser_id,
                        row_key=report_row_key,
                        at=synced_at,
                    )
                    yield from with_quarantine(good, bad)
            previous_first = as_date(cursor.get("first_stat_date"), "state first_stat_date")
            cursors[advertiser_id] = {
                "first_stat_date": min(filter(None, [previous_first, plan.start])).isoformat(),
                "last_stat_date": max(
                    filter(None, [as_date(cursor.get("last_stat_date"), "state"), plan.end])
                ).isoformat(),
                "report_timezone": str(tz_name),
            }

    return (
        resource_with_quarantine(
            advertisers,
            "advertisers",
            write_disposition="merge",
            primary_key="advertiser_id",
            columns=cast("TTableSchemaColumns", copy.deepcopy(settings.ADVERTISER_HINTS)),
        ),
        entity_resource(
            "campaigns", settings.CAMPAIGN_GET_PATH, "campaign_id", settings.CAMPAIGN_COLUMNS, settings.CAMPAIGN_HINTS
        ),
        entity_resource(
            "adgroups", settings.ADGROUP_GET_PATH, "adgroup_id", settings.ADGROUP_COLUMNS, settings.ADGROUP_HINTS
        ),
        entity_resource("ads", settings.AD_GET_PATH, "ad_id", settings.AD_COLUMNS, settings.AD_HINTS),
        entity_resource("pixels", settings.PIXEL_LIST_PATH, "pixel_id", settings.PIXEL_COLUMNS, settings.PIXEL_HINTS),
        resource_with_quarantine(
            ad_daily_report,
            "ad_daily_report",
            write_disposition={"disposition": "merge", "strategy": "delete-insert"},
            primary_key=("advertiser_id", "ad_id", "stat_date"),
            merge_key=("advertiser_id", "stat_date"),
            columns=cast("TTableSchemaColumns", settings.report_column_hints(metric_list)),
        ),
    )
