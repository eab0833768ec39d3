"""Advertisers, pixels, campaigns, Signal links, ad groups and ads, with the planted cases
(deleted and paused entities, fallback ads, a StartTrial ad group in a Sales campaign)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from sandbox.world import ADGROUPS, ADS, ADVERTISERS, CAMPAIGNS, MONEY, PIXELS, SIGNAL_LINKS, TS

from .arrays import (
    _B36,
    _UPPER_ALNUM,
    _alphabet_body,
    _credentials,
    _money,
    _numeric_ids,
    _rng,
    _ts,
    from_us,
    local_date,
    local_midnights_us,
)
from .base import GeneratorBase
from .shape import (
    _W,
    ADVERTISER_SPECS,
    DAY,
    FX_TO_USD,
    HOUR,
    MINUTE,
    SECOND,
    SIGNAL_LINK_MACROS,
    STORE_URLS,
    TRACKING_DOMAIN,
)


class StructureStage(GeneratorBase):
    def _structure(self) -> None:
        """Advertisers, pixels, campaigns, Signal links, ad groups and ads (loops per entity)."""
        rng = _rng(self.seed, "structure")
        p = self.preset
        used: set[str] = set()
        horizon_end = from_us(self.horizon_end_us)
        self.adv = []
        for i, spec in enumerate(ADVERTISER_SPECS[: p.advertisers]):
            tz = spec["timezone"]
            first = local_date(self.anchor, tz) - dt.timedelta(days=self.days)
            last = local_date(horizon_end, tz)
            mids = local_midnights_us(tz, first, last + dt.timedelta(days=1))
            self.adv.append(dict(spec, idx=i, first=first, last=last, mids=mids, ndays=len(mids) - 1))
        adv_ids = _numeric_ids(rng, len(self.adv), used)
        pixel_ids = _numeric_ids(rng, len(self.adv), used)
        window_start = int(min(a["mids"][0] for a in self.adv))
        self.window_start_us = window_start
        fx = [1.0 / FX_TO_USD[a["currency"]] for a in self.adv]  # USD -> advertiser currency

        adv_rows, pixel_rows = [], []
        for a, aid, pid in zip(self.adv, adv_ids, pixel_ids):
            a["id"], a["pixel_id"] = aid, pid
            a["pixel_code"] = "C" + bytes(_alphabet_body(rng, 1, 19, _UPPER_ALNUM)[0]).decode()
            created = int(a["mids"][0]) - int(rng.integers(200, 400)) * DAY
            adv_rows.append(
                {
                    "advertiser_id": aid,
                    "name": a["name"],
                    "currency": a["currency"],
                    "timezone": a["timezone"],
                    "display_timezone": a["display_timezone"],
                    "status": "STATUS_ENABLE",
                    "country": a["country"],
                    "company": a["company"],
                    "create_time": created,
                }
            )
            pixel_rows.append(
                {
                    "advertiser_id": aid,
                    "pixel_id": pid,
                    "pixel_code": a["pixel_code"],
                    "pixel_name": f"Sprintly Quest web pixel ({a['code']})",
                    "pixel_setup_mode": "DEVELOPER",
                    "create_time": created + int(rng.integers(1, 20)) * DAY,
                }
            )

        def day_at(a: dict, frac: float, hour: int) -> tuple[int, int]:
            k = round(frac * (self.days - 1))
            return k, int(a["mids"][k]) + hour * HOUR

        camp_rows, link_rows, ag_rows = [], [], []
        self.ads = []
        self.notes_deleted_campaigns, self.notes_deleted_adgroups = [], []
        n_adv = len(self.adv)
        for a in self.adv:
            i = a["idx"]
            start = int(a["mids"][0])
            for ci, objective in enumerate(p.campaigns):
                cid = _numeric_ids(rng, 1, used)[0]
                kind = "Sales" if objective == _W else "LeadGen"
                cname = f"{a['code']} | {kind} | Signal {ci + 1:02d}"
                c_created = start - int(rng.integers(45, 60)) * DAY - int(rng.integers(0, 86400)) * SECOND
                c_deleted = None
                if i == n_adv - 1 and ci == len(p.campaigns) - 1:  # planted: a deleted campaign
                    _, c_deleted = day_at(a, 0.45, 15)
                    self.notes_deleted_campaigns.append(cid)
                budget = round(500 * fx[i]) * 10**6
                camp_rows.append(
                    {
                        "advertiser_id": a["id"],
                        "campaign_id": cid,
                        "campaign_name": cname,
                        "objective_type": objective,
                        "budget": budget,
                        "budget_mode": "BUDGET_MODE_DAY",
                        "operation_status": "DISABLE" if c_deleted else "ENABLE",
                        "secondary_status": "CAMPAIGN_STATUS_DELETE" if c_deleted else "CAMPAIGN_STATUS_ENABLE",
                        "is_deleted": c_deleted is not None,
                        "create_time": c_created,
                        "modify_time": c_deleted or c_created + int(rng.integers(1, 10)) * DAY,
                    }
                )
                link_id = "sl_" + bytes(_alphabet_body(rng, 1, 12, _B36)[0]).decode()
                url = f"https://{TRACKING_DOMAIN}/s/{link_id}"
                l_created = c_created - 30 * MINUTE
                link_rows.append(
                    {
                        "link_id": link_id,
                        "app_id": None,
                        "name": cname,
                        "network": "tiktok",
                        "url": url,
                        "advertiser_id": a["id"],
                        "campaign_id": cid,
                        "created_at": l_created,
                        "updated_at": l_created,
                    }
                )
                for gi, os_name in enumerate(("IOS", "ANDROID")):
                    gid = _numeric_ids(rng, 1, used)[0]
                    if objective == _W:
                        opt = ("Purchase", "Subscribe")[(ci + gi) % 2]
                    else:
                        opt = ("StartTrial", "CompleteRegistration")[(ci + gi) % 2]
                    if i == 0 and ci == 0 and gi == 1:  # planted: StartTrial in a Sales campaign
                        opt = "StartTrial"
                        self.notes["startrial_in_sales_adgroup_id"] = gid
                    g_deleted = c_deleted
                    if i == 0 and ci == len(p.campaigns) - 1 and gi == 1 and g_deleted is None:
                        _, g_deleted = day_at(a, 0.60, 16)  # planted: a deleted ad group
                        self.notes_deleted_adgroups.append(gid)
                    g_created = c_created + HOUR
                    ag_rows.append(
                        {
                            "advertiser_id": a["id"],
                            "campaign_id": cid,
                            "adgroup_id": gid,
                            "adgroup_name": f"{a['code']} {kind} {ci + 1:02d} | {'iOS' if os_name == 'IOS' else 'Android'} | {opt}",
                            "operating_system": os_name,
                            "pixel_id": a["pixel_id"],
                            "optimization_goal": "CONVERT",
                            "optimization_event": opt,
                            "promotion_type": "WEBSITE",
                            "placement_type": "PLACEMENT_TYPE_NORMAL",
                            "placements": ["PLACEMENT_TIKTOK"],
                            "budget": round(100 * fx[i]) * 10**6,
                            "operation_status": "DISABLE" if g_deleted else "ENABLE",
                            "secondary_status": "ADGROUP_STATUS_DELETE" if g_deleted else "ADGROUP_STATUS_DELIVERY_OK",
                            "is_deleted": g_deleted is not None,
                            "create_time": g_created,
                            "modify_time": g_deleted or g_created + int(rng.integers(1, 10)) * DAY,
                        }
                    )
                    n_ads = int(rng.integers(p.ads_per_adgroup[0], p.ads_per_adgroup[1] + 1))
                    roles = ["ordinary"] * n_ads
                    if ci == 0 and gi == 0 and i == 0:
                        roles += ["fallback", "deleted_late_installs"]
                    if ci == 0 and gi == 1 and i == 1:
                        roles += ["fallback"]
                    for ri, role in enumerate(roles):
                        ad = {
                            "adv": i,
                            "advertiser_id": a["id"],
                            "campaign_id": cid,
                            "campaign_name": cname,
                            "adgroup_id": gid,
                            "os": os_name,
                            "opt": opt,
                            "link_id": link_id,
                            "link_url": url,
                            "role": role,
                            "created": g_created + HOUR + ri * MINUTE,
                            "deleted": g_deleted,
                            "paused": None,
                            "pixel_id": a["pixel_id"],
                        }
                        ad["name"] = (
                            f"{a['code']} {kind} {ci + 1:02d} {'iOS' if os_name == 'IOS' else 'Android'} - Video {ri + 1:02d}"
                        )
                        if role == "fallback":
                            ad["name"] += " (store URL)"
                        if role == "deleted_late_installs" and ad["deleted"] is None:
                            _, ad["deleted"] = day_at(a, 0.70, 17)
                        self.ads.append(ad)
        ad_ids = _numeric_ids(rng, len(self.ads), used)
        for ad, ad_id in zip(self.ads, ad_ids):
            ad["ad_id"] = ad_id
        # planted: a paused (not deleted) ad in the second advertiser -> zero-activity rows
        ordinary = [k for k, ad in enumerate(self.ads) if ad["role"] == "ordinary" and ad["deleted"] is None]
        paused_k = next(k for k in ordinary if self.ads[k]["adv"] == 1)
        a1 = self.adv[1]
        _, self.ads[paused_k]["paused"] = day_at(a1, 0.80, 11)
        self.ads[paused_k]["role"] = "paused"
        # extra deleted ads and ads launched inside the window (not in tiny)
        ordinary = [k for k in ordinary if k != paused_k]
        n_del = round(p.extra_deleted_share * len(ordinary))
        if p.extra_deleted_share > 0:
            n_del = max(1, n_del)
        for k in rng.choice(ordinary, size=n_del, replace=False) if n_del else []:
            a = self.adv[self.ads[k]["adv"]]
            _, self.ads[k]["deleted"] = day_at(a, float(rng.uniform(0.2, 0.9)), int(rng.integers(8, 20)))
            self.ads[k]["role"] = "deleted"
        ordinary = [k for k in ordinary if self.ads[k]["deleted"] is None]
        n_new = round(p.new_ad_share * len(ordinary))
        for k in rng.choice(ordinary, size=n_new, replace=False) if n_new else []:
            a = self.adv[self.ads[k]["adv"]]
            _, self.ads[k]["created"] = day_at(a, float(rng.uniform(0.1, 0.5)), int(rng.integers(8, 12)))
            self.ads[k]["role"] = "new"

        ad_rows = []
        for ad in self.ads:
            fallback = ad["role"] == "fallback"
            lp = STORE_URLS[ad["os"]] if fallback else f"{ad['link_url']}?{SIGNAL_LINK_MACROS}"
            status = "AD_STATUS_DELIVERY_OK"
            op = "ENABLE"
            if ad["deleted"] is not None:
                status, op = "AD_STATUS_DELETE", "DISABLE"
            elif ad["paused"] is not None:
                status, op = "AD_STATUS_DISABLE", "DISABLE"
            modify = (
                ad["deleted"] or ad["paused"] or min(ad["created"] + int(rng.integers(1, 72)) * HOUR, self.anchor_us)
            )
            ad_rows.append(
                {
                    "advertiser_id": ad["advertiser_id"],
                    "campaign_id": ad["campaign_id"],
                    "adgroup_id": ad["adgroup_id"],
                    "ad_id": ad["ad_id"],
                    "ad_name": ad["name"],
                    "landing_page_url": lp,
                    "signal_link_id": None if fallback else ad["link_id"],
                    "tracking_pixel_id": ad["pixel_id"],
                    "call_to_action": "DOWNLOAD_NOW",
                    "ad_format": "SINGLE_VIDEO",
                    "operation_status": op,
                    "secondary_status": status,
                    "is_deleted": ad["deleted"] is not None,
                    "create_time": ad["created"],
                    "modify_time": modify,
                }
            )
        app_id = _credentials(self.seed).appsprint_app_id
        for row in link_rows:
            row["app_id"] = app_id

        def table(rows: list[dict], schema: pa.Schema) -> pa.Table:
            cols = {}
            for field in schema:
                vals = [r[field.name] for r in rows]
                if field.type == TS:
                    cols[field.name] = _ts(np.array(vals, dtype=np.int64))
                elif field.type == MONEY:
                    cols[field.name] = _money(np.array(vals, dtype=np.int64))
                else:
                    cols[field.name] = pa.array(vals, field.type)
            return pa.Table.from_pydict(cols, schema=schema)

        self.t_advertisers = table(adv_rows, ADVERTISERS)
        self.t_pixels = table(pixel_rows, PIXELS)
        self.t_campaigns = table(camp_rows, CAMPAIGNS)
        self.t_adgroups = table(ag_rows, ADGROUPS)
        self.t_ads = table(ad_rows, ADS)
        self.t_links = table(link_rows, SIGNAL_LINKS)
        self.camp_rows, self.ag_rows = camp_rows, ag_rows
        self.notes.update(
            advertiser_ids=[a["id"] for a in self.adv],
            advertiser_timezones={a["id"]: a["timezone"] for a in self.adv},
            pixel_codes={a["id"]: a["pixel_code"] for a in self.adv},
            fallback_ad_ids=[ad["ad_id"] for ad in self.ads if ad["role"] == "fallback"],
            deleted_campaign_ids=self.notes_deleted_campaigns,
            deleted_adgroup_ids=self.notes_deleted_adgroups,
            deleted_ad_ids=[ad["ad_id"] for ad in self.ads if ad["deleted"] is not None],
            deleted_ad_with_late_installs_id=next(
                ad["ad_id"] for ad in self.ads if ad["role"] == "deleted_late_installs"
            ),
            paused_ad_ids=[ad["ad_id"] for ad in self.ads if ad["paused"] is not None],
            new_ad_ids=[ad["ad_id"] for ad in self.ads if ad["role"] == "new"],
        )
