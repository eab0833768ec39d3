"""Marketing API reads of the TikTok sandbox: ``advertiser/info/``, ``campaign/get/``,
``adgroup/get/``, ``ad/get/`` (fields, filtering, deleted entities only on request) and ``pixel/list/``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sandbox.tiktok_params import MAX_IDS, Ctx, bad_param, id_list, int_param, json_param, page_info
from sandbox.tiktok_records import ServedRecords

# Fields served by the entity endpoints (docs/tiktok_business_api.md), in response order.
CAMPAIGN_FIELDS = (
    "advertiser_id",
    "campaign_id",
    "campaign_name",
    "objective_type",
    "campaign_type",
    "budget",
    "budget_mode",
    "operation_status",
    "secondary_status",
    "is_smart_performance_campaign",
    "create_time",
    "modify_time",
)
ADGROUP_FIELDS = (
    "advertiser_id",
    "campaign_id",
    "campaign_name",
    "adgroup_id",
    "adgroup_name",
    "promotion_type",
    "operating_systems",
    "pixel_id",
    "optimization_goal",
    "optimization_event",
    "billing_event",
    "bid_type",
    "budget",
    "budget_mode",
    "placement_type",
    "placements",
    "operation_status",
    "secondary_status",
    "create_time",
    "modify_time",
)
AD_FIELDS = (
    "advertiser_id",
    "campaign_id",
    "campaign_name",
    "adgroup_id",
    "adgroup_name",
    "ad_id",
    "ad_name",
    "ad_format",
    "landing_page_url",
    "call_to_action",
    "tracking_pixel_id",
    "operation_status",
    "secondary_status",
    "create_time",
    "modify_time",
)
ENTITY_FIELDS = {"campaign": CAMPAIGN_FIELDS, "adgroup": ADGROUP_FIELDS, "ad": AD_FIELDS}
ENTITY_FILTER_KEYS = {
    "campaign": {
        "campaign_ids",
        "campaign_name",
        "objective_type",
        "primary_status",
        "secondary_status",
        "creation_filter_start_time",
        "creation_filter_end_time",
        "buying_types",
        "is_smart_performance_campaign",
    },
    "adgroup": {
        "campaign_ids",
        "adgroup_ids",
        "adgroup_name",
        "primary_status",
        "secondary_status",
        "objective_type",
        "optimization_goal",
        "promotion_type",
        "billing_events",
        "creation_filter_start_time",
        "creation_filter_end_time",
    },
    "ad": {
        "campaign_ids",
        "adgroup_ids",
        "ad_ids",
        "ad_name",
        "primary_status",
        "secondary_status",
        "objective_type",
        "creation_filter_start_time",
        "creation_filter_end_time",
    },
}
ADVERTISER_FIELDS = (
    "advertiser_id",
    "name",
    "currency",
    "timezone",
    "display_timezone",
    "status",
    "role",
    "country",
    "company",
    "industry",
    "balance",
    "create_time",
    "advertiser_account_type",
    "language",
    "description",
    "rejection_reason",
    "email",
    "telephone_number",
    "address",
    "owner_bc_id",
)


class MarketingReads(ServedRecords):
    """The read endpoints of advertisers, campaigns, ad groups, ads and pixels."""

    async def advertiser_info(self, ctx: Ctx) -> dict[str, Any]:
        ids = id_list("advertiser_ids", json_param(ctx.params, "advertiser_ids", list, required=True))
        if not ids:
            raise bad_param("advertiser_ids: Length must be between 1 and 100.")
        fields = json_param(ctx.params, "fields", list)
        if fields is not None:
            unknown = [f for f in fields if f not in ADVERTISER_FIELDS]
            if unknown:
                raise bad_param(f"fields: Unknown field(s): {', '.join(map(str, unknown))}.")
        out = []
        for advertiser_id in ids:
            self.require_advertiser(ctx, advertiser_id, "advertiser_ids")
            rec = self.advertisers[advertiser_id]
            out.append(rec if fields is None else {k: rec[k] for k in ["advertiser_id", *fields]})
        return {"list": out}

    # --- campaign / adgroup / ad get ----------------------------------------------------------------
    async def entity_get(self, ctx: Ctx, level: str) -> dict[str, Any]:
        params = ctx.params
        advertiser_id = self.require_advertiser(ctx, params.get("advertiser_id"))
        fields = json_param(params, "fields", list)
        if fields is not None:
            unknown = [f for f in fields if f not in ENTITY_FIELDS[level]]
            if unknown:
                raise bad_param(f"fields: Unknown field(s) for {level}: {', '.join(map(str, unknown))}.")
        filtering = json_param(params, "filtering", dict) or {}
        page = int_param(params, "page", 1, 1)
        page_size = int_param(params, "page_size", 10, 1, 1000)
        rows = self.entities[level].get(advertiser_id, [])
        predicate = self._entity_predicate(level, filtering)
        matched = [rec for rec, deleted in rows if predicate(rec, deleted)]
        start = (page - 1) * page_size
        page_rows = matched[start : start + page_size]
        if fields is not None:
            page_rows = [{k: r[k] for k in fields} for r in page_rows]
        return {"list": page_rows, "page_info": page_info(page, page_size, len(matched))}

    def _entity_predicate(self, level: str, filtering: dict[str, Any]) -> Callable[[dict, bool], bool]:
        allowed_keys = ENTITY_FILTER_KEYS[level]
        checks: list[Callable[..., bool]] = []  # (record, deleted) -> kept; fixed values as defaults
        prefix = {"campaign": "CAMPAIGN", "adgroup": "ADGROUP", "ad": "AD"}[level]
        status_given = False
        for key, value in filtering.items():
            if key not in allowed_keys:
                raise bad_param(f"filtering.{key}: Unknown or unsupported filter field for {level}/get.")
            if key in ("campaign_ids", "adgroup_ids", "ad_ids"):
                ids = id_list(f"filtering.{key}", value)
                if not ids:
                    raise bad_param(f"filtering.{key}: Length must be between 1 and {MAX_IDS}.")
                field, wanted = key[:-1], frozenset(ids)
                checks.append(lambda r, d, f=field, w=wanted: r[f] in w)
            elif key in ("campaign_name", "adgroup_name", "ad_name"):
                if not isinstance(value, str):
                    raise bad_param(f"filtering.{key}: Not a valid string.")
                needle = value.lower()
                checks.append(lambda r, d, f=key, n=needle: n in (r.get(f) or "").lower())
            elif key in ("objective_type", "optimization_goal", "promotion_type"):
                if not isinstance(value, str):
                    raise bad_param(f"filtering.{key}: Not a valid string.")
                if key == "objective_type" and level != "campaign":
                    objective = self.campaign_objective
                    checks.append(lambda r, d, v=value, o=objective: o.get(r["campaign_id"]) == v)
                else:
                    checks.append(lambda r, d, f=key, v=value: r.get(f) == v)
            elif key == "secondary_status":
                if not isinstance(value, str):
                    raise bad_param(f"filtering.{key}: Not a valid string.")
                status_given = True
                if value == f"{prefix}_STATUS_ALL":
                    continue
                if value == f"{prefix}_STATUS_NOT_DELETE":
                    checks.append(lambda r, d: not d)
                elif value == f"{prefix}_STATUS_DELETE":
                    checks.append(lambda r, d: d)
                elif value.startswith(f"{prefix}_STATUS_"):
                    checks.append(lambda r, d, v=value: r["secondary_status"] == v)
                else:
                    raise bad_param(f"filtering.secondary_status: Invalid value {value!r} for {level}/get.")
            elif key == "primary_status":
                if not isinstance(value, str):
                    raise bad_param(f"filtering.{key}: Not a valid string.")
                status_given = True
                if value in ("STATUS_ALL", f"{prefix}_STATUS_ALL"):
                    continue
                if value == "STATUS_NOT_DELETE":
                    checks.append(lambda r, d: not d)
                elif value == "STATUS_DELETE":
                    checks.append(lambda r, d: d)
                elif value in ("STATUS_DELIVERY_OK", "STATUS_ENABLE"):
                    checks.append(lambda r, d: not d and r["operation_status"] == "ENABLE")
                elif value == "STATUS_DISABLE":
                    checks.append(lambda r, d: not d and r["operation_status"] == "DISABLE")
                else:
                    raise bad_param(f"filtering.primary_status: Invalid value {value!r}.")
            elif key in ("creation_filter_start_time", "creation_filter_end_time"):
                try:
                    bound = dt.datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").strftime("%Y-%m-%d %H:%M:%S")
                except ValueError:
                    raise bad_param(f"filtering.{key}: Not a valid datetime (YYYY-MM-DD HH:MM:SS).") from None
                if key.endswith("start_time"):
                    checks.append(lambda r, d, b=bound: (r["create_time"] or "") >= b)
                else:
                    checks.append(lambda r, d, b=bound: (r["create_time"] or "") <= b)
            # buying_types, is_smart_performance_campaign, billing_events: accepted, no effect
        if not status_given:
            checks.append(lambda r, d: not d)

        def predicate(rec: dict, deleted: bool) -> bool:
            return all(check(rec, deleted) for check in checks)

        return predicate

    async def pixel_list(self, ctx: Ctx) -> dict[str, Any]:
        p = ctx.params
        advertiser_id = self.require_advertiser(ctx, p.get("advertiser_id"))
        page = int_param(p, "page", 1, 1)
        page_size = int_param(p, "page_size", 10, 1, 20)
        rows = self.pixels.get(advertiser_id, [])
        if p.get("code"):
            rows = [r for r in rows if r["pixel_code"] == p["code"]]
        if p.get("pixel_id"):
            rows = [r for r in rows if r["pixel_id"] == p["pixel_id"]]
        if p.get("name"):
            needle = p["name"].lower()
            rows = [r for r in rows if needle in r["pixel_name"].lower()]
        order_by = p.get("order_by")
        if order_by not in (None, "", "EARLIEST_CREATE", "LATEST_CREATE"):
            raise bad_param("order_by: Must be one of: EARLIEST_CREATE, LATEST_CREATE.")
        rows = sorted(rows, key=lambda r: (r["create_time"] or "", r["pixel_id"]), reverse=order_by == "LATEST_CREATE")
        start = (page - 1) * page_size
        return {"pixels": rows[start : start + page_size], "page_info": page_info(page, page_size, len(rows))}
