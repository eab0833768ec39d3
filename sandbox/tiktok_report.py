"""``report/integrated/get/`` for the TikTok sandbox: a vectorised engine over ``ad_daily``.

The world holds one row per ad x advertiser-local day with FINAL conversion values. A query:

1. selects the advertiser's rows in ``[start_date, end_date]`` (advertiser-local days) and not
   after the sandbox clock's local date (future days have no rows);
2. keeps the ads allowed by the status filters (deleted entities are excluded unless the level's
   ``*_status`` filter is ``IN ["STATUS_ALL"]``; deletion cascades campaign -> ad group -> ad) and
   the ``campaign_ids`` / ``adgroup_ids`` / ``ad_ids`` filters;
3. restates the conversion metrics as of the clock with :func:`.restatement.restated` (the one
   restatement rule, so server and ground truth never disagree); ``real_time_conversion``,
   spend, impressions and clicks are served as they are;
4. optionally spreads each day over 24 local hours (deterministic diurnal weights, exact integer
   split by cumulative floors, so the hours of a day sum to the day);
5. aggregates to the data level (ratios are recomputed from the sums), sorts by (entity id, time)
   and formats only the requested page: every value a string, money 3 dp, value metrics 2 dp,
   ``ctr`` a percentage with 2 dp, counts without decimals, ``"-"`` when a ratio's denominator
   is zero (the metric table: :mod:`.tiktok_report_metrics`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .restatement import restated
from .tiktok_report_metrics import COUNT_COLUMNS, METRICS, MONEY_COLUMNS, RESTATED_COLUMNS, VALUE_COLUMNS
from .world import World

EPOCH = dt.date(1970, 1, 1)

# hourly split granularity in micro-units (the served precision)
SPLIT_UNIT = {"spend": 1000.0, "total_complete_payment_rate": 10_000.0, "total_on_web_subscribe_value": 10_000.0}

# Diurnal weights of the 24 local hours (deterministic), cumulative with C[0]=0 and C[24]=1.
_W = np.array([0.6 + 0.5 * math.sin((h - 9) / 24 * 2 * math.pi) + (0.25 if 19 <= h <= 22 else 0.0) for h in range(24)])
_W = np.clip(_W, 0.1, None)
HOUR_CUMULATIVE = np.concatenate([[0.0], np.cumsum(_W) / _W.sum()])
HOUR_CUMULATIVE[-1] = 1.0


@dataclasses.dataclass
class ReportQuery:
    advertiser_ids: list[str]
    level: str  # advertiser | campaign | adgroup | ad
    dimensions: list[str]  # as requested (id dimension and optional time dimension)
    time: str | None  # "day" | "hour" | None
    metrics: list[str]
    start: dt.date | None  # None with query_lifetime
    end: dt.date | None
    status_filters: dict[str, set[str]]  # entity level -> values
    id_filters: dict[str, set[str]]  # entity level -> ids
    page: int
    page_size: int
    multi_advertiser: bool = False


class ReportEngine:
    """Precomputed arrays over the world's entities and ``ad_daily``."""

    def __init__(self, world: World, restate: Callable[..., np.ndarray] | None = None) -> None:
        self._restate = restate
        adv = world.table("advertisers").to_pylist()
        self.advertisers = {a["advertiser_id"]: a for a in adv}
        self.tz = {a["advertiser_id"]: ZoneInfo(a["timezone"]) for a in adv}
        self.tz_names = {a["advertiser_id"]: a["timezone"] for a in adv}

        camps = sorted(world.table("campaigns").to_pylist(), key=lambda r: r["campaign_id"])
        groups = sorted(world.table("adgroups").to_pylist(), key=lambda r: r["adgroup_id"])
        ads = sorted(world.table("ads").to_pylist(), key=lambda r: r["ad_id"])
        self.entities = {"campaign": camps, "adgroup": groups, "ad": ads}
        cidx = {c["campaign_id"]: i for i, c in enumerate(camps)}
        gidx = {g["adgroup_id"]: i for i, g in enumerate(groups)}
        aidx = {a["ad_id"]: i for i, a in enumerate(ads)}
        self.index = {"campaign": cidx, "adgroup": gidx, "ad": aidx}
        self.group_campaign = np.array([cidx[g["campaign_id"]] for g in groups], dtype=np.int64)
        self.ad_group = np.array([gidx[a["adgroup_id"]] for a in ads], dtype=np.int64)
        self.ad_campaign = np.array([cidx[a["campaign_id"]] for a in ads], dtype=np.int64)
        # effective deletion cascades campaign -> ad group -> ad
        camp_del = np.array([bool(c["is_deleted"]) for c in camps], dtype=bool)
        group_del = np.array([bool(g["is_deleted"]) for g in groups], dtype=bool) | (
            camp_del[self.group_campaign] if len(groups) else np.zeros(0, bool)
        )
        ad_del = np.array([bool(a["is_deleted"]) for a in ads], dtype=bool) | (
            group_del[self.ad_group] if len(ads) else np.zeros(0, bool)
        )
        self.deleted = {"campaign": camp_del, "adgroup": group_del, "ad": ad_del}
        # per ad: deletion flag of its own campaign / ad group (for the status filters)
        self.ad_deleted_at = {
            "campaign": camp_del[self.ad_campaign] if len(ads) else np.zeros(0, bool),
            "adgroup": group_del[self.ad_group] if len(ads) else np.zeros(0, bool),
            "ad": ad_del,
        }
        self.ad_entity = {
            "ad": np.arange(len(ads), dtype=np.int64),
            "adgroup": self.ad_group,
            "campaign": self.ad_campaign,
        }
        self.n_ads = len(ads)

        daily = world.table("ad_daily")
        ad_ids = daily.column("ad_id").to_pylist()
        ad_index = np.array([aidx[a] for a in ad_ids], dtype=np.int64)
        adv_ids = daily.column("advertiser_id").to_pylist()
        days = daily.column("stat_date").cast(pa.int32()).to_numpy().astype(np.int64)
        cols: dict[str, np.ndarray] = {}
        for name in MONEY_COLUMNS:
            values = pc.cast(daily.column(name), pa.float64()).to_numpy(zero_copy_only=False)
            cols[name] = np.round(values * 1e6).astype(np.int64)
        for name in COUNT_COLUMNS:
            cols[name] = daily.column(name).to_numpy(zero_copy_only=False).astype(np.int64)
        # sort by advertiser, ad, day; keep per-advertiser slices
        adv_codes = {a: i for i, a in enumerate(sorted(set(adv_ids) | set(self.advertisers)))}
        adv_arr = np.array([adv_codes[a] for a in adv_ids], dtype=np.int64)
        order = np.lexsort((days, ad_index, adv_arr))
        self.day = days[order]
        self.ad = ad_index[order]
        self.cols = {k: v[order] for k, v in cols.items()}
        adv_sorted = adv_arr[order]
        self.slices: dict[str, tuple[int, int]] = {}
        for a, code in adv_codes.items():
            lo = int(np.searchsorted(adv_sorted, code, "left"))
            hi = int(np.searchsorted(adv_sorted, code, "right"))
            self.slices[a] = (lo, hi)

    # ------------------------------------------------------------------------------------------
    def local_today(self, advertiser_id: str, now: dt.datetime) -> dt.date:
        return now.astimezone(self.tz[advertiser_id]).date()

    def restate(self, name: str, final: np.ndarray, days: np.ndarray, tz: str, now: dt.datetime) -> np.ndarray:
        """Conversions of ``name`` reported at ``now`` (float64; values in micro-units), computed by
        the one restatement rule :func:`.restatement.restated` (or the ``restate`` override)."""
        if len(final) == 0:
            return np.zeros(0, dtype=np.float64)
        fn = self._restate or restated
        if name in VALUE_COLUMNS:
            out = fn(pa.array(final / 1e6, pa.float64()), days, tz, now)
            return np.rint(pc.cast(out, pa.float64()).to_numpy(zero_copy_only=False) * 1e6)
        out = fn(pa.array(final, pa.int64()), days, tz, now)
        return np.asarray(out.to_numpy(zero_copy_only=False) if isinstance(out, pa.Array) else out, dtype=np.float64)

    def _allowed_ads(self, q: ReportQuery) -> np.ndarray:
        allowed = np.ones(self.n_ads, dtype=bool)
        status = dict(q.status_filters)
        if q.level != "advertiser":
            status.setdefault(q.level, {"STATUS_NOT_DELETE"})
        for level, values in status.items():
            if "STATUS_ALL" in values:
                continue
            deleted = self.ad_deleted_at[level]
            keep = np.zeros(self.n_ads, dtype=bool)
            if "STATUS_NOT_DELETE" in values:
                keep |= ~deleted
            if "STATUS_DELETE" in values:
                keep |= deleted
            allowed &= keep
        for level, ids in q.id_filters.items():
            index = self.index[level]
            wanted = np.zeros(len(self.entities[level]), dtype=bool)
            for i in ids:
                j = index.get(i)
                if j is not None:
                    wanted[j] = True
            allowed &= wanted[self.ad_entity[level]]
        return allowed

    def _advertiser_groups(
        self, q: ReportQuery, advertiser_id: str, now: dt.datetime, allowed: np.ndarray
    ) -> dict[str, Any]:
        lo, hi = self.slices.get(advertiser_id, (0, 0))
        day = self.day[lo:hi]
        ad = self.ad[lo:hi]
        today = (self.local_today(advertiser_id, now) - EPOCH).days
        mask = day <= today
        if q.start is not None and q.end is not None:  # both or neither (query_lifetime)
            mask &= (day >= (q.start - EPOCH).days) & (day <= (q.end - EPOCH).days)
        mask &= allowed[ad]
        rows = np.nonzero(mask)[0]
        day = day[rows]
        ad = ad[rows]
        needed = {c for m in q.metrics if m in METRICS for c in METRICS[m][0]}
        values: dict[str, np.ndarray] = {}
        for name in needed:
            col = self.cols[name][lo:hi][rows]
            if name in RESTATED_COLUMNS:
                col = self.restate(name, col, day, self.tz_names[advertiser_id], now)
            values[name] = col.astype(np.float64)
        entity = np.zeros(len(rows), dtype=np.int64) if q.level == "advertiser" else self.ad_entity[q.level][ad]
        if q.time == "hour":
            n = len(rows)
            hours = np.tile(np.arange(24, dtype=np.int64), n)
            for name, col in values.items():
                # split in units of the served precision (spend 0.001, values 0.01) so that the
                # formatted hours add up exactly to the formatted day
                unit = SPLIT_UNIT.get(name, 1.0)
                scaled = np.rint(col / unit)[:, None]
                split = np.floor(scaled * HOUR_CUMULATIVE[1:] + 1e-9) - np.floor(scaled * HOUR_CUMULATIVE[:-1] + 1e-9)
                values[name] = split.reshape(-1) * unit
            entity = np.repeat(entity, 24)
            time_key = np.repeat(day, 24) * 24 + hours
        elif q.time == "day":
            time_key = day
        else:
            time_key = np.zeros(len(entity), dtype=np.int64)
        if len(entity) == 0:
            return {"advertiser_id": advertiser_id, "entity": entity, "time": time_key, "sums": {}}
        tmin = int(time_key.min())
        span = int(time_key.max()) - tmin + 1
        key = entity * span + (time_key - tmin)
        uniq, inverse = np.unique(key, return_inverse=True)
        sums = {name: np.rint(np.bincount(inverse, weights=col, minlength=len(uniq))) for name, col in values.items()}
        return {"advertiser_id": advertiser_id, "entity": uniq // span, "time": uniq % span + tmin, "sums": sums}

    def run(self, q: ReportQuery, now: dt.datetime) -> tuple[int, list[dict[str, Any]]]:
        """Total row count and the rows of the requested page."""
        allowed = self._allowed_ads(q)
        groups = [self._advertiser_groups(q, a, now, allowed) for a in q.advertiser_ids]
        total = sum(len(g["entity"]) for g in groups)
        start = (q.page - 1) * q.page_size
        stop = min(start + q.page_size, total)
        out: list[dict[str, Any]] = []
        offset = 0
        for g in groups:
            n = len(g["entity"])
            lo, hi = max(start - offset, 0), min(stop - offset, n)
            for i in range(lo, hi):
                out.append(self._format_row(q, g, i))
            offset += n
            if offset >= stop:
                break
        return total, out

    def _format_row(self, q: ReportQuery, g: dict[str, Any], i: int) -> dict[str, Any]:
        advertiser_id = g["advertiser_id"]
        adv = self.advertisers[advertiser_id]
        ent = int(g["entity"][i])
        t = int(g["time"][i])
        record = None if q.level == "advertiser" else self.entities[q.level][ent]
        dims: dict[str, str] = {}
        for d in q.dimensions:
            if d == "stat_time_day":
                dims[d] = (EPOCH + dt.timedelta(days=t)).isoformat() + " 00:00:00"
            elif d == "stat_time_hour":
                dims[d] = f"{(EPOCH + dt.timedelta(days=t // 24)).isoformat()} {t % 24:02d}:00:00"
            elif d == "advertiser_id":
                dims[d] = advertiser_id
            else:
                assert record is not None  # an entity's id dimension: below the advertiser level
                dims[d] = record[d]
        sums = {name: float(col[i]) for name, col in g["sums"].items()}
        metrics: dict[str, Any] = {}
        for m in q.metrics:
            spec = METRICS.get(m)
            if spec is not None:
                metrics[m] = spec[1](sums)
            else:
                metrics[m] = self._attribute(m, q.level, record, adv)
        if q.multi_advertiser:
            metrics.setdefault("advertiser_id", advertiser_id)
            metrics.setdefault("currency", adv["currency"])
            metrics.setdefault("timezone", adv["timezone"])
        return {"dimensions": dims, "metrics": metrics}

    def _attribute(self, name: str, level: str, record: dict | None, adv: dict) -> Any:
        if name == "currency":
            return adv["currency"]
        if name == "advertiser_name":
            return adv["name"]
        if name == "advertiser_id":
            return adv["advertiser_id"]
        if name == "timezone":
            return adv["timezone"]
        assert record is not None
        if name in ("campaign_name", "objective_type") and level != "campaign":
            camp = self.entities["campaign"][self.index["campaign"][record["campaign_id"]]]
            return camp[name]
        if name in ("adgroup_name", "promotion_type", "placement_type", "optimization_event") and level == "ad":
            group = self.entities["adgroup"][self.index["adgroup"][record["adgroup_id"]]]
            return group[name]
        return record[name]
