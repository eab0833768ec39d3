"""What the pipeline must produce, computed from the :class:`~.world.World` directly.

Independent of any SQL: plain pyarrow / numpy / Python, as of a sandbox clock instant (default: the
world's anchor). Later pipeline tests compare the warehouse against these tables.

- :func:`attributed_installs`: installs whose current visible version is attributed to a TikTok
  Signal link click, per (advertiser_id, ad_id, advertiser-local install day).
- :func:`attributed_revenue`: revenue of the production, valid, de-duplicated events of those
  installs, per (advertiser_id, ad_id, local day of occurred_at, currency), in the event's currency.
- :func:`tiktok_report`: the ``ad_daily`` rows the TikTok sandbox reports at that clock, with the
  conversion metrics restated by :func:`.restatement.restated` (the ONE restatement rule; the
  TikTok server imports it too, so the server and the ground truth cannot disagree).
- :func:`summary`: headline counts for ``make demo``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

from .restatement import RESTATED_COUNT_COLUMNS, RESTATED_VALUE_COLUMNS, restated
from .world import AD_DAILY, MONEY, World

UTC = dt.UTC


# ============================================================================================
# helpers on the world
# ============================================================================================
def _default_clock(world: World, clock: dt.datetime | None) -> dt.datetime:
    return world.anchor if clock is None else clock.astimezone(UTC)


def local_dates(ts: pa.Array | pa.ChunkedArray, tz: str) -> pa.Array:
    """Advertiser-local calendar date (date32) of UTC instants, via pyarrow's tz database."""
    if isinstance(ts, pa.ChunkedArray):
        ts = ts.combine_chunks()
    return pc.local_timestamp(ts.cast(pa.timestamp("us", tz=tz))).cast(pa.date32())


def visible_installs(world: World, clock: dt.datetime | None = None) -> pa.Table:
    """The install versions an AppSprint client sees at ``clock`` (one per appsprint_id)."""
    c = pa.scalar(_default_clock(world, clock), pa.timestamp("us", tz="UTC"))
    t = world.table("installs")
    sup = t.column("superseded_at")
    keep = pc.and_kleene(pc.less_equal(t.column("updated_at"), c), pc.or_kleene(pc.is_null(sup), pc.greater(sup, c)))
    return t.filter(keep)


def _attributed_install_ads(world: World, clock: dt.datetime | None) -> pa.Table:
    """Visible installs attributed to a TikTok Signal link click, with ad, advertiser and tz."""
    inst = visible_installs(world, clock)
    inst = inst.filter(
        pc.and_kleene(
            pc.equal(inst.column("attribution_status"), "attributed"),
            pc.equal(inst.column("attribution_network"), "tiktok"),
        )
    )
    inst = inst.select(["appsprint_id", "installed_at", "click_id"]).filter(pc.is_valid(inst.column("click_id")))
    clicks = world.table("clicks").select(["click_id", "link_id", "ad_id"])
    links = world.table("signal_links")
    links = links.filter(pc.equal(links.column("network"), "tiktok")).select(["link_id"])
    ads = world.table("ads").select(["ad_id", "advertiser_id"])
    advs = world.table("advertisers").select(["advertiser_id", "timezone"])
    j = inst.join(clicks, "click_id", join_type="inner")
    j = j.join(links, "link_id", join_type="inner")
    j = j.join(ads, "ad_id", join_type="inner")
    return j.join(advs, "advertiser_id", join_type="inner")


def _with_local_date(t: pa.Table, ts_col: str, out_col: str) -> pa.Table:
    parts = []
    for tz in sorted(set(t.column("timezone").to_pylist())):
        part = t.filter(pc.equal(t.column("timezone"), tz))
        parts.append(part.append_column(out_col, local_dates(part.column(ts_col), tz)))
    if not parts:
        return t.append_column(out_col, pa.array([], pa.date32()))
    return pa.concat_tables(parts)


# ============================================================================================
# (a) attributed installs, (b) attributed revenue, (c) the TikTok report
# ============================================================================================
def attributed_installs(world: World, clock: dt.datetime | None = None) -> pa.Table:
    """Attributed installs per (advertiser_id, ad_id, install_date) at ``clock``.

    Columns: advertiser_id, ad_id, install_date (date32, advertiser-local), installs (int64).
    """
    j = _with_local_date(_attributed_install_ads(world, clock), "installed_at", "install_date")
    g = j.group_by(["advertiser_id", "ad_id", "install_date"]).aggregate([("appsprint_id", "count_distinct")])
    g = g.rename_columns(["advertiser_id", "ad_id", "install_date", "installs"])
    g = g.set_column(3, "installs", g.column("installs").cast(pa.int64()))
    return g.sort_by([("advertiser_id", "ascending"), ("ad_id", "ascending"), ("install_date", "ascending")])


