"""The shape of the synthetic world: scales, advertisers, countries, devices, app versions,
prices, event types and the hostile values planted in it (declarative tables)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np

# Bump when the generated content changes (the world cache keys on it).
GENERATOR_VERSION = "1"

UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
SECOND = 1_000_000  # microseconds
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

FUTURE_HORIZON = dt.timedelta(days=3)
TRACKING_DOMAIN = "sandbox.appsprint.link"
DEFAULT_DAYS = 35

# Fixed FX rates (1 unit of the currency in USD) the generator uses to make TikTok's reported
# values track AppSprint revenue. BRL deliberately has no rate (flagged, not summed: docs/decisions/0002-currency-and-fx.md).
FX_TO_USD: dict[str, float] = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27, "JPY": 1.0 / 150.0}
CURRENCIES_WITHOUT_RATE: tuple[str, ...] = ("BRL",)

SIGNAL_LINK_MACROS = (
    "campaign_id=__CAMPAIGN_ID__&campaign_name=__CAMPAIGN_NAME__&adgroup_id=__AID__&ad_id=__CID__"
    "&ad_name=__CID_NAME__&placement=__PLACEMENT__&ttclid=__CLICKID__&callback=__CALLBACK_PARAM__"
    "&ip=__IP__&ua=__UA__"
)
STORE_URLS = {
    "IOS": "https://apps.apple.com/app/id6443219876",
    "ANDROID": "https://play.google.com/store/apps/details?id=app.sprintly.quest",
}


@dataclasses.dataclass(frozen=True)
class Preset:
    events: int
    days: int
    advertisers: int
    campaigns: tuple[str, ...]  # objectives per advertiser
    ads_per_adgroup: tuple[int, int]  # inclusive range
    extra_deleted_share: float  # share of ordinary ads deleted on a random day
    new_ad_share: float  # share of ordinary ads launched inside the window


_W, _L = "WEB_CONVERSIONS", "LEAD_GENERATION"
PRESETS: dict[str, Preset] = {
    "tiny": Preset(3_000, DEFAULT_DAYS, 2, (_W, _L), (1, 1), 0.0, 0.0),
    "demo": Preset(150_000, DEFAULT_DAYS, 3, (_W, _W, _L), (2, 3), 0.06, 0.10),
    "1m": Preset(1_000_000, DEFAULT_DAYS, 3, (_W, _W, _L, _W), (3, 4), 0.06, 0.10),
    "10m": Preset(10_000_000, 90, 3, (_W, _W, _L, _W, _W, _L), (4, 5), 0.06, 0.10),
    # The scale curve (bench/bench_scale.py): the 10m world's structure with more events a day.
    "30m": Preset(30_000_000, 90, 3, (_W, _W, _L, _W, _W, _L), (4, 5), 0.06, 0.10),
    "100m": Preset(100_000_000, 90, 3, (_W, _W, _L, _W, _W, _L), (4, 5), 0.06, 0.10),
    # The TikTok sync benchmark: advertisers with 5 Sales campaigns x 2 ad groups x 50 ads each.
    "ads500": Preset(20_000, DEFAULT_DAYS, 2, (_W,) * 5, (50, 50), 0.0, 0.0),
}

ADVERTISER_SPECS: tuple[dict[str, str], ...] = (
    {
        "name": "Sprintly Quest US",
        "currency": "USD",
        "timezone": "Etc/GMT+8",
        "display_timezone": "America/Los_Angeles",
        "country": "US",
        "company": "Sprintly Labs Inc.",
        "code": "US",
    },
    {
        "name": "Sprintly Quest EU",
        "currency": "EUR",
        "timezone": "Europe/Berlin",
        "display_timezone": "Europe/Berlin",
        "country": "DE",
        "company": "Sprintly Labs GmbH",
        "code": "EU",
    },
    {
        "name": "Sprintly Quest JP",
        "currency": "JPY",
        "timezone": "Asia/Tokyo",
        "display_timezone": "Asia/Tokyo",
        "country": "JP",
        "company": "Sprintly Labs KK",
        "code": "JP",
    },
)

# ---- people, devices, money -----------------------------------------------------------------
COUNTRIES = ("US", "CA", "MX", "BR", "DE", "AT", "FR", "NL", "ES", "GB", "JP")
CURRENCIES = ("USD", "EUR", "GBP", "JPY", "BRL")
COUNTRY_CURRENCY = np.array([0, 0, 0, 4, 1, 1, 1, 1, 1, 2, 3], dtype=np.int8)
ADV_COUNTRY_P = (
    {"US": 0.86, "CA": 0.07, "MX": 0.05, "BR": 0.02},
    {"DE": 0.60, "AT": 0.10, "FR": 0.12, "NL": 0.10, "ES": 0.08},
    {"JP": 0.95, "US": 0.05},
)
ORGANIC_COUNTRY_P = {
    "US": 0.42,
    "CA": 0.03,
    "DE": 0.18,
    "FR": 0.05,
    "GB": 0.06,
    "JP": 0.14,
    "NL": 0.04,
    "ES": 0.03,
    "BR": 0.02,
    "MX": 0.03,
}
APP_VERSIONS = ("3.4.0", "3.4.2", "3.5.0", "3.5.1", "3.6.0")
APP_VERSION_P = (0.08, 0.12, 0.25, 0.30, 0.25)

# Prices in hundredths of the currency unit, per currency (rows follow CURRENCIES).
PURCHASE_PRICES = np.array(
    [
        [99, 199, 499, 999, 1999, 4999],
        [99, 199, 499, 999, 1999, 4999],
        [99, 199, 499, 999, 1999, 4999],
        [16000, 32000, 80000, 160000, 300000, 800000],
        [590, 990, 2490, 4990, 9990, 24990],
    ],
    dtype=np.int64,
)
PURCHASE_P = (0.25, 0.25, 0.2, 0.15, 0.1, 0.05)
SUBSCRIBE_PRICES = np.array(
    [
        [499, 999, 2999, 5999],
        [499, 999, 2999, 5999],
        [499, 999, 2999, 5999],
        [80000, 160000, 450000, 900000],
        [1990, 4990, 9990, 19990],
    ],
    dtype=np.int64,
)
SUBSCRIBE_P = (0.3, 0.4, 0.2, 0.1)

_IOS_VERSIONS = ("16_7_10", "17_4_1", "17_5_1", "17_6_1", "18_0_1", "18_1", "18_2_1", "18_3_2")
_TT_VERSIONS = ("36.5.0", "37.1.0", "37.8.0")
_ANDROID_DEVICES = (
    ("14", "Pixel 8", "AP2A.240805.005"),
    ("14", "SM-S921B", "UP1A.231005.007"),
    ("13", "SM-A536B", "TP1A.220624.014"),
    ("14", "23078PND5G", "UKQ1.230804.001"),
    ("13", "CPH2451", "TP1A.220905.001"),
    ("12", "moto g(60)", "S2RIS32.32-20-5"),
    ("14", "SM-G991B", "UP1A.231005.007"),
    ("15", "Pixel 7a", "AP3A.241005.015"),
)
_CHROME_VERSIONS = ("124.0.6367.179", "126.0.6478.122", "128.0.6613.127")
# TikTok's in-app browser (the click) and the app's WebView (the SDK's install traits) report the
# same WebView user agent, which is what makes `ip_user_agent` matching possible.
IOS_USER_AGENTS = tuple(
    f"Mozilla/5.0 (iPhone; CPU iPhone OS {v} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    f"Mobile/15E148 musical_ly_{t}"
    for v in _IOS_VERSIONS
    for t in _TT_VERSIONS
)
ANDROID_USER_AGENTS = tuple(
    f"Mozilla/5.0 (Linux; Android {a}; {m}; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
    f"Version/4.0 Chrome/{c} Mobile Safari/537.36"
    for a, m, _b in _ANDROID_DEVICES
    for c in _CHROME_VERSIONS
)
USER_AGENTS = IOS_USER_AGENTS + ANDROID_USER_AGENTS
N_IOS_UA = len(IOS_USER_AGENTS)

# First octets of ordinary public IPv4 space (no 0, 10, 100, 127, 169, 172, 192, 198, 203, 224+).
PUBLIC_FIRST_OCTETS = np.array(
    [
        2,
        5,
        23,
        24,
        31,
        37,
        45,
        46,
        47,
        50,
        62,
        66,
        67,
        68,
        69,
        70,
        71,
        73,
        74,
        75,
        76,
        78,
        79,
        80,
        81,
        82,
        83,
        84,
        85,
        86,
        87,
        88,
        89,
        90,
        91,
        92,
        93,
        94,
        95,
        98,
        99,
        104,
        107,
        108,
        109,
        118,
        126,
        133,
        139,
        141,
        142,
        146,
        151,
        153,
        173,
        174,
        176,
        178,
        185,
        188,
        193,
        195,
        212,
        213,
        217,
    ],
    dtype=np.uint8,
)

# ---- events ---------------------------------------------------------------------------------
EVENT_TYPES = (
    "install",
    "session_start",
    "sign_up",
    "register",
    "start_trial",
    "subscribe",
    "purchase",
    "initiate_checkout",
    "add_payment_info",
    "add_to_cart",
    "add_to_wishlist",
    "view_content",
    "view_item",
    "search",
    "login",
    "achieve_level",
    "level_start",
    "level_complete",
    "tutorial_complete",
    "share",
    "custom",
)
ET = {name: i for i, name in enumerate(EVENT_TYPES)}
MAPPED_EVENT_TYPES = EVENT_TYPES[:14]  # default-mapped (docs/appsprint_integration.md)
UNMAPPED_EVENT_TYPES = EVENT_TYPES[14:]
POST_INSTALL_P = np.array(
    [
        0.0,
        0.30,
        0.025,
        0.012,
        0.02,
        0.018,
        0.035,
        0.025,
        0.015,
        0.04,
        0.015,
        0.09,
        0.07,
        0.04,
        0.08,
        0.035,
        0.05,
        0.045,
        0.02,
        0.02,
        0.03,
    ]
)
POST_INSTALL_P = POST_INSTALL_P / POST_INSTALL_P.sum()
PARAM_TEMPLATES = (
    ('{"first_launch":true,"build":', "}"),
    ('{"session_number":', "}"),
    ('{"method":"email","step":', "}"),
    ('{"method":"apple","step":', "}"),
    ('{"product_id":"pro_trial_7d","offer":', "}"),
    ('{"product_id":"pro_monthly","period_index":', "}"),
    ('{"product_id":"coins_pack_', '","quantity":1}'),
    ('{"product_id":"coins_pack_', '","step":"checkout"}'),
    ('{"payment_method":"card","attempt":', "}"),
    ('{"item_id":"sku_', '","quantity":1}'),
    ('{"item_id":"sku_', '"}'),
    ('{"content_id":"guide_', '","content_type":"article"}'),
    ('{"item_id":"sku_', '","list":"shop"}'),
    ('{"search_string":"level ', '"}'),
    ('{"method":"email","days_since_last":', "}"),
    ('{"level":', "}"),
    ('{"level":', ',"mode":"story"}'),
    ('{"level":', ',"stars":3}'),
    ('{"step":', "}"),
    ('{"channel":"tiktok","item":', "}"),
    ('{"reason":"code_', '"}'),
)
SOURCES = ("sdk", "revenuecat", "superwall")
ENVIRONMENTS = ("production", "sandbox")
CUSTOM_NAMES = (
    ("onboarding_step_done", "paywall_viewed"),
    ("revenuecat:cancellation", "revenuecat:expiration", "revenuecat:billing_issue", "revenuecat:product_change"),
    ("superwall:paywall_open", "superwall:paywall_close"),
)
HOSTILE_KINDS = ("bad_timestamp", "bad_currency", "negative_revenue", "event_too_large")
BAD_TIMESTAMPS = ("2026-13-45T25:61:00Z", "2026-02-30T10:00:00Z", "not-a-timestamp", "31/12/2025 24:00")
BAD_CURRENCIES = ("usd1", "US", "EURO", "$")
TOO_LARGE_PARAMETERS = '{"blob":"' + "A" * 17_000 + '"}'  # > 16 KiB: the SDK's per-event cap
