"""Defaults, limits and column hints of the TikTok Ads source (docs/raw_layer.md is the contract).

Everything a user may want to tune without touching code lives here: the report metric list, the
lookback and window sizes, the page size and the retry policy. Column hints make the DuckDB types
right even when the first page of a table only has NULLs (``"-"`` metrics).
"""

from __future__ import annotations

from typing import Any

from signal_campaigns.setting_checks import check_url, dlt_setting
from signal_campaigns.tiktok import api

# --- endpoints ---------------------------------------------------------------------------------
# The API base and paths are TikTok facts, kept in signal_campaigns.tiktok.api; the sandbox is
# selected by pointing `base_url` at it.
DEFAULT_BASE_URL = api.DEFAULT_BASE_URL
CAMPAIGN_GET_PATH = api.CAMPAIGN_GET_PATH
ADGROUP_GET_PATH = api.ADGROUP_GET_PATH
AD_GET_PATH = api.AD_GET_PATH
PIXEL_LIST_PATH = api.PIXEL_LIST_PATH


def checked_base_url(base_url: object) -> str:
    """``sources.tiktok_ads.base_url`` when it is an http(s) URL; a setting error naming the key and
    its environment variable otherwise (raised when the source is created, before any request)."""
    return check_url(base_url, dlt_setting("tiktok_ads", "base_url"), DEFAULT_BASE_URL)


# --- limits (docs/tiktok_business_api.md) -------------------------------------------------------
MAX_PAGE_SIZE = 1000  # entity and report endpoints accept 1..1000
DEFAULT_PAGE_SIZE = 1000  # never page with TikTok's default of 10: it multiplies requests
MAX_WINDOW_DAYS = 30  # stat_time_day reports accept at most 30 days per request
DEFAULT_WINDOW_DAYS = 30
MAX_ADVERTISERS_PER_INFO_CALL = 100
MAX_PIXEL_PAGE_SIZE = 20  # pixel/list/ accepts 1..20

# --- incremental (docs/decisions/0005-restatement-and-lookback.md) -------------------------------
DEFAULT_LOOKBACK_DAYS = 7  # the default 7-day click window
MAX_LOOKBACK_DAYS = 28  # the longest click-through attribution window TikTok offers
MIN_LOOKBACK_DAYS = 1  # the last run's (partial) "today" is always re-pulled
# First run without `start_date`: this many days up to the advertiser's today.
DEFAULT_BACKFILL_DAYS = 30

# --- retry policy defaults (what is retried and how: signal_campaigns.tiktok.retry) -------------
DEFAULT_MAX_ATTEMPTS = 6  # 1 try + 5 retries
DEFAULT_BACKOFF_SECONDS = 1.0  # first wait ~1 s, then 2, 4, 8 ... (each with jitter)
DEFAULT_MAX_BACKOFF_SECONDS = 60.0
DEFAULT_REQUEST_TIMEOUT_SECONDS = 60.0

# --- entities ------------------------------------------------------------------------------------
# All statuses, deleted included, so that no spend is orphaned.
ENTITY_STATUS_ALL = {
    "campaigns": "CAMPAIGN_STATUS_ALL",
    "adgroups": "ADGROUP_STATUS_ALL",
    "ads": "AD_STATUS_ALL",
}

ADVERTISER_FIELDS: list[str] = [
    "advertiser_id",
    "name",
    "currency",
    "timezone",
    "display_timezone",
    "status",
    "country",
    "company",
    "create_time",
]

# Columns kept per entity table (docs/raw_layer.md); anything else TikTok returns is dropped.
CAMPAIGN_COLUMNS: list[str] = [
    "campaign_id",
    "advertiser_id",
    "campaign_name",
    "objective_type",
    "operation_status",
    "secondary_status",
    "is_deleted",
    "create_time",
    "modify_time",
    "budget",
    "budget_mode",
]
ADGROUP_COLUMNS: list[str] = [
    "adgroup_id",
    "advertiser_id",
    "campaign_id",
    "adgroup_name",
    "operating_systems",
    "pixel_id",
    "optimization_goal",
    "optimization_event",
    "promotion_type",
    "placement_type",
    "operation_status",
    "secondary_status",
    "is_deleted",
    "create_time",
    "modify_time",
]
AD_COLUMNS: list[str] = [
    "ad_id",
    "advertiser_id",
    "campaign_id",
    "adgroup_id",
    "ad_name",
    "landing_page_url",
    "tracking_pixel_id",
    "operation_status",
    "secondary_status",
    "is_deleted",
    "create_time",
    "modify_time",
]

