"""Installs: attributed (from a click) and organic, late attributions, hostile SDK traits."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sandbox.world import INSTALLS

from .arrays import (
    _gather_rows,
    _hex_body,
    _ipv4_strings,
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
    ADV_COUNTRY_P,
    APP_VERSION_P,
    APP_VERSIONS,
    COUNTRIES,
    DAY,
    HOUR,
    MINUTE,
    N_IOS_UA,
    ORGANIC_COUNTRY_P,
    PUBLIC_FIRST_OCTETS,
    SECOND,
    USER_AGENTS,
)


class InstallsStage(GeneratorBase):
    def _installs(self) -> None:
        rng = _rng(self.seed, "installs")
        n_c = self.n_clicks
        conv = rng.random(n_c) < self.ad_conv[self.c_ad]
        delay = np.exp(rng.normal(np.log(25 * 60), 1.1, n_c)) * SECOND
        delay = np.clip(delay, 30 * SECOND, 36 * HOUR).astype(np.int64)
        # planted: the deleted ad's last-day clicks all install after the next local midnight
        forced = self.c_row == self.late_ad_last_row
        conv |= forced
        a_late = self.adv[self.ads[self.c_ad[forced][0]]["adv"]] if forced.any() else None
        if a_late is not None:
            mids = a_late["mids"]
            nxt = mids[np.searchsorted(mids, self.c_at[forced], side="right")]
            delay[forced] = nxt - self.c_at[forced] + rng.integers(1 * HOUR, 20 * HOUR, int(forced.sum()))
        inst_at = self.c_at + delay
        keep = conv & (inst_at + 30 * SECOND < self.horizon_end_us)
        a_click = np.flatnonzero(keep)  # click index of each attributed-by-click install
        n_a = len(a_click)
        a_at = inst_at[a_click]
        # organic installs (no click): ~28% of all installs
        n_o = round(n_a * 0.39)
        o_at = rng.integers(self.window_start_us, self.horizon_end_us - 60 * SECOND, n_o)
        n = n_a + n_o
        click = np.concatenate([a_click, np.full(n_o, -1)])
        at = np.concatenate([a_at, o_at])
        from_click = click >= 0
        adv_of = np.full(n, -1)
        adv_of[:n_a] = np.array([ad["adv"] for ad in self.ads])[self.c_ad[a_click]]
        # platform, country, app version
        ios = np.empty(n, dtype=bool)
        ios[:n_a] = self.c_ios[a_click]
        ios[n_a:] = rng.random(n_o) < 0.55
        country = np.empty(n, dtype=np.int8)
        for i in range(len(self.adv)):
            m = adv_of == i
            keys = list(ADV_COUNTRY_P[i])
            country[m] = np.array([COUNTRIES.index(c) for c in keys])[
                rng.choice(len(keys), size=int(m.sum()), p=list(ADV_COUNTRY_P[i].values()))
            ]
        m = adv_of < 0
        keys = list(ORGANIC_COUNTRY_P)
        probs = np.array(list(ORGANIC_COUNTRY_P.values()))
        country[m] = np.array([COUNTRIES.index(c) for c in keys])[
            rng.choice(len(keys), size=int(m.sum()), p=probs / probs.sum())
        ]
        version = rng.choice(len(APP_VERSIONS), size=n, p=APP_VERSION_P)
        # SDK traits: ip + user agent (attributed: usually the click's)
        octets = rng.integers(1, 255, size=(n, 4), dtype=np.uint8)
        octets[:, 0] = PUBLIC_FIRST_OCTETS[rng.integers(0, len(PUBLIC_FIRST_OCTETS), n)]
        same_ip = np.zeros(n, dtype=bool)
        same_ip[:n_a] = rng.random(n_a) < 0.88
        octets[:n_a][same_ip[:n_a]] = _gather_rows(self.c_oct, a_click[same_ip[:n_a]])
        ua = np.where(ios, rng.integers(0, N_IOS_UA, n), rng.integers(N_IOS_UA, len(USER_AGENTS), n))
        same_ua = np.zeros(n, dtype=bool)
        same_ua[:n_a] = rng.random(n_a) < 0.97
        ua[:n_a][same_ua[:n_a]] = self.c_ua[a_click][same_ua[:n_a]]
        ip_valid = np.ones(n, dtype=bool)
        ua_valid = np.ones(n, dtype=bool)
        # planted: SDK requests without a real client IP / user agent (the doctor finds them)
        idx_all = np.arange(n)
        taken = np.zeros(n, dtype=bool)
        bad: dict[str, np.ndarray] = {}
        for kind, rate in (
            ("ip_missing", 0.01),
            ("ip_private_10", 0.004),
            ("ip_private_192", 0.003),
            ("ip_loopback", 0.004),
            ("user_agent_missing", 0.01),
        ):
            cand_a = idx_all[:n_a][~taken[:n_a]]
            cand_o = idx_all[n_a:][~taken[n_a:]]
            sel = np.concatenate([_pick(rng, cand_a, rate, 2), _pick(rng, cand_o, rate, 0)])
            taken[sel] = True
            bad[kind] = sel
        ip_valid[bad["ip_missing"]] = False
        octets[bad["ip_private_10"], 0] = 10
        octets[bad["ip_private_192"], 0] = 192
        octets[bad["ip_private_192"], 1] = 168
        octets[bad["ip_loopback"]] = np.array([127, 0, 0, 1], dtype=np.uint8)
        ua_valid[bad["user_agent_missing"]] = False
        clean = ip_valid & ua_valid & ~taken
        # attribution: match type + confidence
        ipua = from_click & same_ip & same_ua & clean & (rng.random(n) < 0.3)
        confidence = np.where(ipua, rng.uniform(0.6, 0.9, n), rng.uniform(0.9, 1.0, n)).round(3)
        # late attribution: first seen organic, a second (attributed) version later
        late = np.zeros(n, dtype=bool)
        resolved = np.zeros(n, dtype=np.int64)
        late_sel = _pick(rng, np.flatnonzero(from_click), 0.08, 3)
        late[late_sel] = True
        resolved[late_sel] = at[late_sel] + np.clip(
            np.exp(rng.normal(np.log(3 * 3600), 1.0, len(late_sel))) * SECOND, 10 * MINUTE, 48 * HOUR
        ).astype(np.int64)
        # planted: late attributions that resolve after the anchor (seen when the clock advances)
        recent = np.flatnonzero(from_click & ~late & (at >= self.anchor_us - DAY) & (at < self.anchor_us))
        after = _pick(rng, recent, 0.2, 3)
        late[after] = True
        resolved[after] = self.anchor_us + rng.integers(30 * MINUTE, 60 * HOUR, len(after))
        first_upd = at + rng.integers(1 * SECOND, 30 * SECOND, n)
        resolved = np.where(late, np.maximum(resolved, first_upd + SECOND), 0)
        never = late & (resolved >= self.horizon_end_us)  # resolves beyond the world: stays organic
        late &= ~never
        attributed_final = from_click & ~never
        self.i_n, self.i_n_a = n, n_a
        self.i_at, self.i_click, self.i_ios, self.i_country = at, click, ios, country
        self.i_attr_final = attributed_final
        self.i_adv = adv_of
        raw_id = _random_bytes(rng, n, 12)
        self.i_raw = raw_id
        hexid = _hex_body(raw_id)
        appsprint_id = _strings_fixed(_with_prefix("as_", hexid))
        self.i_ids = appsprint_id
        self.i_ip = _ipv4_strings(octets, ip_valid)
        self.i_ua_idx, self.i_ua_valid = ua.astype(np.int32), ua_valid
        self.i_sandbox = rng.random(n) < 0.02
        self.i_sandbox[np.flatnonzero(~clean)] = False  # keep the hostile traits on production rows

        # rows: version 1 for every install; version 2 for late-resolved ones
        v2 = np.flatnonzero(late)
        rows = np.concatenate([np.arange(n), v2])
        is_v2 = np.concatenate([np.zeros(n, dtype=bool), np.ones(len(v2), dtype=bool)])
        attributed_row = np.where(is_v2, True, from_click[rows] & ~late[rows] & ~never[rows])
        updated = np.where(is_v2, resolved[rows], first_upd[rows])
        superseded = np.where(~is_v2 & late[rows], resolved[rows], 0)
        order = _sorted_order(updated, lambda rr: [bytes(raw_id[rows[r]]) for r in rr])
        rows, is_v2, attributed_row, updated, superseded = (
            x[order] for x in (rows, is_v2, attributed_row, updated, superseded)
        )
        r_click = click[rows]
        cidx = np.where(attributed_row, r_click, 0)
        ad_of_click = self.c_ad[cidx] if n_c else np.zeros(len(rows), dtype=np.int64)
        match = np.where(~attributed_row, 2, np.where(ipua[rows], 1, 0))
        link_pool = [ad["link_id"] for ad in self.ads]

        def batch(s: int) -> pa.RecordBatch:  # the table in slices: its strings never all in memory
            e = min(len(rows), s + CHUNK_ROWS)
            r, att = rows[s:e], attributed_row[s:e]
            r_pa = pa.array(r.astype(np.int64))
            clicks = cidx[s:e]
            return pa.RecordBatch.from_arrays(
                [
                    pc.take(appsprint_id, r_pa),
                    _ts(at[r]),
                    pc.if_else(pa.array(ios[r]), "ios", "android"),
                    _take_pool(APP_VERSIONS, version[r]),
                    _take_pool(COUNTRIES, country[r]),
                    pc.take(self.i_ip, r_pa),
                    _take_pool(USER_AGENTS, ua[r], ua_valid[r]),
                    pc.if_else(pa.array(att), "attributed", "organic"),
                    pc.if_else(pa.array(att), pa.scalar("tiktok"), pa.scalar(None, pa.string())),
                    _take_pool(("ttclid", "ip_user_agent", "organic"), match[s:e]),
                    pa.array(confidence[r], mask=~att),
                    _take_pool(link_pool, ad_of_click[s:e], att),
                    _strings_fixed(_with_prefix("clk_", _hex_body(_gather_rows(self.c_raw, clicks))), att)
                    if n_c
                    else pa.nulls(e - s, pa.string()),
                    _ts(updated[s:e]),
                    _ts(superseded[s:e], superseded[s:e] > 0),
                ],
                schema=INSTALLS,
            )

        self.sink.put_batches("installs", INSTALLS, (batch(s) for s in range(0, max(len(rows), 1), CHUNK_ROWS)))
        self.i_first_upd = first_upd
        self.notes.update(
            installs=int(n),
            installs_from_clicks=int(n_a),
            organic_installs=int(n_o),
            late_attributions=len(v2),
            late_attributions_after_anchor=int((resolved[v2] > self.anchor_us).sum()),
            late_attribution_example_ids=[appsprint_id[int(k)].as_py() for k in after[:3]],
            never_attributed_from_clicks=int(never.sum()),
            installs_ip_missing=len(bad["ip_missing"]),
            installs_ip_private=int(len(bad["ip_private_10"]) + len(bad["ip_private_192"])),
            installs_ip_loopback=len(bad["ip_loopback"]),
            installs_user_agent_missing=len(bad["user_agent_missing"]),
            sandbox_installs=int(self.i_sandbox.sum()),
        )
        # installs of the planted deleted ad that arrive after its deletion day
        late_ad = self.ads[self.c_ad[self.c_row == self.late_ad_last_row][0]] if forced.any() else None
        if late_ad is not None:
            m = np.flatnonzero(from_click)[forced[click[from_click]]]
            self.notes["deleted_ad_late_install_ids"] = [appsprint_id[int(k)].as_py() for k in m[:5]]