def attributed_revenue(world: World, clock: dt.datetime | None = None) -> pa.Table:
    """Attributed revenue per (advertiser_id, ad_id, event_date, currency) at ``clock``.

    Production events (environment ``production``) with a revenue, valid (no planted hostile
    reason), visible at ``clock`` (``updated_at <= clock``), counted once per event_id, of installs
    whose current visible version is attributed to a TikTok Signal link click. ``event_date`` is
    the advertiser-local day of ``occurred_at``. Columns: advertiser_id, ad_id, event_date,
    currency, revenue (decimal128(18, 6), in ``currency``), revenue_events (int64).
    """
    c = pa.scalar(_default_clock(world, clock), pa.timestamp("us", tz="UTC"))
    ev = world.table("events")
    keep = pc.and_kleene(
        pc.and_kleene(pc.less_equal(ev.column("updated_at"), c), pc.equal(ev.column("environment"), "production")),
        pc.and_kleene(pc.is_null(ev.column("invalid_reason")), pc.is_valid(ev.column("revenue"))),
    )
    ev = ev.filter(keep).select(["event_id", "appsprint_id", "occurred_at", "revenue", "currency"])
    # re-deliveries are identical rows: one per event_id
    ev = ev.group_by(["event_id", "appsprint_id", "occurred_at", "revenue", "currency"]).aggregate([])
    inst = _attributed_install_ads(world, clock).select(["appsprint_id", "ad_id", "advertiser_id", "timezone"])
    j = _with_local_date(ev.join(inst, "appsprint_id", join_type="inner"), "occurred_at", "event_date")
    g = j.group_by(["advertiser_id", "ad_id", "event_date", "currency"]).aggregate(
        [("revenue", "sum"), ("event_id", "count")]
    )
    g = g.rename_columns(["advertiser_id", "ad_id", "event_date", "currency", "revenue", "revenue_events"])
    g = g.set_column(4, "revenue", g.column("revenue").cast(MONEY))
    g = g.set_column(5, "revenue_events", g.column("revenue_events").cast(pa.int64()))
    return g.sort_by(
        [("advertiser_id", "ascending"), ("ad_id", "ascending"), ("event_date", "ascending"), ("currency", "ascending")]
    )


def tiktok_report(world: World, clock: dt.datetime | None = None) -> pa.Table:
    """The ``ad_daily`` rows as the TikTok sandbox reports them at ``clock`` (schema ``AD_DAILY``).

    Only days that have started at ``clock`` (``stat_date <= local date of the clock``, per
    advertiser); conversion metrics restated by :func:`.restatement.restated`; spend, impressions,
    clicks and ``real_time_conversion`` as generated.
    """
    clk = _default_clock(world, clock)
    daily = world.table("ad_daily")
    parts = []
    for adv_id, tz in zip(
        world.table("advertisers").column("advertiser_id").to_pylist(),
        world.table("advertisers").column("timezone").to_pylist(),
    ):
        today = clk.astimezone(ZoneInfo(tz)).date()
        part = daily.filter(
            pc.and_kleene(
                pc.equal(daily.column("advertiser_id"), adv_id),
                pc.less_equal(daily.column("stat_date"), pa.scalar(today, pa.date32())),
            )
        )
        dates = part.column("stat_date")
        for col in RESTATED_COUNT_COLUMNS + RESTATED_VALUE_COLUMNS:
            i = part.schema.get_field_index(col)
            part = part.set_column(i, part.schema.field(i), restated(part.column(col), dates, tz, clk))
        parts.append(part)
    out = pa.concat_tables(parts) if parts else daily.slice(0, 0)
    return out.cast(AD_DAILY).sort_by(
        [("advertiser_id", "ascending"), ("stat_date", "ascending"), ("ad_id", "ascending")]
    )