PIXEL_COLUMNS: list[str] = [
    "pixel_id",
    "advertiser_id",
    "pixel_code",  # the Events API `event_source_id`
    "pixel_name",
    "pixel_setup_mode",
    "create_time",
]

# --- report --------------------------------------------------------------------------------------
REPORT_DIMENSIONS: list[str] = ["ad_id", "stat_time_day"]
# Attribute "metrics": requested in `metrics`, not in `dimensions` (docs/tiktok_business_api.md).
REPORT_ATTRIBUTE_METRICS: list[str] = [
    "campaign_id",
    "campaign_name",
    "adgroup_id",
    "adgroup_name",
    "ad_name",
    "currency",
]
# The default metric list: the components the models need. No ratios (ctr, cpc, cpm, cost_per_*):
# the models recompute ratios from sums (docs/decisions/0004-metric-formulas.md), so they are not
# requested.
DEFAULT_METRICS: list[str] = [
    "spend",
    "impressions",
    "clicks",
    "conversion",
    "real_time_conversion",
    "download_start",
    "complete_payment",
    "total_complete_payment_rate",  # Purchase VALUE (TikTok's misleading name)
    "on_web_subscribe",
    "total_on_web_subscribe_value",
    "start_trial",
    "user_registration",
    "page_content_view_events",
]

# Money / value metrics -> Decimal. Any configured metric not listed here nor in COUNT_METRICS is
# also parsed as Decimal (never float).
MONEY_METRICS = frozenset(
    {
        "spend",
        "billed_cost",
        "cash_spend",
        "voucher_spend",
        "total_complete_payment_rate",
        "total_on_web_subscribe_value",
        "total_on_web_order_value",
        "total_initiate_checkout_value",
        "total_web_event_add_to_cart_value",
        "total_page_view_content_events_value",
        "total_user_registration_value",
        "total_form_value",
        "total_download_start_value",
        "total_purchase_value",
        "total_subscribe_value",
        "custom_page_events_value",
    }
)
COUNT_METRICS = frozenset(
    {
        "impressions",
        "gross_impressions",
        "clicks",
        "reach",
        "conversion",
        "real_time_conversion",
        "result",
        "real_time_result",
        "download_start",
        "complete_payment",
        "on_web_subscribe",
        "on_web_order",
        "initiate_checkout",
        "web_event_add_to_cart",
        "start_trial",
        "user_registration",
        "page_content_view_events",
        "form",
        "online_consult",
        "button_click",
        "add_billing",
        "page_event_search",
        "custom_page_events",
        "total_pageview",
        "total_landing_page_view",
        "app_install",
        "real_time_app_install",
        "video_play_actions",
        "video_watched_2s",
        "video_watched_6s",
        "likes",
        "comments",
        "shares",
        "follows",
        "profile_visits",
        "vta_conversion",
        "cta_conversion",
    }
)
# Ratios are not stored in the raw layer: the models recompute them from sums.
RATIO_METRIC_PREFIXES = ("cost_per_", "real_time_cost_per_", "value_per_")
RATIO_METRICS = frozenset(
    {
        "ctr",
        "cpc",
        "cpm",
        "frequency",
        "conversion_rate",
        "conversion_rate_v2",
        "real_time_conversion_rate",
        "real_time_conversion_rate_v2",
        "result_rate",
        "real_time_result_rate",
        "complete_payment_rate",
        "complete_payment_roas",
        "total_active_pay_roas",
        "average_video_play",
        "average_video_play_per_user",
        "cost_per_1000_reached",
    }
)

# --- column hints --------------------------------------------------------------------------------
MONEY_HINT: dict[str, Any] = {"data_type": "decimal", "precision": 18, "scale": 6, "nullable": True}
COUNT_HINT: dict[str, Any] = {"data_type": "bigint", "nullable": True}
TEXT_HINT: dict[str, Any] = {"data_type": "text", "nullable": True}
TIMESTAMP_HINT: dict[str, Any] = {"data_type": "timestamp", "nullable": True}
BOOL_HINT: dict[str, Any] = {"data_type": "bool", "nullable": True}
JSON_HINT: dict[str, Any] = {"data_type": "json", "nullable": True}


def _key(hint: dict[str, Any]) -> dict[str, Any]:
    return {**hint, "nullable": False}


# NOTE: dlt writes into the hint dicts it is given (e.g. the column name): the source passes deep
# copies, and every column below gets its own dict.


