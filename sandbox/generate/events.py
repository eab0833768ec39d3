"""In-app events of the installs: times, revenue, sources, hostile rows, duplicate deliveries."""

from __future__ import annotations

import concurrent.futures
import itertools
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sandbox.world import EVENTS

from .arrays import (
    _gather_rows,
    _hex_body,
    _install_event_hex,
    _money,
    _pick,
    _random_bytes,
    _rng,
    _sorted_order,
    _strings_fixed,
    _take_pool,
    _ts,
    _with_prefix,
)
from .base import CHUNK_ROWS, GeneratorBase
from .shape import (
    BAD_CURRENCIES,
    BAD_TIMESTAMPS,
    COUNTRY_CURRENCY,
    CURRENCIES,
    CUSTOM_NAMES,
    DAY,
    ENVIRONMENTS,
    ET,
    EVENT_TYPES,
    FX_TO_USD,
    HOSTILE_KINDS,
    HOUR,
    MINUTE,
    PARAM_TEMPLATES,
    POST_INSTALL_P,
    PURCHASE_P,
    PURCHASE_PRICES,
    SECOND,
    SOURCES,
    SUBSCRIBE_P,
    SUBSCRIBE_PRICES,
    TOO_LARGE_PARAMETERS,
    USER_AGENTS,
)

INSTALLS_PER_CHUNK = 200_000  # ~2M events: a cohort's arrays and strings stay well under 2 GB


