"""What the dashboard shows, read from the public marts only (docs/metrics.md): one
:class:`AdvertiserView` per advertiser, in its currency and its local days, with one
:class:`WindowView` per window (the last N advertiser-local days, today included).

Nothing here sums across currencies: every query is per advertiser, and an advertiser has one
currency."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from signal_campaigns.cli.warehouse_reads import MARTS_SCHEMA, Warehouse

GRAINS = ("campaign", "adgroup", "ad")
# signal_campaign_metrics(grain, start, end): the 12 metrics of a window, ratios from its sums
METRIC_COLUMNS = (
    "spend, installs, installs_appsprint, installs_from_fallback, installs_source, cpi, ipm, impressions, "
    "cpm, clicks, cpc, ctr, cti, roas, revenue, revenue_from_fallback, revenue_source"
)
FORWARDING_STATUSES = ("sent", "dead", "pending")


@dataclasses.dataclass
class WindowView:
    days: int
    start: dt.date
    end: dt.date
    daily: list[dict[str, Any]]  # signal_campaign_campaign_daily rows of the window
    table: list[dict[str, Any]]  # campaign, ad group and ad rows (grain column), campaign order
    reconciliation: list[dict[str, Any]]  # attribution_reconciliation summed per campaign
    delivery: list[dict[str, Any]]  # event_delivery_ledger: events per local day and status


@dataclasses.dataclass
class AdvertiserView:
    advertiser_id: str
    currency: str
    timezone: str
    now_local: dt.datetime
    windows: list[WindowView]
    readiness: list[dict[str, Any]]
    skips: list[dict[str, Any]]  # forwarding_skips of this advertiser by reason
    campaigns: list[str] = dataclasses.field(default_factory=list)  # names, by spend over the longest window

    @property
    def today(self) -> dt.date:
        return self.now_local.date()


def advertisers(wh: Warehouse, advertiser_id: str | None = None) -> list[dict[str, Any]]:
    """Advertisers with rows in ``signal_campaign_daily``: id, currency, timezone."""
    sql = (
        f"select advertiser_id, any_value(currency) as currency, any_value(report_timezone) as timezone "
        f"from {MARTS_SCHEMA}.signal_campaign_daily where ? is null or advertiser_id = ? "
        f"group by advertiser_id order by advertiser_id"
    )
    return wh.rows(sql, [advertiser_id, advertiser_id])


def _daily(wh: Warehouse, advertiser_id: str, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    return wh.rows(
        f"select report_date, campaign_id, campaign_name, spend, installs, installs_appsprint, "
        f"installs_from_fallback, revenue, cpi, roas from {MARTS_SCHEMA}.signal_campaign_campaign_daily "
        f"where advertiser_id = ? and report_date between ? and ? order by campaign_name, campaign_id, report_date",
        [advertiser_id, start, end],
    )


def _table(wh: Warehouse, advertiser_id: str, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Campaign rows, each followed by its ad groups, each followed by its ads (by spend)."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for grain in GRAINS:
        rows[grain] = wh.rows(
            f"select grain, campaign_id, campaign_name, adgroup_id, adgroup_name, ad_id, ad_name, {METRIC_COLUMNS} "
            f"from signal_campaign_metrics(?, ?, ?) where advertiser_id = ? order by spend desc, "
            f"coalesce(ad_id, adgroup_id, campaign_id)",
            [grain, start, end, advertiser_id],
        )
    ordered: list[dict[str, Any]] = []
    for campaign in rows["campaign"]:
        ordered.append(campaign)
        for group in (g for g in rows["adgroup"] if g["campaign_id"] == campaign["campaign_id"]):
            ordered.append(group)
            ordered.extend(a for a in rows["ad"] if a["adgroup_id"] == group["adgroup_id"])
    return ordered


def _reconciliation(wh: Warehouse, advertiser_id: str, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    return wh.rows(
        f"select campaign_id, any_value(campaign_name) as campaign_name, sum(installs_appsprint) as installs_appsprint, "
        f"sum(installs_tiktok) as installs_tiktok, sum(revenue_appsprint) as revenue_appsprint, "
        f"sum(revenue_tiktok) as revenue_tiktok, count(*) filter (where is_diverging) as diverging_days, "
        f"max(diverging_streak_days) as longest_streak "
        f"from {MARTS_SCHEMA}.attribution_reconciliation where advertiser_id = ? and report_date between ? and ? "
        f"group by campaign_id order by campaign_name, campaign_id",
        [advertiser_id, start, end],
    )


def _pixel_advertisers(wh: Warehouse) -> str:
    """SQL of (advertiser_id, pixel_code) pairs, from the marts that carry both."""
    return " union ".join(
        f"select distinct advertiser_id, pixel_code from {MARTS_SCHEMA}.{mart} where advertiser_id is not null"
        for mart in ("value_optimization_readiness", "events_to_forward", "forwarding_skips")
        if wh.has(MARTS_SCHEMA, mart)
    )


def _delivery(wh: Warehouse, advertiser: dict[str, Any], start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Ledger events per advertiser-local day of their last change (sent: sent_at) and status."""
    if not wh.has(MARTS_SCHEMA, "event_delivery_ledger"):
        return []
    pairs = _pixel_advertisers(wh)
    if not pairs:
        return []
    statuses = ", ".join(f"'{s}'" for s in FORWARDING_STATUSES)
    return wh.rows(
        f"select day, status, count(*) as events from ("
        f"  select (coalesce(l.sent_at, l.updated_at, l.first_attempt_at) at time zone ?)::date as day, l.status"
        f"  from {MARTS_SCHEMA}.event_delivery_ledger l join ({pairs}) p on p.pixel_code = l.pixel_code"
        f"  where p.advertiser_id = ? and l.status in ({statuses})"
        f") where day between ? and ? group by day, status order by day, status",
        [advertiser["timezone"], advertiser["advertiser_id"], start, end],
    )