def clicks_per_ad_day(world: World, clock: dt.datetime | None = None) -> pa.Table:
    """AppSprint clicks visible at ``clock`` per (advertiser_id, ad_id, click_date)."""
    c = pa.scalar(_default_clock(world, clock), pa.timestamp("us", tz="UTC"))
    cl = world.table("clicks")
    cl = cl.filter(pc.less_equal(cl.column("updated_at"), c)).select(["click_id", "ad_id", "clicked_at"])
    cl = cl.join(world.table("ads").select(["ad_id", "advertiser_id"]), "ad_id")
    cl = cl.join(world.table("advertisers").select(["advertiser_id", "timezone"]), "advertiser_id")
    j = _with_local_date(cl, "clicked_at", "click_date")
    g = j.group_by(["advertiser_id", "ad_id", "click_date"]).aggregate([("click_id", "count")])
    g = g.rename_columns(["advertiser_id", "ad_id", "click_date", "clicks"])
    g = g.set_column(3, "clicks", g.column("clicks").cast(pa.int64()))
    return g.sort_by([("advertiser_id", "ascending"), ("ad_id", "ascending"), ("click_date", "ascending")])


# ============================================================================================
# summary for `make demo`
# ============================================================================================
def summary(world: World) -> dict[str, Any]:
    """Headline counts of the world (ints, and a few short strings)."""
    t = world.tables
    n = world.notes

    def count_true(table: str, col: str) -> int:
        return int(pc.sum(t[table].column(col).cast(pa.int64())).as_py() or 0)

    ev = t["events"]
    reasons = ev.column("invalid_reason")
    hostile = {
        k: int(pc.sum(pc.equal(reasons, k).cast(pa.int64())).as_py() or 0)
        for k in ("bad_timestamp", "bad_currency", "negative_revenue", "event_too_large")
    }
    visible = visible_installs(world)
    attributed = int(pc.sum(pc.equal(visible.column("attribution_status"), "attributed").cast(pa.int64())).as_py() or 0)
    inst = t["installs"]
    ip = inst.column("ip")
    no_real_ip = pc.or_kleene(
        pc.is_null(ip),
        pc.or_kleene(
            pc.starts_with(ip, "10."), pc.or_kleene(pc.starts_with(ip, "192.168."), pc.starts_with(ip, "127."))
        ),
    )
    no_real = pc.or_kleene(no_real_ip, pc.is_null(inst.column("user_agent")))
    anchor = pa.scalar(world.anchor, pa.timestamp("us", tz="UTC"))
    return {
        "anchor": world.anchor.isoformat(),
        "advertisers": t["advertisers"].num_rows,
        "timezones": ", ".join(t["advertisers"].column("timezone").to_pylist()),
        "campaigns": t["campaigns"].num_rows,
        "deleted_campaigns": count_true("campaigns", "is_deleted"),
        "ad_groups": t["adgroups"].num_rows,
        "deleted_ad_groups": count_true("adgroups", "is_deleted"),
        "ads": t["ads"].num_rows,
        "deleted_ads": count_true("ads", "is_deleted"),
        "fallback_ads_(store_url)": int(pc.sum(pc.is_null(t["ads"].column("signal_link_id")).cast(pa.int64())).as_py()),
        "signal_links": t["signal_links"].num_rows,
        "ad_days": t["ad_daily"].num_rows,
        "zero_activity_ad_days": int(n.get("zero_activity_ad_days", 0)),
        "tiktok_clicks": int(pc.sum(t["ad_daily"].column("clicks")).as_py() or 0),
        "appsprint_clicks": t["clicks"].num_rows,
        "installs": int(pc.count_distinct(inst.column("appsprint_id")).as_py()),
        "install_versions": inst.num_rows,
        "attributed_installs_at_anchor": attributed,
        "late_attributions": int(n.get("late_attributions", 0)),
        "late_attributions_after_anchor": int(n.get("late_attributions_after_anchor", 0)),
        "installs_without_real_ip_or_ua": int(pc.sum(no_real.cast(pa.int64())).as_py() or 0),
        "events": ev.num_rows,
        "unique_events": int(n.get("unique_events", 0)),
        "duplicate_deliveries": int(n.get("duplicate_deliveries", 0)),
        "events_after_anchor": int(pc.sum(pc.greater(ev.column("updated_at"), anchor).cast(pa.int64())).as_py() or 0),
        "sandbox_environment_events": int(
            pc.sum(pc.equal(ev.column("environment"), "sandbox").cast(pa.int64())).as_py() or 0
        ),
        "hostile_rows": sum(hostile.values()),
        **{f"hostile_{k}": v for k, v in hostile.items()},
    }
