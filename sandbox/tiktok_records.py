"""The records the TikTok sandbox serves, built once from the world: campaigns, ad groups and ads
(with their deleted flag) per advertiser, and pixels with their events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sandbox.tiktok_core import SandboxCore

PIXEL_EVENT_CODES = {
    "Purchase": "SHOPPING",
    "Subscribe": "ON_WEB_SUBSCRIBE",
    "StartTrial": "START_TRIAL",
    "CompleteRegistration": "ON_WEB_REGISTER",
    "Download": "DOWNLOAD_START",
    "ViewContent": "ON_WEB_DETAIL",
}


def _fmt_ts(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _money(value: Any) -> float | None:
    return None if value is None else float(value)


class ServedRecords(SandboxCore):
    """Campaigns, ad groups, ads and pixels as the Marketing API serves them."""

    def _build_served(self) -> None:
        self._build_entities()
        self._build_pixels()

    def _build_entities(self) -> None:
        eng = self.report
        camps, groups, ads = eng.entities["campaign"], eng.entities["adgroup"], eng.entities["ad"]
        camp_by_id = {c["campaign_id"]: c for c in camps}
        self.campaign_objective = {c["campaign_id"]: c["objective_type"] for c in camps}
        group_by_id = {g["adgroup_id"]: g for g in groups}
        served: dict[str, list[tuple[dict[str, Any], bool]]] = {"campaign": [], "adgroup": [], "ad": []}
        for i, c in enumerate(camps):
            deleted = bool(eng.deleted["campaign"][i])
            served["campaign"].append(
                (
                    {
                        "advertiser_id": c["advertiser_id"],
                        "campaign_id": c["campaign_id"],
                        "campaign_name": c["campaign_name"],
                        "objective_type": c["objective_type"],
                        "campaign_type": "REGULAR_CAMPAIGN",
                        "budget": _money(c["budget"]),
                        "budget_mode": c["budget_mode"],
                        "operation_status": c["operation_status"],
                        "secondary_status": c["secondary_status"],
                        "is_smart_performance_campaign": False,
                        "create_time": _fmt_ts(c["create_time"]),
                        "modify_time": _fmt_ts(c["modify_time"]),
                    },
                    deleted,
                )
            )
        for i, g in enumerate(groups):
            deleted = bool(eng.deleted["adgroup"][i])
            status = g["secondary_status"]
            if deleted and not status.endswith("_DELETE"):
                status = "ADGROUP_STATUS_CAMPAIGN_DELETE"
            served["adgroup"].append(
                (
                    {
                        "advertiser_id": g["advertiser_id"],
                        "campaign_id": g["campaign_id"],
                        "campaign_name": camp_by_id[g["campaign_id"]]["campaign_name"],
                        "adgroup_id": g["adgroup_id"],
                        "adgroup_name": g["adgroup_name"],
                        "promotion_type": g["promotion_type"],
                        "operating_systems": [g["operating_system"]] if g["operating_system"] else [],
                        "pixel_id": g["pixel_id"],
                        "optimization_goal": g["optimization_goal"],
                        "optimization_event": g["optimization_event"],
                        "billing_event": "OCPM",
                        "bid_type": "BID_TYPE_NO_BID",
                        "budget": _money(g["budget"]),
                        "budget_mode": "BUDGET_MODE_DAY",
                        "placement_type": g["placement_type"],
                        "placements": list(g["placements"] or []),
                        "operation_status": g["operation_status"],
                        "secondary_status": status,
                        "create_time": _fmt_ts(g["create_time"]),
                        "modify_time": _fmt_ts(g["modify_time"]),
                    },
                    deleted,
                )
            )
        for i, a in enumerate(ads):
            deleted = bool(eng.deleted["ad"][i])
            status = a["secondary_status"]
            if deleted and not status.endswith("_DELETE"):
                own_group_deleted = bool(eng.deleted["adgroup"][eng.index["adgroup"][a["adgroup_id"]]])
                status = "AD_STATUS_ADGROUP_DELETE" if own_group_deleted else "AD_STATUS_CAMPAIGN_DELETE"
            served["ad"].append(
                (
                    {
                        "advertiser_id": a["advertiser_id"],
                        "campaign_id": a["campaign_id"],
                        "campaign_name": camp_by_id[a["campaign_id"]]["campaign_name"],
                        "adgroup_id": a["adgroup_id"],
                        "adgroup_name": group_by_id[a["adgroup_id"]]["adgroup_name"],
                        "ad_id": a["ad_id"],
                        "ad_name": a["ad_name"],
                        "ad_format": a["ad_format"],
                        "landing_page_url": a["landing_page_url"],
                        "call_to_action": a["call_to_action"],
                        "tracking_pixel_id": a["tracking_pixel_id"],
                        "operation_status": a["operation_status"],
                        "secondary_status": status,
                        "create_time": _fmt_ts(a["create_time"]),
                        "modify_time": _fmt_ts(a["modify_time"]),
                    },
                    deleted,
                )
            )
        # per advertiser, in id order
        self.entities: dict[str, dict[str, list[tuple[dict[str, Any], bool]]]] = {}
        for level, rows in served.items():
            per: dict[str, list[tuple[dict[str, Any], bool]]] = {}
            for rec, deleted in rows:
                per.setdefault(rec["advertiser_id"], []).append((rec, deleted))
            self.entities[level] = per

    def _build_pixels(self) -> None:
        opt_events: dict[str, set[str]] = {}
        for g in self.world.table("adgroups").to_pylist():
            if g["pixel_id"] and g["optimization_event"]:
                opt_events.setdefault(g["pixel_id"], set()).add(g["optimization_event"])
        self.pixels: dict[str, list[dict[str, Any]]] = {}
        self.pixel_advertiser: dict[str, str] = {}
        for p in sorted(self.world.table("pixels").to_pylist(), key=lambda r: r["pixel_id"]):
            names = sorted(opt_events.get(p["pixel_id"], set()) | {"Download", "ViewContent"})
            events: list[dict[str, Any]] = []
            for n, name in enumerate(names):
                code = PIXEL_EVENT_CODES.get(name, "CUSTOM")
                events.append(
                    {
                        "name": name,
                        "event_type": code,
                        "optimization_event": code,
                        "custom_event_type": code,
                        "event_code": name,
                        "event_id": f"{p['pixel_id'][:15]}{n:04d}",
                        "statistic_type": "EVERY_TIME",
                        "currency": None,
                        "currency_value": None,
                        "deprecated": False,
                        "rules": [],
                    }
                )
            self.pixels.setdefault(p["advertiser_id"], []).append(
                {
                    "pixel_id": p["pixel_id"],
                    "pixel_code": p["pixel_code"],
                    "pixel_name": p["pixel_name"],
                    "pixel_category": "THIRD_PARTY" if p["pixel_setup_mode"] == "DEVELOPER" else "MANUAL",
                    "pixel_setup_mode": p["pixel_setup_mode"],
                    "create_time": _fmt_ts(p["create_time"]),
                    "advanced_matching_fields": {"email": True, "phone_number": True},
                    "events": events,
                }
            )
            self.pixel_advertiser[p["pixel_code"]] = p["advertiser_id"]