def _readiness(wh: Warehouse, advertiser_id: str) -> list[dict[str, Any]]:
    return wh.rows(
        f"select pixel_code, pixel_name, max_purchases_in_7_days, best_window_start_date, best_window_end_date, "
        f"current_7_day_purchases, threshold, reached_20, evaluated_at "
        f"from {MARTS_SCHEMA}.value_optimization_readiness where advertiser_id = ? order by pixel_code",
        [advertiser_id],
    )


def skips(wh: Warehouse, advertiser_id: str | None) -> list[dict[str, Any]]:
    """Skipped events by reason: of one advertiser, or (``None``) of no TikTok advertiser."""
    return wh.rows(
        f"select reason, count(*) as events from {MARTS_SCHEMA}.forwarding_skips "
        f"where advertiser_id is not distinct from ? group by reason order by events desc, reason",
        [advertiser_id],
    )


def advertiser_view(wh: Warehouse, advertiser: dict[str, Any], windows: list[int], now: dt.datetime) -> AdvertiserView:
    adv_id = advertiser["advertiser_id"]
    now_local = now.astimezone(ZoneInfo(advertiser["timezone"]))
    today = now_local.date()
    views = []
    for days in windows:
        start = today - dt.timedelta(days=days - 1)
        views.append(
            WindowView(
                days=days,
                start=start,
                end=today,
                daily=_daily(wh, adv_id, start, today),
                table=_table(wh, adv_id, start, today),
                reconciliation=_reconciliation(wh, adv_id, start, today),
                delivery=_delivery(wh, advertiser, start, today),
            )
        )
    longest = max(views, key=lambda w: w.days)
    campaigns = [r["campaign_name"] or r["campaign_id"] for r in longest.table if r["grain"] == "campaign"]
    return AdvertiserView(
        advertiser_id=adv_id,
        currency=advertiser["currency"],
        timezone=advertiser["timezone"],
        now_local=now_local,
        windows=views,
        readiness=_readiness(wh, adv_id),
        skips=skips(wh, adv_id),
        campaigns=campaigns,
    )


def read_dashboard(
    wh: Warehouse, windows: list[int], advertiser_id: str | None = None, now: dt.datetime | None = None
) -> list[AdvertiserView]:
    """Every advertiser (or the one asked for) with the given windows, as of ``now`` (default: now)."""
    now = now or dt.datetime.now(dt.UTC)
    return [advertiser_view(wh, a, windows, now) for a in advertisers(wh, advertiser_id)]