ADVERTISER_HINTS: dict[str, dict[str, Any]] = {
    "advertiser_id": _key(TEXT_HINT),
    "name": dict(TEXT_HINT),
    "currency": dict(TEXT_HINT),
    "timezone": dict(TEXT_HINT),
    "display_timezone": dict(TEXT_HINT),
    "status": dict(TEXT_HINT),
    "country": dict(TEXT_HINT),
    "company": dict(TEXT_HINT),
    "create_time": dict(TIMESTAMP_HINT),
}

CAMPAIGN_HINTS: dict[str, dict[str, Any]] = {
    "campaign_id": _key(TEXT_HINT),
    "advertiser_id": _key(TEXT_HINT),
    "campaign_name": dict(TEXT_HINT),
    "objective_type": dict(TEXT_HINT),
    "operation_status": dict(TEXT_HINT),
    "secondary_status": dict(TEXT_HINT),
    "is_deleted": dict(BOOL_HINT),
    "create_time": dict(TIMESTAMP_HINT),
    "modify_time": dict(TIMESTAMP_HINT),
    "budget": dict(MONEY_HINT),
    "budget_mode": dict(TEXT_HINT),
}
ADGROUP_HINTS: dict[str, dict[str, Any]] = {
    "adgroup_id": _key(TEXT_HINT),
    "advertiser_id": _key(TEXT_HINT),
    "campaign_id": dict(TEXT_HINT),
    "adgroup_name": dict(TEXT_HINT),
    "operating_systems": dict(JSON_HINT),  # a list, e.g. ["IOS"]: stored as JSON, not a child table
    "pixel_id": dict(TEXT_HINT),
    "optimization_goal": dict(TEXT_HINT),
    "optimization_event": dict(TEXT_HINT),
    "promotion_type": dict(TEXT_HINT),
    "placement_type": dict(TEXT_HINT),
    "operation_status": dict(TEXT_HINT),
    "secondary_status": dict(TEXT_HINT),
    "is_deleted": dict(BOOL_HINT),
    "create_time": dict(TIMESTAMP_HINT),
    "modify_time": dict(TIMESTAMP_HINT),
}
AD_HINTS: dict[str, dict[str, Any]] = {
    "ad_id": _key(TEXT_HINT),
    "advertiser_id": _key(TEXT_HINT),
    "campaign_id": dict(TEXT_HINT),
    "adgroup_id": dict(TEXT_HINT),
    "ad_name": dict(TEXT_HINT),
    "landing_page_url": dict(TEXT_HINT),
    "tracking_pixel_id": dict(TEXT_HINT),
    "operation_status": dict(TEXT_HINT),
    "secondary_status": dict(TEXT_HINT),
    "is_deleted": dict(BOOL_HINT),
    "create_time": dict(TIMESTAMP_HINT),
    "modify_time": dict(TIMESTAMP_HINT),
}

PIXEL_HINTS: dict[str, dict[str, Any]] = {
    "pixel_id": _key(TEXT_HINT),
    "advertiser_id": _key(TEXT_HINT),
    "pixel_code": dict(TEXT_HINT),
    "pixel_name": dict(TEXT_HINT),
    "pixel_setup_mode": dict(TEXT_HINT),
    "create_time": dict(TIMESTAMP_HINT),
}


# The marker row of a re-pulled report day (see report_column_hints).
DAY_REPLACED_COLUMN = "_day_replaced"
DAY_MARKER_AD_ID = "(day marker)"


def report_column_hints(metrics: list[str]) -> dict[str, dict[str, Any]]:
    """Column hints of ``ad_daily_report`` for the configured metric list."""
    hints: dict[str, dict[str, Any]] = {
        "advertiser_id": _key(TEXT_HINT),
        "ad_id": _key(TEXT_HINT),
        "stat_date": {"data_type": "date", "nullable": False},
        "campaign_id": dict(TEXT_HINT),
        "campaign_name": dict(TEXT_HINT),
        "adgroup_id": dict(TEXT_HINT),
        "adgroup_name": dict(TEXT_HINT),
        "ad_name": dict(TEXT_HINT),
        "report_timezone": dict(TEXT_HINT),
        "currency": dict(TEXT_HINT),
    }
    for metric in metrics:
        hints[metric] = dict(COUNT_HINT if metric in COUNT_METRICS else MONEY_HINT)
    hints["synced_at"] = TIMESTAMP_HINT
    # True only on a re-pulled day's marker row: the merge deletes the day's stored rows and
    # does not insert the marker (dlt's hard_delete hint), so a day TikTok now reports empty
    # is emptied too. Real rows leave it NULL.
    hints[DAY_REPLACED_COLUMN] = {"data_type": "bool", "nullable": True, "hard_delete": True}
    return hints
