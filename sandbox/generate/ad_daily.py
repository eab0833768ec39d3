"""TikTok's daily report per ad x local day, consistent with the AppSprint side."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sandbox.world import AD_DAILY

from .arrays import _date32, _money, _rng, _take_pool
from .base import GeneratorBase
from .shape import FX_TO_USD


class AdDailyStage(GeneratorBase):
    def _ad_daily(self) -> None:
        rng = _rng(self.seed, "ad_daily")
        n = len(self.ad_k)
        adv_of_ad = np.array([ad["adv"] for ad in self.ads])
        adv_cur = [a["currency"] for a in self.adv]
        # AppSprint side aggregated per ad-day of the click (TikTok credits the engagement day)
        attr = self.i_attr_final
        att_inst = np.bincount(self.i_ad_day_row[attr], minlength=n)

        def noisy(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
            return np.round(x * rng.uniform(lo, hi, len(x))).astype(np.int64)

        sums = self.e_sums  # the events' side, added up cohort by cohort (EventsStage)
        purchases, purchase_value, subs, sub_value = (
            sums["purchases"],
            sums["purchase_value"],
            sums["subs"],
            sums["sub_value"],
        )
        trials, regs, views = sums["trials"], sums["regs"], sums["views"]
        download = noisy(att_inst, 0.7, 1.2)
        f_pay = rng.uniform(0.85, 1.1, n)
        f_sub = rng.uniform(0.85, 1.1, n)
        complete_payment = np.round(purchases * f_pay).astype(np.int64)
        payment_value = np.round(purchase_value * f_pay).astype(np.int64)  # hundredths
        on_web_subscribe = np.round(subs * f_sub).astype(np.int64)
        subscribe_value = np.round(sub_value * f_sub).astype(np.int64)
        start_trial = noisy(trials, 0.8, 1.1)
        registration = noisy(regs, 0.8, 1.1)
        page_views = noisy(views, 0.6, 1.0)
        # TikTok clicks: AppSprint's + a few more; fallback ads have their own traffic
        as_clicks = self.ad_as_clicks
        tt_clicks = as_clicks + rng.poisson(as_clicks * 0.05 + 0.3)
        fb = self.ad_is_fallback & self.ad_active
        typical = (
            float(as_clicks[~self.ad_is_fallback & self.ad_active].mean())
            if (~self.ad_is_fallback & self.ad_active).any()
            else 5.0
        )
        tt_clicks[fb] = rng.poisson(
            typical * self.ad_weight[fb] / max(float(np.mean(self.ad_weight[self.ad_active])), 1e-9)
        )
        fb_dl = rng.binomial(tt_clicks[fb], 0.22)
        download[fb] = fb_dl
        fb_pay = rng.binomial(fb_dl, 0.12)
        complete_payment[fb] = fb_pay
        adv_fx = np.array([1.0 / FX_TO_USD[c] for c in adv_cur])[adv_of_ad[self.ad_k[fb]]]
        payment_value[fb] = np.round(fb_pay * rng.uniform(4.0, 12.0, int(fb.sum())) * 100 * adv_fx).astype(np.int64)
        fb_sub = rng.binomial(fb_dl, 0.05)
        on_web_subscribe[fb] = fb_sub
        subscribe_value[fb] = np.round(fb_sub * 999 * adv_fx).astype(np.int64)
        start_trial[fb] = rng.binomial(fb_dl, 0.1)
        registration[fb] = rng.binomial(fb_dl, 0.3)
        page_views[fb] = rng.binomial(fb_dl, 0.9) * 3
        impressions = np.round(tt_clicks / self.ad_ctr[self.ad_k] * rng.uniform(0.9, 1.1, n)).astype(np.int64)
        impressions = np.maximum(impressions, rng.poisson(40, n))
        ad_fx = np.array([1.0 / FX_TO_USD[c] for c in adv_cur])[adv_of_ad[self.ad_k]]
        spend_milli = np.round(impressions * self.ad_cpm_usd[self.ad_k] * ad_fx).astype(np.int64)  # /1000 * 1000
        # zero-activity ad-days: everything zero
        z = ~self.ad_active
        for arr in (tt_clicks, impressions, spend_milli):
            arr[z] = 0
        opt_col = {
            "Purchase": complete_payment,
            "Subscribe": on_web_subscribe,
            "StartTrial": start_trial,
            "CompleteRegistration": registration,
        }
        conversion = np.zeros(n, dtype=np.int64)
        opt_of_ad = np.array([ad["opt"] for ad in self.ads])[self.ad_k]
        for name, col in opt_col.items():
            conversion = np.where(opt_of_ad == name, col, conversion)
        assert (tt_clicks >= as_clicks).all()
        order = np.lexsort((self.ad_k, self.ad_epoch_day))  # by day, then ad
        ad_ids = [ad["ad_id"] for ad in self.ads]
        adv_ids = [a["id"] for a in self.adv]
        cols = [
            _take_pool(adv_ids, adv_of_ad[self.ad_k]),
            _take_pool(ad_ids, self.ad_k),
            _date32(self.ad_epoch_day),
            _money(spend_milli * 1000),
            pa.array(impressions),
            pa.array(tt_clicks),
            pa.array(conversion),
            pa.array(conversion),
            pa.array(download),
            pa.array(complete_payment),
            _money(payment_value * 10_000),
            pa.array(on_web_subscribe),
            _money(subscribe_value * 10_000),
            pa.array(start_trial),
            pa.array(registration),
            pa.array(page_views),
        ]
        self.t_ad_daily = pa.Table.from_arrays(cols, schema=AD_DAILY).take(pa.array(order))
        self.notes.update(
            ad_days=int(n),
            zero_activity_ad_days=int(z.sum()),
            appsprint_clicks=int(as_clicks.sum()),
            tiktok_clicks=int(tt_clicks.sum()),
            late_installs_after_deletion=int(self._installs_after_deletion()),
        )

    def _installs_after_deletion(self) -> int:
        """Attributed installs of deleted ads that happen on a local day after the deletion day."""
        total = 0
        attr = np.flatnonzero(self.i_attr_final)
        ad_of = self.c_ad[self.i_click[attr]]
        for k, ad in enumerate(self.ads):
            if ad["deleted"] is None:
                continue
            mids = self.adv[ad["adv"]]["mids"]
            del_day_end = mids[np.searchsorted(mids, ad["deleted"], side="right")]
            total += int(((ad_of == k) & (self.i_at[attr] >= del_day_end)).sum())
        return total