class EventsStage(GeneratorBase):
    def _events(self) -> None:
        """Every install's events, by cohorts of :data:`INSTALLS_PER_CHUNK` installs handed to the
        sink one at a time (each sorted by updated_at): memory holds one cohort's events. A world
        with fewer installs is one cohort drawn from the stage's own stream; a larger one draws
        each cohort from a stream of its own, so the world depends on the seed and the preset only."""
        rng = _rng(self.seed, "events")
        n_i = self.i_n
        n_dup = round(0.01 * self.n_events)
        n_unique = self.n_events - n_dup
        n_post = n_unique - n_i
        if n_post < 0:
            raise ValueError(f"events={self.n_events} is too small for {n_i} installs")
        age = (self.horizon_end_us - self.i_at) / DAY
        weight = rng.lognormal(0.0, 1.0, n_i) * (age + 0.5) ** 0.7
        per_install = rng.multinomial(n_post, weight / weight.sum())
        del age, weight
        attr = self.i_attr_final  # TikTok's view: the ad-day row of each attributed install's click
        self.i_ad_day_row = np.full(n_i, -1)
        self.i_ad_day_row[attr] = self.c_row[self.i_click[attr]]
        self.e_sums = {}
        bounds = [*range(0, n_i, INSTALLS_PER_CHUNK), n_i]
        if len(bounds) == 2:
            self._event_chunk(rng, 0, n_i, per_install, n_dup, 300)
            return
        unique_upto = np.r_[0, np.cumsum(per_install)][bounds] + np.array(bounds)  # unique events before
        dups = np.round(n_dup * unique_upto / n_unique).astype(np.int64)
        for k, (a, b) in enumerate(itertools.pairwise(bounds)):
            cap = -(-300 // (len(bounds) - 1))
            self._event_chunk(_rng(self.seed, f"events.{k}"), a, b, per_install, int(dups[k + 1] - dups[k]), cap)

    def _note(self, **counts: int) -> None:
        for key, value in counts.items():
            self.notes[key] = self.notes.get(key, 0) + value

    def _event_chunk(
        self, rng: np.random.Generator, first: int, stop: int, per_install: np.ndarray, n_dup: int, too_large_cap: int
    ) -> None:
        """The events of installs [first, stop) (indexes into the install arrays), to the sink."""
        n_i = stop - first
        n_post = int(per_install[first:stop].sum())
        end = self.horizon_end_us
        idx_dtype = np.int32 if self.i_n < 2**31 else np.int64
        cohort = np.arange(first, stop, dtype=idx_dtype)
        inst = np.concatenate([cohort, np.repeat(cohort, per_install[first:stop])])
        del cohort
        n = len(inst)
        etype = np.zeros(n, dtype=np.int8)
        etype[n_i:] = rng.choice(len(EVENT_TYPES), size=n_post, p=POST_INSTALL_P).astype(np.int8)
        is_install = np.zeros(n, dtype=bool)
        is_install[:n_i] = True
        # occurred_at: install time for `install`; later events: truncated exponential (mean 3 days)
        inst_at = self.i_at[inst]
        span = (end - 2 * SECOND - inst_at[n_i:]).astype(np.float64)
        mean = 3.0 * DAY
        offset = rng.random(n_post)
        offset *= -np.expm1(-span / mean)
        offset = -mean * np.log1p(-offset)
        occurred = inst_at.copy()
        occurred[n_i:] += np.maximum(offset.astype(np.int64), SECOND)
        del offset, span
        # planted: events within +-10 minutes of the advertiser's local midnight
        attr_final = self.i_attr_final[inst]
        cand = np.flatnonzero(~is_install & attr_final & (occurred < end - 2 * DAY))
        near = _pick(rng, cand, 0.004, 10)
        del cand
        for i, a in enumerate(self.adv):
            sel = near[self.i_adv[inst[near]] == i]
            mids = a["mids"]
            nxt = mids[np.minimum(np.searchsorted(mids, occurred[sel], side="right"), len(mids) - 1)]
            moved = nxt + rng.integers(-10 * MINUTE, 10 * MINUTE, len(sel))
            occurred[sel] = np.clip(moved, inst_at[sel] + SECOND, end - 2 * SECOND)
        # received_at: usually seconds; sometimes minutes-hours; sometimes days (offline queue)
        cls = np.searchsorted(np.array([0.90, 0.97]), rng.random(n), side="right")
        lo = np.array([SECOND // 2, MINUTE, 6 * HOUR])[cls]
        hi = np.array([30 * SECOND, 6 * HOUR, 4 * DAY])[cls]
        delay = lo + (rng.random(n) * (hi - lo)).astype(np.int64)
        del cls, lo, hi
        delay[:n_i] = self.i_first_upd[first:stop] - self.i_at[first:stop]  # the install event arrives with the install
        received = np.minimum(occurred + delay, end - SECOND)
        np.maximum(received, occurred, out=received)
        del delay
        # who sent it, in which environment
        money_like = np.zeros(len(EVENT_TYPES), dtype=bool)
        money_like[[ET["purchase"], ET["subscribe"], ET["start_trial"], ET["custom"]]] = True
        money_like = money_like[etype]
        source = np.zeros(n, dtype=np.int8)
        source[money_like] = rng.choice(3, size=int(money_like.sum()), p=[0.3, 0.5, 0.2])
        env = self.i_sandbox[inst].astype(np.int8)
        rc = np.flatnonzero(source == 1)
        env[rc[rng.random(len(rc)) < 0.02]] = 1
        # revenue
        cur = COUNTRY_CURRENCY[self.i_country[inst]]
        rev = np.zeros(n, dtype=np.int64)  # hundredths of the currency unit
        is_p = np.flatnonzero(etype == ET["purchase"])
        is_s = np.flatnonzero(etype == ET["subscribe"])
        is_t = np.flatnonzero(etype == ET["start_trial"])
        rev[is_p] = PURCHASE_PRICES[cur[is_p], rng.choice(6, size=len(is_p), p=PURCHASE_P)]
        rev[is_s] = SUBSCRIBE_PRICES[cur[is_s], rng.choice(4, size=len(is_s), p=SUBSCRIBE_P)]
        has_rev = np.zeros(n, dtype=bool)
        has_rev[is_p] = True
        has_rev[is_s] = True
        has_rev[is_t[rng.random(len(is_t)) < 0.5]] = True  # some trials carry a 0 revenue
        # custom event names by source
        name_pool = [nm for grp in CUSTOM_NAMES for nm in grp]
        starts = np.cumsum([0] + [len(g) for g in CUSTOM_NAMES])[:-1]
        sizes = np.array([len(g) for g in CUSTOM_NAMES])
        is_c = np.flatnonzero(etype == ET["custom"])
        name_idx = np.zeros(n, dtype=np.int16)
        name_idx[is_c] = starts[source[is_c]] + (rng.random(len(is_c)) * sizes[source[is_c]]).astype(np.int16)
        # parameters: one of 99 variants of the event type's template
        param_idx = etype.astype(np.int16) * 99 + rng.integers(0, 99, n).astype(np.int16)
        # hostile rows (invalid_reason), disjoint, on production events of attributed installs
        hostile = np.zeros(n, dtype=np.int8)  # 0 = valid, 1.. = HOSTILE_KINDS index + 1
        base_cand = ~is_install & (env == 0) & attr_final
        rev_cand = np.zeros(n, dtype=bool)
        rev_cand[is_p] = True
        rev_cand[is_s] = True
        rev_cand &= base_cand
        for h, (kind, rate, cands, cap) in enumerate(
            (
                ("bad_timestamp", 0.001, base_cand, None),
                ("bad_currency", 0.0008, rev_cand, None),
                ("negative_revenue", 0.0008, rev_cand, None),
                ("event_too_large", 0.0004, base_cand, too_large_cap),
            )
        ):
            c = np.flatnonzero(cands & (hostile == 0))
            sel = _pick(rng, c, rate, 3, cap)
            hostile[sel] = h + 1
            self._note(**{f"hostile_{kind}": len(sel)})
        del base_cand, rev_cand, attr_final
        neg = hostile == 3
        rev[neg] = -rev[neg]
        bad_ts = np.flatnonzero(hostile == 1)
        bad_ts_idx = rng.integers(0, len(BAD_TIMESTAMPS), len(bad_ts))
        bad_cur = np.flatnonzero(hostile == 2)
        cur_idx = cur.astype(np.int16)  # currency column: CURRENCIES + BAD_CURRENCIES pool
        cur_idx[bad_cur] = len(CURRENCIES) + rng.integers(0, len(BAD_CURRENCIES), len(bad_cur))
        cur_valid = has_rev.copy()
        cur_valid[bad_cur] = True

        # TikTok's view needs the valid, unique, production events per click day (before dups)
        self._add_event_sums(inst, etype, env, hostile, rev, has_rev, cur)

        # duplicates: identical content, later updated_at
        dup_cand = np.flatnonzero((hostile != 4) & (received < end - HOUR))
        dup_src = np.sort(rng.choice(dup_cand, size=min(n_dup, len(dup_cand)), replace=False))
        del dup_cand
        dup_upd = received[dup_src] + np.minimum(
            rng.integers(MINUTE, 2 * DAY, len(dup_src)), end - received[dup_src] - SECOND
        )
        src = np.concatenate([np.arange(n, dtype=idx_dtype), dup_src.astype(idx_dtype)])
        updated = np.concatenate([received, dup_upd])
        ev_raw = _random_bytes(rng, n, 16)
        i_raw = self.i_raw

        def id_keys(rows: np.ndarray) -> list[bytes]:  # "ev_" sorts before "inst_"
            return [
                (b"i" + bytes(i_raw[inst[src[r]]])) if etype[src[r]] == 0 else (b"e" + bytes(ev_raw[src[r]]))
                for r in rows
            ]

        self._lap("events.numeric")
        order = _sorted_order(updated, id_keys)
        src = src[order]
        updated = updated[order]
        del order
        self._note(
            events=len(src),
            unique_events=int(n),
            install_events=int(n_i),
            duplicate_deliveries=len(dup_src),
            near_midnight_events=len(near),
            late_received_events_6h=int((received - occurred > 6 * HOUR).sum()),
            events_after_anchor=int((updated > self.anchor_us).sum()),
            sandbox_events=int((env == 1).sum()),
            revenue_events_without_fx_rate=int((has_rev & (cur == CURRENCIES.index("BRL"))).sum()),
        )
        self._lap("events.sort")
        # per-install strings the events copy
        cu_kind = rng.choice(3, size=n_i, p=[0.15, 0.75, 0.10])  # none / plain / already SHA-256
        cu_plain = _strings_fixed(_with_prefix("user_", _hex_body(_random_bytes(rng, n_i, 6))))
        cu_hash = _strings_fixed(_hex_body(_random_bytes(rng, n_i, 32)))
        cu = pc.if_else(pa.array(cu_kind == 2), cu_hash, cu_plain)
        cu = pc.if_else(pa.array(cu_kind == 0), pa.scalar(None, pa.string()), cu)
        self._note(hashed_customer_user_id_installs=int((cu_kind == 2).sum()))
        inst_id_mat = _with_prefix("inst_", _install_event_hex(i_raw[first:stop]))  # (n_i, 35)
        param_pool = pa.array([f"{p}{k}{q}" for p, q in PARAM_TEMPLATES for k in range(1, 100)], pa.string())
        cur_pool = list(CURRENCIES) + list(BAD_CURRENCIES)
        raw_ts = np.zeros(n, dtype=np.int8)
        raw_ts[bad_ts] = bad_ts_idx
        ev_prefix = np.frombuffer(b"ev_", dtype=np.uint8)

        # materialise in chunks (strings stay below pyarrow's 2 GiB per array); two threads: the
        # heavy steps (pyarrow kernels, numpy copies) release the GIL. Output is the same either way.
        def make_batch(s: int) -> pa.RecordBatch:
            e = min(len(src), s + CHUNK_ROWS)
            sr = src[s:e]
            it = etype[sr]
            ins = inst[sr]
            ins_pa = pa.array(ins)
            h = hostile[sr]
            # event_id: "ev_" + 32 hex, or for the install event "inst_" + 30 hex derived from the install
            idmat = np.empty((e - s, 35), dtype=np.uint8)
            idmat[:, :3] = ev_prefix
            idmat[:, 3:] = _hex_body(_gather_rows(ev_raw, sr))  # ev_raw: 16 random bytes per unique event
            irows = np.flatnonzero(it == 0)
            idmat[irows] = _gather_rows(inst_id_mat, ins[irows] - first)
            has_r = has_rev[sr]
            params = _take_pool(param_pool, param_idx[sr])
            big = h == 4
            if big.any():
                params = pc.replace_with_mask(
                    params, pa.array(big), pa.array([TOO_LARGE_PARAMETERS] * int(big.sum()), pa.string())
                )
            return pa.RecordBatch.from_arrays(
                [
                    _strings_fixed(idmat),
                    pc.take(self.i_ids, ins_pa),
                    _take_pool(EVENT_TYPES, it),
                    _take_pool(name_pool, name_idx[sr], it == ET["custom"]),
                    _ts(occurred[sr]),
                    _take_pool(BAD_TIMESTAMPS, raw_ts[sr], h == 1),
                    _ts(received[sr]),
                    _money(rev[sr] * 10_000, has_r),
                    _take_pool(cur_pool, cur_idx[sr], cur_valid[sr]),
                    _take_pool(SOURCES, source[sr]),
                    _take_pool(ENVIRONMENTS, env[sr]),
                    pc.take(self.i_ip, ins_pa),
                    _take_pool(USER_AGENTS, self.i_ua_idx[ins], self.i_ua_valid[ins]),
                    pc.take(cu, pa.array(ins - first)),
                    params,
                    _ts(updated[s:e]),
                    _take_pool(HOSTILE_KINDS, np.maximum(h - 1, 0), h > 0),
                ],
                schema=EVENTS,
            )

        chunk_starts = list(range(0, len(src), CHUNK_ROWS))
        if len(chunk_starts) > 1:
            with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
                batches = list(pool.map(make_batch, chunk_starts))
        else:
            batches = [make_batch(s) for s in chunk_starts]
        self._lap("events.materialise")
        table = pa.Table.from_batches(batches, schema=EVENTS)
        del batches
        if len(dup_src) and "example_duplicate_event_ids" not in self.notes:
            pos = np.flatnonzero(np.isin(src, dup_src[:3]))
            self.notes["example_duplicate_event_ids"] = sorted({table.column("event_id")[int(p)].as_py() for p in pos})
        elif stop == self.i_n:
            self.notes.setdefault("example_duplicate_event_ids", [])
        self.sink.put_events(table)

    def _add_event_sums(self, inst, etype, env, hostile, rev, has_rev, cur) -> None:
        """Adds a cohort's valid, unique, production events to TikTok's view of them: counts and
        revenue (converted into the advertiser currency, hundredths) per ad-day of the click."""
        n = len(self.ad_k)
        ev_row = self.i_ad_day_row[inst]
        ok = (ev_row >= 0) & (env == 0) & (hostile == 0)
        adv_of_ad = np.array([ad["adv"] for ad in self.ads])
        rate = np.array([FX_TO_USD.get(c, np.nan) for c in CURRENCIES])
        ev_adv = adv_of_ad[self.ad_k[np.maximum(ev_row, 0)]]
        adv_rate = np.array([FX_TO_USD[a["currency"]] for a in self.adv])

        def count(types: Sequence[str]) -> np.ndarray:
            lut = np.zeros(len(EVENT_TYPES), dtype=bool)
            lut[[ET[t] for t in types]] = True
            return np.bincount(ev_row[ok & lut[etype]], minlength=n)

        def value(t: str) -> np.ndarray:
            m = ok & (etype == ET[t]) & has_rev & ~np.isnan(rate[cur])
            return np.bincount(ev_row[m], weights=rev[m] * rate[cur[m]] / adv_rate[ev_adv[m]], minlength=n)

        sums = {
            "purchases": count(["purchase"]),
            "purchase_value": value("purchase"),
            "subs": count(["subscribe"]),
            "sub_value": value("subscribe"),
            "trials": count(["start_trial"]),
            "regs": count(["sign_up", "register"]),
            "views": count(["session_start", "view_content", "view_item"]),
        }
        for key, total in sums.items():
            self.e_sums[key] = self.e_sums[key] + total if key in self.e_sums else total
