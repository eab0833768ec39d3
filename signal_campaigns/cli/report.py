"""``report``: the 12 Signal Campaign metrics for any window at campaign / ad group / ad grain,
read from the warehouse table function ``signal_campaign_metrics(grain, start, end)`` (ratios
recomputed from sums there, see docs/metrics.md), with their provenance: the part AppSprint
attributed and the part taken from TikTok's own numbers on ad-days where AppSprint had none
(docs/decisions/0003-fallback-and-provenance.md)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from signal_campaigns.errors import ActionableError

from .warehouse_reads import MARTS_SCHEMA, Warehouse, advertiser_scope

GRAINS = ("campaign", "adgroup", "ad")
METRICS = ("spend", "installs", "cpi", "ipm", "impressions", "cpm", "clicks", "cpc", "ctr", "cti", "roas", "revenue")
PROVENANCE = (
    "installs_appsprint",
    "installs_from_fallback",
    "revenue_appsprint",
    "revenue_from_fallback",
    "install_fallback_spend_share",
    "revenue_fallback_spend_share",
)
KEYS = (
    "grain",
    "advertiser_id",
    "currency",
    "report_timezone",
    "campaign_id",
    "campaign_name",
    "adgroup_id",
    "adgroup_name",
    "ad_id",
    "ad_name",
    "first_report_date",
    "last_report_date",
)
NAME_COLUMN = {"campaign": "campaign_name", "adgroup": "adgroup_name", "ad": "ad_name"}
# the table's fraction columns (4 decimals); money and the other ratios get 2 (signal_campaigns.formatting)
FRACTION_COLUMNS = frozenset({"CTR", "CTI"})


def parse_window(start: str | None, end: str | None, days: int, latest: dt.date | None) -> tuple[dt.date, dt.date]:
    """``--start``/``--end`` (YYYY-MM-DD, inclusive, advertiser-local) or the last ``days`` loaded days."""

    def parse(label: str, value: str) -> dt.date:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ActionableError(f"--{label} {value!r} is not a date", fix="use YYYY-MM-DD, e.g. 2026-06-01") from None

    if days < 1:
        raise ActionableError(f"--days must be at least 1 (got {days})", fix="e.g. --days 7")
    end_date = parse("end", end) if end else latest
    if end_date is None:
        raise ActionableError(
            "the warehouse has no report days yet", fix="load data first (`make demo` or the pipelines)"
        )
    start_date = parse("start", start) if start else end_date - dt.timedelta(days=days - 1)
    if start_date > end_date:
        raise ActionableError(
            f"the window starts ({start_date}) after it ends ({end_date})", fix="swap --start and --end"
        )
    return start_date, end_date


def campaign_metrics(
    wh: Warehouse,
    grain: str,
    start: str | None = None,
    end: str | None = None,
    days: int = 7,
    advertisers: list[str] | None = None,
) -> dict[str, Any]:
    """The metrics of ``advertisers`` (``[]``/``None``: all) for the window."""
    if grain not in GRAINS:
        raise ActionableError(f"unknown grain {grain!r}", fix=f"use one of: {', '.join(GRAINS)}")
    wh.require(MARTS_SCHEMA, "signal_campaign_daily")
    scope, ids = advertiser_scope("advertiser_id", advertisers or [])
    latest = wh.scalar(f"select max(report_date) from {MARTS_SCHEMA}.signal_campaign_daily where {scope}", ids)
    start_date, end_date = parse_window(start, end, days, latest)
    rows = wh.rows(
        f"select * from {MARTS_SCHEMA}.signal_campaign_metrics(?, ?, ?) where {scope} "
        "order by advertiser_id, campaign_name, campaign_id, adgroup_id, ad_id",
        [grain, start_date, end_date, *ids],
    )
    out = [{k: r.get(k) for k in (*KEYS, *METRICS, *PROVENANCE)} for r in rows]
    return {
        "grain": grain,
        "start_date": start_date,
        "end_date": end_date,
        "source": f"{MARTS_SCHEMA}.signal_campaign_metrics('{grain}', '{start_date}', '{end_date}')",
        "advertisers": advertisers or "all",
        "data_note": wh.note,
        "rows": out,
    }


def to_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=[*KEYS, *METRICS, *PROVENANCE], lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: "" if v is None else v for k, v in r.items()})
    return buf.getvalue()


def table_rows(grain: str, rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    columns = [
        grain.replace("adgroup", "ad group"),
        "cur",
        "SPEND",
        "INSTALLS",
        "of which TikTok",
        "CPI",
        "IPM",
        "IMPR.",
        "CPM",
        "CLICKS",
        "CPC",
        "CTR",
        "CTI",
        "ROAS",
        "REVENUE",
        "fallback spend",
    ]
    out = []
    for r in rows:
        name = r.get(NAME_COLUMN[grain]) or r.get(f"{grain}_id")
        share = r.get("install_fallback_spend_share")
        out.append(
            [
                name,
                r["currency"],
                r["spend"],
                r["installs"],
                r["installs_from_fallback"],
                r["cpi"],
                r["ipm"],
                r["impressions"],
                r["cpm"],
                r["clicks"],
                r["cpc"],
                r["ctr"],
                r["cti"],
                r["roas"],
                r["revenue"],
                None if share is None else f"{share:.0%}",
            ]
        )
    return columns, out
