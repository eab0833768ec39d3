"""What a TikTok sandbox report can ask for: the data levels, their id dimensions and filters, and
every metric with the base columns it sums and how it is formatted (money 3 dp, value metrics 2 dp,
``ctr`` a percentage with 2 dp, counts without decimals, ``"-"`` when a ratio's denominator is
zero). Base columns hold int64 micro-units for money and values."""

from __future__ import annotations

from collections.abc import Callable

from .restatement import RESTATED_COUNT_COLUMNS, RESTATED_VALUE_COLUMNS

LEVELS = {
    "AUCTION_ADVERTISER": "advertiser",
    "AUCTION_CAMPAIGN": "campaign",
    "AUCTION_ADGROUP": "adgroup",
    "AUCTION_AD": "ad",
}
ID_DIMENSION = {"advertiser": "advertiser_id", "campaign": "campaign_id", "adgroup": "adgroup_id", "ad": "ad_id"}
STATUS_FIELD = {"campaign": "campaign_status", "adgroup": "adgroup_status", "ad": "ad_status"}
ID_FILTER = {"campaign_ids": "campaign", "adgroup_ids": "adgroup", "ad_ids": "ad"}

# Summed base columns. Money/value columns are int64 micro-units.
MONEY_COLUMNS = ("spend", "total_complete_payment_rate", "total_on_web_subscribe_value")
# counts served as delivered (real_time_conversion: by conversion time), then the restated ones
COUNT_COLUMNS = ("impressions", "clicks", "real_time_conversion", *RESTATED_COUNT_COLUMNS)
BASE_COLUMNS = MONEY_COLUMNS + COUNT_COLUMNS
# Restated as of the sandbox clock (attribution completes late), by the one restatement rule.
RESTATED_COLUMNS = RESTATED_COUNT_COLUMNS + RESTATED_VALUE_COLUMNS
VALUE_COLUMNS = RESTATED_VALUE_COLUMNS

DASH = "-"


def _money3(v: float) -> str:
    return f"{v / 1e6:.3f}"


def _value2(v: float) -> str:
    return f"{v / 1e6:.2f}"


def _count(v: float) -> str:
    return str(int(v))


def _ratio(num: str, den: str, scale: float, fmt: str) -> Callable[[dict[str, float]], str]:
    def compute(s: dict[str, float]) -> str:
        d = s[den]
        if not d:
            return DASH
        return format(s[num] * scale / d, fmt)

    return compute


# metric -> (base columns it needs, formatter over the summed base columns)
METRICS: dict[str, tuple[tuple[str, ...], Callable[[dict[str, float]], str]]] = {
    "spend": (("spend",), lambda s: _money3(s["spend"])),
    "total_complete_payment_rate": (
        ("total_complete_payment_rate",),
        lambda s: _value2(s["total_complete_payment_rate"]),
    ),
    "total_on_web_subscribe_value": (
        ("total_on_web_subscribe_value",),
        lambda s: _value2(s["total_on_web_subscribe_value"]),
    ),
    "ctr": (("clicks", "impressions"), _ratio("clicks", "impressions", 100.0, ".2f")),
    "cpc": (("spend", "clicks"), _ratio("spend", "clicks", 1e-6, ".3f")),
    "cpm": (("spend", "impressions"), _ratio("spend", "impressions", 1e-3, ".3f")),
    "cost_per_conversion": (("spend", "conversion"), _ratio("spend", "conversion", 1e-6, ".3f")),
    "real_time_cost_per_conversion": (
        ("spend", "real_time_conversion"),
        _ratio("spend", "real_time_conversion", 1e-6, ".3f"),
    ),
    "cost_per_download_start": (("spend", "download_start"), _ratio("spend", "download_start", 1e-6, ".3f")),
    "cost_per_complete_payment": (("spend", "complete_payment"), _ratio("spend", "complete_payment", 1e-6, ".3f")),
    "value_per_complete_payment": (
        ("total_complete_payment_rate", "complete_payment"),
        _ratio("total_complete_payment_rate", "complete_payment", 1e-6, ".2f"),
    ),
    "complete_payment_roas": (
        ("total_complete_payment_rate", "spend"),
        _ratio("total_complete_payment_rate", "spend", 1.0, ".2f"),
    ),
    "cost_per_on_web_subscribe": (("spend", "on_web_subscribe"), _ratio("spend", "on_web_subscribe", 1e-6, ".3f")),
    "cost_per_start_trial": (("spend", "start_trial"), _ratio("spend", "start_trial", 1e-6, ".3f")),
    "cost_per_user_registration": (("spend", "user_registration"), _ratio("spend", "user_registration", 1e-6, ".3f")),
    "cost_per_page_content_view_event": (
        ("spend", "page_content_view_events"),
        _ratio("spend", "page_content_view_events", 1e-6, ".3f"),
    ),
}
for _c in COUNT_COLUMNS:
    METRICS[_c] = ((_c,), (lambda c: lambda s: _count(s[c]))(_c))

# Attribute "metrics" (requested in `metrics`, valid from the listed levels downwards).
ATTRIBUTE_LEVELS: dict[str, tuple[str, ...]] = {
    "campaign_name": ("campaign", "adgroup", "ad"),
    "campaign_id": ("campaign", "adgroup", "ad"),
    "objective_type": ("campaign", "adgroup", "ad"),
    "adgroup_name": ("adgroup", "ad"),
    "adgroup_id": ("adgroup", "ad"),
    "promotion_type": ("adgroup", "ad"),
    "placement_type": ("adgroup", "ad"),
    "optimization_event": ("adgroup", "ad"),
    "ad_name": ("ad",),
    "ad_id": ("ad",),
    "currency": ("advertiser", "campaign", "adgroup", "ad"),
    "advertiser_name": ("advertiser", "campaign", "adgroup", "ad"),
    "advertiser_id": ("advertiser", "campaign", "adgroup", "ad"),
    "timezone": ("advertiser", "campaign", "adgroup", "ad"),
}
ALL_METRICS = frozenset(METRICS) | frozenset(ATTRIBUTE_LEVELS)
