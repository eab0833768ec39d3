"""``report/integrated/get/`` of the TikTok sandbox: the query checked as TikTok checks it (report
type, levels, dimensions, metrics, date ranges, filters), then run by :class:`ReportEngine`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sandbox.tiktok_core import SandboxCore
from sandbox.tiktok_params import (
    Ctx,
    bad_param,
    bool_param,
    id_list,
    int_param,
    json_param,
    page_info,
    parse_structured,
)
from sandbox.tiktok_report import ReportQuery
from sandbox.tiktok_report_metrics import (
    ALL_METRICS,
    ATTRIBUTE_LEVELS,
    ID_DIMENSION,
    ID_FILTER,
    LEVELS,
    STATUS_FIELD,
)

REPORT_TYPES_UNSUPPORTED = {"AUDIENCE", "PLAYABLE_MATERIAL", "CATALOG", "BC", "TT_SHOP"}
REPORT_FILTER_TYPES = {"IN", "MATCH", "GREATER_EQUAL", "GREATER_THAN", "LOWER_EQUAL", "LOWER_THAN", "BETWEEN"}
REPORT_STATUS_VALUES = {"STATUS_ALL", "STATUS_NOT_DELETE", "STATUS_DELETE"}
RANGE_CAPS = {"day": 30, "hour": 1, None: 365}


class ReportRoutes(SandboxCore):
    """The reporting endpoint."""

    async def report_get(self, ctx: Ctx) -> dict[str, Any]:
        q = self.parse_report_query(ctx)
        total, rows = self.report.run(q, self.clock.now())
        return {"list": rows, "page_info": page_info(q.page, q.page_size, total)}

    def parse_report_query(self, ctx: Ctx) -> ReportQuery:
        p = ctx.params
        report_type = p.get("report_type")
        if not report_type:
            raise bad_param("report_type: Missing data for required field.")
        if report_type != "BASIC":
            if report_type in REPORT_TYPES_UNSUPPORTED:
                raise bad_param(f"report_type: {report_type} is not supported in the sandbox; use BASIC.")
            raise bad_param("report_type: Must be one of: BASIC, AUDIENCE, PLAYABLE_MATERIAL, CATALOG, BC, TT_SHOP.")
        service_type = p.get("service_type") or "AUCTION"
        if service_type != "AUCTION":
            raise bad_param("service_type: Must be one of: AUCTION.")
        multi = p.get("advertiser_ids") not in (None, "")
        if multi:
            raw_ids = id_list("advertiser_ids", json_param(p, "advertiser_ids", list), max_items=5)
            if not raw_ids:
                raise bad_param("advertiser_ids: Length must be between 1 and 5.")
            advertiser_ids = [self.require_advertiser(ctx, a, "advertiser_ids") for a in dict.fromkeys(raw_ids)]
        else:
            advertiser_ids = [self.require_advertiser(ctx, p.get("advertiser_id"))]
        data_level = p.get("data_level")
        if not data_level:
            raise bad_param("data_level: Missing data for required field.")
        if data_level not in LEVELS:
            raise bad_param(f"data_level: Must be one of: {', '.join(LEVELS)}.")
        level = LEVELS[data_level]
        id_dim = ID_DIMENSION[level]
        dimensions = json_param(p, "dimensions", list, required=True)
        if not dimensions or not all(isinstance(d, str) for d in dimensions):
            raise bad_param("dimensions: Must be a non-empty list of strings.")
        if len(set(dimensions)) != len(dimensions):
            raise bad_param("dimensions: Duplicate dimensions.")
        time_dims = [d for d in dimensions if d in ("stat_time_day", "stat_time_hour")]
        id_dims = [d for d in dimensions if d in ("advertiser_id", "campaign_id", "adgroup_id", "ad_id")]
        other = [d for d in dimensions if d not in time_dims and d not in id_dims]
        if other:
            raise bad_param(f"dimensions: Unsupported dimension(s) in the sandbox: {', '.join(other)}.")
        if len(time_dims) > 1:
            raise bad_param("dimensions: stat_time_day and stat_time_hour cannot be combined.")
        if id_dims != [id_dim]:
            raise bad_param(
                f"dimensions: data_level {data_level} requires exactly the ID dimension {id_dim} "
                "(plus optionally stat_time_day or stat_time_hour)."
            )
        time = {"stat_time_day": "day", "stat_time_hour": "hour"}.get(time_dims[0]) if time_dims else None
        metrics = json_param(p, "metrics", list)
        if metrics is None:
            metrics = ["spend", "impressions"]
        if not all(isinstance(m, str) for m in metrics):
            raise bad_param("metrics: Must be a list of strings.")
        unknown = [m for m in metrics if m not in ALL_METRICS]
        if unknown:
            raise bad_param(f"metrics: Invalid metric(s): {', '.join(unknown)}.")
        wrong_level = [m for m in metrics if m in ATTRIBUTE_LEVELS and level not in ATTRIBUTE_LEVELS[m]]
        if wrong_level:
            raise bad_param(f"metrics: {', '.join(wrong_level)} not supported with data_level {data_level}.")
        metrics = list(dict.fromkeys(metrics))
        lifetime = bool_param(p, "query_lifetime")
        start = end = None
        if lifetime:
            if time is not None:
                raise bad_param("dimensions: time dimensions are not allowed with query_lifetime=true.")
        else:
            start = self._date_param(p, "start_date")
            end = self._date_param(p, "end_date")
            if end < start:
                raise bad_param("end_date: end_date must be on or after start_date.")
            cap = RANGE_CAPS[time]
            if (end - start).days + 1 > cap:
                what = {"day": "with stat_time_day", "hour": "with stat_time_hour", None: "without a time dimension"}
                raise bad_param(f"end_date: The time range {what[time]} cannot exceed {cap} day(s).")
        status_filters: dict[str, set[str]] = {}
        id_filters: dict[str, set[str]] = {}
        filtering = json_param(p, "filtering", list)
        for n, item in enumerate(filtering or []):
            where = f"filtering.{n}"
            if not isinstance(item, dict):
                raise bad_param(f"{where}: Not a valid mapping type.")
            field_name = item.get("field_name")
            filter_type = item.get("filter_type")
            value = item.get("filter_value")
            if not isinstance(field_name, str) or not field_name:
                raise bad_param(f"{where}.field_name: Missing data for required field.")
            if filter_type not in REPORT_FILTER_TYPES:
                raise bad_param(f"{where}.filter_type: Must be one of: {', '.join(sorted(REPORT_FILTER_TYPES))}.")
            if isinstance(value, str):
                values = (
                    parse_structured(f"{where}.filter_value", value, list)
                    if filter_type in ("IN", "BETWEEN")
                    else [value]
                )
            elif isinstance(value, list):
                values = value
            else:
                raise bad_param(f"{where}.filter_value: Missing data for required field.")
            status_level = {v: k for k, v in STATUS_FIELD.items()}.get(field_name)
            if status_level is not None:
                if filter_type != "IN":
                    raise bad_param(f"{where}.filter_type: {field_name} supports only IN.")
                bad = [v for v in values if v not in REPORT_STATUS_VALUES]
                if bad or not values:
                    raise bad_param(
                        f"{where}.filter_value: {field_name} values must be among "
                        f"{', '.join(sorted(REPORT_STATUS_VALUES))} in the sandbox."
                    )
                status_filters.setdefault(status_level, set()).update(values)
            elif field_name in ID_FILTER:
                if filter_type != "IN":
                    raise bad_param(f"{where}.filter_type: {field_name} supports only IN.")
                ids = id_list(f"{where}.filter_value ({field_name})", values, code=40011)
                id_filters.setdefault(ID_FILTER[field_name], set()).update(ids)
            else:
                raise bad_param(f"{where}.field_name: Unsupported filter field in the sandbox: {field_name}.")
        page = int_param(p, "page", 1, 1)
        page_size = int_param(p, "page_size", 10, 1, 1000)
        return ReportQuery(
            advertiser_ids=advertiser_ids,
            level=level,
            dimensions=dimensions,
            time=time,
            metrics=metrics,
            start=start,
            end=end,
            status_filters=status_filters,
            id_filters=id_filters,
            page=page,
            page_size=page_size,
            multi_advertiser=multi,
        )

    @staticmethod
    def _date_param(p: Mapping[str, str], name: str) -> dt.date:
        raw = p.get(name)
        if not raw:
            raise bad_param(f"{name}: Missing data for required field.")
        try:
            if len(raw) != 10:
                raise ValueError
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise bad_param(f"{name}: Not a valid date (YYYY-MM-DD).") from None
