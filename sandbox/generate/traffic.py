"""Ad-days (when each ad was live, its weight) and the clicks on the Signal links."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sandbox.world import CLICKS

from .arrays import (
    _b64url_body,
    _gather_rows,
    _hex_body,
    _ipv4_strings,
    _random_bytes,
    _rng,
    _row_bytes,
    _sorted_order,
    _strings_fixed,
    _take_pool,
    _ts,
    _with_prefix,
)
from .base import CHUNK_ROWS, GeneratorBase
from .shape import DAY, HOUR, N_IOS_UA, PUBLIC_FIRST_OCTETS, SECOND, USER_AGENTS


class TrafficStage(GeneratorBase):
    def _ad_days(self) -> None:
        """One row per ad x local day on which it existed, with its effective UTC interval."""
        rng = _rng(self.seed, "ad_days")
        ad_k, day_k, d_start, d_end, e_start, e_end, epoch_day, active_days = [], [], [], [], [], [], [], []
        for k, ad in enumerate(self.ads):
            a = self.adv[ad["adv"]]
            mids = a["mids"]
            first_k = max(0, int(np.searchsorted(mids, ad["created"], side="right")) - 1)
            gone = ad["deleted"] if ad["deleted"] is not None else self.horizon_end_us
            last_k = min(a["ndays"] - 1, int(np.searchsorted(mids, gone - 1, side="right")) - 1)
            ks = np.arange(first_k, last_k + 1)
            if len(ks) == 0:
                continue
            ds, de = mids[ks], mids[ks + 1]
            es = np.maximum(ds, ad["created"])
            ee = np.minimum(de, gone)
            act = ee > es
            if ad["paused"] is not None:
                act &= ds < ad["paused"]
                ee = np.where(de > ad["paused"], np.minimum(ee, ad["paused"]), ee)
            ad_k.append(np.full(len(ks), k))
            day_k.append(ks)
            d_start.append(ds)
            d_end.append(de)
            e_start.append(es)
            e_end.append(np.maximum(ee, es))
            epoch_day.append(np.full(len(ks), (a["first"] - dt.date(1970, 1, 1)).days) + ks)
            active_days.append(act)
        self.ad_k = np.concatenate(ad_k)
        self.ad_day_k = np.concatenate(day_k)
        self.ad_e_start = np.concatenate(e_start)
        self.ad_e_end = np.concatenate(e_end)
        self.ad_epoch_day = np.concatenate(epoch_day)
        active = np.concatenate(active_days)
        n = len(self.ad_k)
        # random zero-activity days (existing ads, nothing delivered), ~3% + paused days
        zero = rng.random(n) < 0.03
        zero &= self.ad_e_end - self.ad_e_start > 6 * HOUR
        planted = np.array([ad["role"] == "deleted_late_installs" for ad in self.ads])
        zero &= ~planted[self.ad_k]  # keep the planted deleted ad's last day live
        self.ad_active = active & ~zero
        # weights: ad quality x weekday x trend x noise x share of the day the ad was live
        n_ads = len(self.ads)
        quality = rng.lognormal(0.0, 0.5, n_ads)
        weekday = (self.ad_epoch_day + 3) % 7  # 0 = Monday
        wd_factor = np.where(weekday >= 5, 1.15, 1.0)
        trend = 1.0 + 0.01 * self.ad_day_k
        frac = (self.ad_e_end - self.ad_e_start) / DAY
        self.ad_weight = quality[self.ad_k] * wd_factor * trend * rng.lognormal(0, 0.25, n) * frac * self.ad_active
        self.ad_is_fallback = np.array([self.ads[k]["role"] == "fallback" for k in range(n_ads)])[self.ad_k]
        self.ad_ctr = rng.uniform(0.006, 0.02, n_ads)
        self.ad_cpm_usd = rng.uniform(4.0, 12.0, n_ads)
        self.ad_conv = np.clip(0.25 * rng.lognormal(0, 0.3, n_ads), 0.06, 0.6)

    # ----------------------------------------------------------------------------------------
    def _clicks(self) -> None:
        rng = _rng(self.seed, "clicks")
        # sizing: ~10 events per install, ~72% of installs attributed, ~25% of clicks install
        n_installs_target = self.n_events * 0.99 / 10.0
        n_clicks = max(50, round(n_installs_target * 0.72 / float(np.mean(self.ad_conv))))
        w = np.where(self.ad_is_fallback, 0.0, self.ad_weight)
        counts = rng.multinomial(n_clicks, w / w.sum())
        # planted: the deleted ad's last day has clicks whose installs land after its deletion
        late_k = next(k for k, ad in enumerate(self.ads) if ad["role"] == "deleted_late_installs")
        rows = np.flatnonzero((self.ad_k == late_k) & self.ad_active)
        self.late_ad_last_row = int(rows[-1])
        counts[self.late_ad_last_row] = max(counts[self.late_ad_last_row], 6)
        self.ad_as_clicks = counts
        n = int(counts.sum())
        row = np.repeat(np.arange(len(counts)), counts)
        # local hour profile: quiet at night, peak in the evening
        hourly = np.array([2, 1, 1, 1, 1, 2, 3, 4, 5, 5, 5, 5, 6, 6, 6, 6, 6, 7, 8, 9, 10, 10, 8, 4], dtype=float)
        hour = rng.choice(24, size=n, p=hourly / hourly.sum())
        frac = (hour + rng.random(n)) / 24.0
        span = self.ad_e_end[row] - self.ad_e_start[row]
        clicked = self.ad_e_start[row] + (frac * span).astype(np.int64)
        clicked = np.minimum(clicked, self.ad_e_end[row] - 1)
        ad_k = self.ad_k[row]
        is_ios = np.array([ad["os"] == "IOS" for ad in self.ads])[ad_k]
        ua = np.where(is_ios, rng.integers(0, N_IOS_UA, n), rng.integers(N_IOS_UA, len(USER_AGENTS), n))
        octets = rng.integers(1, 255, size=(n, 4), dtype=np.uint8)
        octets[:, 0] = PUBLIC_FIRST_OCTETS[rng.integers(0, len(PUBLIC_FIRST_OCTETS), n)]
        raw_id = _random_bytes(rng, n, 10)
        updated = clicked + rng.integers(1 * SECOND, 8 * SECOND, n)
        order = _sorted_order(updated, _row_bytes(b"", raw_id))
        row, clicked, updated, ad_k, is_ios, ua, octets, raw_id = (
            _gather_rows(x, order) if x.ndim == 2 else x[order]
            for x in (row, clicked, updated, ad_k, is_ios, ua, octets, raw_id)
        )
        self.c_row, self.c_at, self.c_ad, self.c_ios, self.c_ua, self.c_oct = row, clicked, ad_k, is_ios, ua, octets
        self.n_clicks = n
        ttclid = _with_prefix("E.C.P.", _b64url_body(rng, n, 40))
        self.c_raw = raw_id
        pools = {key: [ad[key] for ad in self.ads] for key in ("link_id", "campaign_id", "adgroup_id", "ad_id")}

        def batch(s: int) -> pa.RecordBatch:  # the table in slices: its strings never all in memory
            e = min(n, s + CHUNK_ROWS)
            k = ad_k[s:e]
            return pa.RecordBatch.from_arrays(
                [
                    _strings_fixed(_with_prefix("clk_", _hex_body(raw_id[s:e]))),
                    _take_pool(pools["link_id"], k),
                    _ts(clicked[s:e]),
                    _strings_fixed(ttclid[s:e]),
                    _take_pool(pools["campaign_id"], k),
                    _take_pool(pools["adgroup_id"], k),
                    _take_pool(pools["ad_id"], k),
                    _take_pool(["TikTok"], np.zeros(e - s, dtype=np.int32)),
                    _ipv4_strings(octets[s:e]),
                    _take_pool(USER_AGENTS, ua[s:e]),
                    pc.if_else(pa.array(is_ios[s:e]), "ios", "android"),
                    _ts(updated[s:e]),
                ],
                schema=CLICKS,
            )

        self.sink.put_batches("clicks", CLICKS, (batch(s) for s in range(0, max(n, 1), CHUNK_ROWS)))
