"""What the pipeline must produce, computed from the :class:`~.world.World` directly.

Independent of any SQL: plain pyarrow / numpy / Python, as of a sandbox clock instant (default: the
world's anchor). Later pipeline tests compare the warehouse against these tables.

- :func:`attributed_installs`: installs whose current visible version is attributed to a TikTok
  Signal link click, per (advertiser_id, ad_id, advertiser-local install day).
- :func:`attributed_revenue`: revenue of the production, valid, de-duplicated events of those
  installs, per (advertiser_id, ad_id, local day of occurred_at, currency), in the event's currency.
- :func:`tiktok_report`: the ``ad_daily`` rows the TikTok sandbox reports at that clock, with the
  conversion metrics restated by :func:`restated` (the ONE restatement rule; the TikTok server
  imports it, so the server and the ground truth cannot disagree).
- :func:`summary`: headline counts for ``make demo``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import fractions
import math
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .world import AD_DAILY, MONEY, RESTATEMENT_FRACTIONS, World

UTC = dt.UTC
_EPOCH_DATE = dt.date(1970, 1, 1)
_DAY_US = 86_400_000_000

# ad_daily columns TikTok restates (conversions credited back to the engagement day).
RESTATED_COUNT_COLUMNS: tuple[str, ...] = (
    "conversion",
    "download_start",
    "complete_payment",
    "on_web_subscribe",
    "start_trial",
    "user_registration",
    "page_content_view_events",
)
RESTATED_VALUE_COLUMNS: tuple[str, ...] = ("total_complete_payment_rate", "total_on_web_subscribe_value")
# Never restated: spend, impressions, clicks, real_time_conversion (counted by conversion time).


# ============================================================================================
# restatement: the one rule
# ============================================================================================
def _fraction_table() -> tuple[np.ndarray, int]:
    """RESTATEMENT_FRACTIONS as exact integer numerators over one common denominator."""
    fr = [fractions.Fraction(str(f)) for f in RESTATEMENT_FRACTIONS] + [fractions.Fraction(1)]
    den = math.lcm(*(f.denominator for f in fr))
    return np.array([int(f * den) for f in fr], dtype=np.int64), den


def _to_epoch_days(stat_date: Any) -> np.ndarray:
    if isinstance(stat_date, (pa.Array, pa.ChunkedArray)):
        return np.asarray(stat_date.cast(pa.int32()).to_numpy(zero_copy_only=False), dtype=np.int64)
    if isinstance(stat_date, dt.date):
        return np.array([(stat_date - _EPOCH_DATE).days], dtype=np.int64)
    arr = np.asarray(stat_date)
    if arr.dtype.kind == "M":
        return arr.astype("datetime64[D]").astype(np.int64)
    if arr.dtype == object:
        return np.array([(d - _EPOCH_DATE).days for d in arr.ravel()], dtype=np.int64)
    return arr.astype(np.int64)


def _micro_units(arr: pa.Array) -> np.ndarray:
    """int64 micro-units (value * 10**6) of a decimal array (nulls -> 0)."""
    arr = arr.cast(MONEY).fill_null(decimal.Decimal(0))
    words = np.frombuffer(arr.buffers()[1], dtype=np.int64)
    return words[2 * arr.offset : 2 * (arr.offset + len(arr))].reshape(-1, 2)[:, 0].copy()


def _clock_us(clock: dt.datetime) -> int:
    if clock.tzinfo is None:
        raise ValueError("clock must be timezone-aware")
    return (clock.astimezone(UTC) - dt.datetime(1970, 1, 1, tzinfo=UTC)) // dt.timedelta(microseconds=1)


def _day_end_us(days: np.ndarray, tz: str | Sequence[str]) -> np.ndarray:
    """UTC instant (us) of the end of each local day (= local midnight of the next day)."""
    out = np.empty(len(days), dtype=np.int64)
    tzs = np.array([tz] * len(days), dtype=object) if isinstance(tz, str) else np.asarray(tz, dtype=object)
    if len(tzs) != len(days):
        raise ValueError("tz must be one name or one per stat_date")
    for name in set(tzs.tolist()):
        zone = ZoneInfo(name)
        sel = np.flatnonzero(tzs == name)
        uniq, inv = np.unique(days[sel], return_inverse=True)
        ends = np.array(
            [
                _clock_us(dt.datetime.combine(_EPOCH_DATE + dt.timedelta(days=int(d) + 1), dt.time(), tzinfo=zone))
                for d in uniq
            ],
            dtype=np.int64,
        )
        out[sel] = ends[inv]
    return out


def restatement_index(stat_date: Any, tz: str | Sequence[str], clock: dt.datetime) -> np.ndarray:
    """Whole days between the end of each advertiser-local ``stat_date`` and ``clock``.

    A day still in progress (or in the future) has index 0, as does a day that ended less than 24 h
    before the clock. Index ``i`` reports ``RESTATEMENT_FRACTIONS[i]`` of the final value; past the
    end of the list the value is final.
    """
    days = _to_epoch_days(stat_date)
    elapsed = _clock_us(clock) - _day_end_us(days, tz)
    return np.maximum(elapsed, 0) // _DAY_US


def reported_fraction(stat_date: Any, tz: str | Sequence[str], clock: dt.datetime) -> np.ndarray:
    """The share (float) of the final conversions TikTok reports for each stat day at ``clock``."""
    idx = np.minimum(restatement_index(stat_date, tz, clock), len(RESTATEMENT_FRACTIONS))
    return np.array([*list(RESTATEMENT_FRACTIONS), 1.0])[idx]


def restated(final: Any, stat_date: Any, tz: str | Sequence[str], clock: dt.datetime) -> Any:
    """What TikTok reports at ``clock`` for a stat day whose final (fully attributed) value is ``final``.

    Counts: ``floor(final * fraction)``. Values (money): ``final * fraction`` rounded half-even to
    2 decimal places. Exact arithmetic (fractions as rationals, money as integer micro-units).

    ``final``: a pyarrow array (integer or decimal), a numpy array, a list, or one scalar (int or
    Decimal); nulls pass through. ``stat_date``: date32 array, numpy datetime64/int epoch days, or
    ``datetime.date``(s). ``tz``: one IANA name or one per row. Returns the same kind of container
    as ``final`` (decimal arrays as ``decimal128(18, 6)``, Decimal scalars with 2 places).
    """
    num, den = _fraction_table()
    idx = np.minimum(restatement_index(stat_date, tz, clock), len(num) - 1)
    fnum = num[idx]
    scalar = not isinstance(final, (pa.Array, pa.ChunkedArray, np.ndarray, list, tuple))

    # classify and convert to int64 (counts) or int64 micro-units (values)
    valid: np.ndarray | None = None
    if isinstance(final, (pa.Array, pa.ChunkedArray)):
        arr = final.combine_chunks() if isinstance(final, pa.ChunkedArray) else final
        is_value = pa.types.is_decimal(arr.type) or pa.types.is_floating(arr.type)
        valid = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        if pa.types.is_decimal(arr.type):
            base = _micro_units(arr)
        elif is_value:
            base = np.round(arr.fill_null(0).to_numpy(zero_copy_only=False) * 1e6).astype(np.int64)
        else:
            base = arr.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    else:
        items = [final] if scalar else list(np.asarray(final, dtype=object).ravel())
        is_value = any(isinstance(v, (decimal.Decimal, float, np.floating)) for v in items)
        valid = np.array([v is not None for v in items], dtype=bool)
        if is_value:
            base = np.array(
                [
                    int(decimal.Decimal(str(v)).scaleb(6).to_integral_value(decimal.ROUND_HALF_EVEN))
                    if v is not None
                    else 0
                    for v in items
                ],
                dtype=np.int64,
            )
        else:
            base = np.array([int(v) if v is not None else 0 for v in items], dtype=np.int64)
    if len(fnum) == 1 and len(base) != 1:
        fnum = np.repeat(fnum, len(base))

    if is_value:
        q = base * fnum  # micro-units * den
        divisor = den * 10_000  # -> hundredths
        hundredths, rem = np.divmod(q, divisor)
        up = (2 * rem > divisor) | ((2 * rem == divisor) & (hundredths % 2 == 1))
        hundredths = hundredths + up
        out_micro = hundredths * 10_000
    else:
        out_count = (base * fnum) // den

    # back to the caller's container
    if isinstance(final, (pa.Array, pa.ChunkedArray)):
        mask = None if valid is None or valid.all() else ~valid
        if is_value:
            micro = out_micro.copy()
            mat = np.empty((len(micro), 2), dtype=np.int64)
            mat[:, 0] = micro
            mat[:, 1] = micro >> 63
            bitmap = None if mask is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
            return pa.Array.from_buffers(MONEY, len(micro), [bitmap, pa.py_buffer(mat)])
        return pa.array(out_count, pa.int64(), mask=mask)
    if is_value:
        vals = [decimal.Decimal(int(h)).scaleb(-2) if ok else None for h, ok in zip(out_micro // 10_000, valid)]
    else:
        vals = [int(c) if ok else None for c, ok in zip(out_count, valid)]
    if scalar:
        return vals[0]
    if isinstance(final, np.ndarray) and not is_value and valid.all():
        return out_count
    return vals


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
    advertiser); conversion metrics restated by :func:`restated`; spend, impressions, clicks and
    ``real_time_conversion`` as generated.
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
