"""Build the deterministic synthetic sandbox :class:`~.world.World` (vectorised numpy/pyarrow).

``generate_world(seed, scale, anchor, days, events)`` returns one consistent universe that both
sandbox servers serve: TikTok advertisers, campaigns, ad groups, ads, pixels and daily report
metrics, and the AppSprint app that measures them (Signal links, clicks, installs, events).
Same inputs => byte-identical tables. Nothing loops per row: loops are per entity or per day.

The shape of the world
----------------------
- Advertisers in non-UTC time zones: "Etc/GMT+8" (UTC-8, shown as America/Los_Angeles, USD),
  "Europe/Berlin" (DST, EUR) and, beyond ``tiny``, "Asia/Tokyo" (JPY).
- Local days run from ``local_date(anchor) - days`` to ``local_date(anchor + FUTURE_HORIZON)``
  per advertiser. ``ad_daily`` has a row per ad x local day on which the ad existed, *including
  the days after the anchor's local day* (the universe continues up to the horizon): a TikTok
  server must only show ``stat_date <= local date of its clock`` -- see
  :func:`.ground_truth.tiktok_report`, which does exactly what the server should.
- Clicks happen inside their ad-day's local-day interval (so the AppSprint click count of an ad-day
  is at most TikTok's ``clicks``). A share converts into installs minutes to hours later; organic
  installs have no click. Some attributions resolve late (a second install version).
- Every install yields an ``install`` event (``event_id`` = :func:`install_event_id`) plus
  post-install events; ~1% of events are delivered twice (same content, later ``updated_at``).
- AppSprint tables (``clicks``, ``installs``, ``events``) are sorted by (``updated_at``, id).
  ``events`` is a multi-chunk table for the big scales (pyarrow's 2 GiB per string array).

TikTok's conversion columns in ``ad_daily`` are credited to the **click (engagement) day** of the
attributed install (TikTok's rule for ``conversion``), converted into the advertiser currency with
:data:`FX_TO_USD` (revenue in a currency without a rate, e.g. BRL, is left out of TikTok's value).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import hashlib
import time
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .world import (
    AD_DAILY,
    ADGROUPS,
    ADS,
    ADVERTISERS,
    CAMPAIGNS,
    CLICKS,
    EVENTS,
    INSTALLS,
    MONEY,
    PIXELS,
    SIGNAL_LINKS,
    TS,
    Credentials,
    World,
)

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
# values track AppSprint revenue. BRL deliberately has no rate (DESIGN.md D2: flagged, not summed).
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
    # The TikTok sync benchmark: advertisers with 5 Sales campaigns x 2 ad groups x 50 ads each.
    "ads500": Preset(20_000, DEFAULT_DAYS, 2, (_W,) * 5, (50, 50), 0.0, 0.0),
}

ADVERTISER_SPECS: tuple[dict[str, str], ...] = (
    dict(
        name="Sprintly Quest US",
        currency="USD",
        timezone="Etc/GMT+8",
        display_timezone="America/Los_Angeles",
        country="US",
        company="Sprintly Labs Inc.",
        code="US",
    ),
    dict(
        name="Sprintly Quest EU",
        currency="EUR",
        timezone="Europe/Berlin",
        display_timezone="Europe/Berlin",
        country="DE",
        company="Sprintly Labs GmbH",
        code="EU",
    ),
    dict(
        name="Sprintly Quest JP",
        currency="JPY",
        timezone="Asia/Tokyo",
        display_timezone="Asia/Tokyo",
        country="JP",
        company="Sprintly Labs KK",
        code="JP",
    ),
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
MAPPED_EVENT_TYPES = EVENT_TYPES[:14]  # default-mapped (reference/appsprint.md)
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

_B36 = np.frombuffer(b"0123456789abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
_B64URL = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", dtype=np.uint8)
_UPPER_ALNUM = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", dtype=np.uint8)
_DEC_STRINGS = pa.array([str(i) for i in range(1000)], pa.string())
CHUNK_ROWS = 500_000
# Seconds per stage of the last generate_world() call in this process (for bench/bench_generate.py).
LAST_TIMINGS: dict[str, float] = {}


# ============================================================================================
# small helpers
# ============================================================================================
def to_us(t: dt.datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    return (t - EPOCH) // dt.timedelta(microseconds=1)


def from_us(us: int) -> dt.datetime:
    return EPOCH + dt.timedelta(microseconds=int(us))


def local_date(t: dt.datetime, tz: str) -> dt.date:
    return t.astimezone(ZoneInfo(tz)).date()


def local_midnights_us(tz: str, first: dt.date, last: dt.date) -> np.ndarray:
    """UTC instants (us) of local midnight of each date first..last (inclusive) in ``tz``."""
    zone = ZoneInfo(tz)
    n = (last - first).days + 1
    return np.array(
        [to_us(dt.datetime.combine(first + dt.timedelta(days=i), dt.time(), tzinfo=zone)) for i in range(n)],
        dtype=np.int64,
    )


def install_event_id(appsprint_id: str) -> str:
    """The stable ``event_id`` of an install's ``install`` event, derived from its appsprint_id:
    ``inst_`` + the id's 24 hex digits + 6 hex digits of a XOR fold of its 12 bytes (35 chars,
    the same width as ``ev_`` + 32 hex)."""
    raw = bytes.fromhex(appsprint_id.removeprefix("as_"))
    fold = bytes(raw[i] ^ raw[i + 3] ^ raw[i + 6] ^ raw[i + 9] for i in range(3))
    return "inst_" + raw.hex() + fold.hex()


def default_anchor() -> dt.datetime:
    return dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def _rng(seed: int, stream: str) -> np.random.Generator:
    key = int.from_bytes(hashlib.sha256(stream.encode()).digest()[:4], "little")
    return np.random.default_rng(np.random.SeedSequence([seed, key]))


def _digest(seed: int, label: str) -> bytes:
    return hashlib.sha256(f"signal-campaigns-sandbox:{seed}:{label}".encode()).digest()


def _credentials(seed: int) -> Credentials:
    def hex40(label: str) -> str:
        return _digest(seed, label).hex()[:40]

    app_id = "7" + str(int.from_bytes(_digest(seed, "tiktok_app_id")[:8], "little") % 10**18).zfill(18)
    return Credentials(
        tiktok_app_id=app_id,
        tiktok_app_secret=hex40("tiktok_app_secret"),
        tiktok_access_token=hex40("tiktok_access_token"),
        events_api_token=hex40("events_api_token"),
        standard_access_token=hex40("standard_access_token"),
        appsprint_app_id="app_" + _digest(seed, "appsprint_app_id").hex()[:16],
        appsprint_export_token="as_export_" + _digest(seed, "appsprint_export_token").hex()[:32],
    )


def _bitmap(valid: np.ndarray | None) -> pa.Buffer | None:
    if valid is None or bool(valid.all()):
        return None
    return pa.py_buffer(np.packbits(valid.astype(np.bool_), bitorder="little"))


def _ts(us: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    us = np.ascontiguousarray(us, dtype=np.int64)
    return pa.Array.from_buffers(TS, len(us), [_bitmap(valid), pa.py_buffer(us)])


def _money(unscaled: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """decimal128(18, 6) from int64 values already scaled by 10**6."""
    v = np.asarray(unscaled, dtype=np.int64)
    mat = np.empty((len(v), 2), dtype=np.int64)
    mat[:, 0] = v
    mat[:, 1] = v >> 63
    return pa.Array.from_buffers(MONEY, len(v), [_bitmap(valid), pa.py_buffer(mat)])


def _date32(days: np.ndarray) -> pa.Array:
    d = np.ascontiguousarray(days, dtype=np.int32)
    return pa.Array.from_buffers(pa.date32(), len(d), [None, pa.py_buffer(d)])


def _strings_fixed(mat: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """A string array from an (n, width) uint8 matrix of ASCII codes (zero-copy)."""
    mat = np.ascontiguousarray(mat, dtype=np.uint8)
    n, width = mat.shape
    offsets = np.arange(n + 1, dtype=np.int32) * np.int32(width)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(mat), _bitmap(valid))


def _gather_rows(mat: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``mat[idx]`` for a 2-D uint8 matrix, gathering whole rows as opaque items (much faster)."""
    mat = np.ascontiguousarray(mat)
    rows = mat.view(np.dtype((np.void, mat.shape[1]))).reshape(-1)
    return rows[idx].view(np.uint8).reshape(len(idx), mat.shape[1])


def _with_prefix(prefix: str, body: np.ndarray) -> np.ndarray:
    p = np.frombuffer(prefix.encode(), dtype=np.uint8)
    out = np.empty((body.shape[0], len(p) + body.shape[1]), dtype=np.uint8)
    out[:, : len(p)] = p
    out[:, len(p) :] = body
    return out


def _hex_body(raw: np.ndarray) -> np.ndarray:
    """(n, k) bytes -> (n, 2k) lower-case hex ASCII codes (bytes.hex runs at memory speed)."""
    n, k = raw.shape
    return np.frombuffer(np.ascontiguousarray(raw).tobytes().hex().encode("ascii"), dtype=np.uint8).reshape(n, 2 * k)


def _translate_body(raw: np.ndarray, alphabet: np.ndarray) -> np.ndarray:
    """Map each random byte to ``alphabet[byte % len(alphabet)]`` (one C pass, bytes.translate)."""
    table = bytes(alphabet[np.arange(256) % len(alphabet)])
    return np.frombuffer(np.ascontiguousarray(raw).tobytes().translate(table), dtype=np.uint8).reshape(raw.shape)


def _alphabet_body(rng: np.random.Generator, n: int, width: int, alphabet: np.ndarray) -> np.ndarray:
    return alphabet[rng.integers(0, len(alphabet), size=(n, width))]


def _take_pool(pool: Sequence[str] | pa.Array, idx: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """``pool[idx]`` as a plain string array (null where not ``valid``), via dictionary decoding."""
    arr = pool if isinstance(pool, pa.Array) else pa.array(list(pool), pa.string())
    indices = pa.array(np.asarray(idx, dtype=np.int32), mask=None if valid is None else ~np.asarray(valid, dtype=bool))
    return pa.DictionaryArray.from_arrays(indices, arr).cast(pa.string())


def _random_bytes(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    return rng.integers(0, 256, size=(n, k), dtype=np.uint8)


def _b64url_body(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    """(n, width) uniformly random url-safe base64 characters."""
    return _translate_body(_random_bytes(rng, n, width), _B64URL)


def _install_event_hex(id_raw: np.ndarray) -> np.ndarray:
    """(n, 30) hex codes of an install event id: the install's 12 id bytes + a 3-byte XOR fold."""
    fold = id_raw[:, 0:3] ^ id_raw[:, 3:6] ^ id_raw[:, 6:9] ^ id_raw[:, 9:12]
    return np.concatenate([_hex_body(id_raw), _hex_body(fold)], axis=1)


def _ipv4_strings(octets: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    parts = [pc.take(_DEC_STRINGS, pa.array(octets[:, i].astype(np.int32))) for i in range(4)]
    out = pc.binary_join_element_wise(*parts, ".")
    if valid is not None and not valid.all():
        out = pc.if_else(pa.array(valid), out, pa.nulls(len(out), pa.string()))
    return out


def _numeric_ids(rng: np.random.Generator, n: int, used: set[str]) -> list[str]:
    """n unique 19-digit numeric id strings (TikTok style, first digit 7)."""
    out: list[str] = []
    while len(out) < n:
        cand = "7" + str(int(rng.integers(10**17, 10**18)))
        if cand not in used:
            used.add(cand)
            out.append(cand)
    return out


def _pick(
    rng: np.random.Generator, candidates: np.ndarray, rate: float, minimum: int, maximum: int | None = None
) -> np.ndarray:
    """A deterministic random subset of ``candidates``: rate * n rows, at least ``minimum``."""
    k = max(minimum, int(round(rate * len(candidates))))
    if maximum is not None:
        k = min(k, maximum)
    k = min(k, len(candidates))
    if k == 0:
        return np.empty(0, dtype=np.int64)
    return np.sort(rng.choice(candidates, size=k, replace=False))


def _sorted_order(updated: np.ndarray, tiebreak: Any) -> np.ndarray:
    """Order by updated_at, ties by ``tiebreak(rows)``: sortable keys (the rows' ids) of tied rows.

    Timestamps are random microseconds, so ties are rare: the id keys are only computed for them.
    """
    order = np.argsort(updated)  # introsort: deterministic for a given input
    u = updated[order]
    ties = np.flatnonzero(u[1:] == u[:-1])
    if len(ties):
        starts = ties[np.r_[True, np.diff(ties) > 1]]
        for s in starts:  # per tie group (a handful), never per row
            e = s + 1
            while e < len(u) and u[e] == u[s]:
                e += 1
            grp = np.sort(order[s:e])
            keys = list(tiebreak(grp))
            order[s:e] = grp[sorted(range(len(grp)), key=keys.__getitem__)]
    return order


def _row_bytes(prefix: bytes, raw: np.ndarray):
    """tiebreak for :func:`_sorted_order`: ``prefix`` + the row's id bytes (orders like the id)."""
    return lambda rows: [prefix + bytes(raw[r]) for r in rows]


# ============================================================================================
# the generator
# ============================================================================================
def generate_world(
    seed: int = 7,
    scale: str = "demo",
    anchor: dt.datetime | None = None,
    days: int | None = None,
    events: int | None = None,
) -> World:
    """Generate the sandbox world for (seed, scale, anchor, days, events); deterministic."""
    if scale not in PRESETS:
        raise ValueError(f"unknown scale {scale!r}; choose one of {sorted(PRESETS)}")
    preset = PRESETS[scale]
    anchor = anchor or default_anchor()
    if anchor.tzinfo is None:
        raise ValueError("anchor must be timezone-aware")
    anchor = anchor.astimezone(UTC)
    days = preset.days if days is None else int(days)
    n_events = preset.events if events is None else int(events)
    if days < 7:
        raise ValueError("days must be >= 7")
    if n_events < 1_000:
        raise ValueError("events must be >= 1000")
    return _Generator(seed, scale, preset, anchor, days, n_events).build()


class _Generator:
    def __init__(self, seed: int, scale: str, preset: Preset, anchor: dt.datetime, days: int, n_events: int):
        self.seed, self.scale, self.preset = seed, scale, preset
        self.anchor, self.days, self.n_events = anchor, days, n_events
        self.anchor_us = to_us(anchor)
        self.horizon_end_us = to_us(anchor + FUTURE_HORIZON)
        self.notes: dict[str, Any] = {}
        self._lap_at = time.perf_counter()

    def _lap(self, name: str) -> None:
        now = time.perf_counter()
        LAST_TIMINGS[name] = LAST_TIMINGS.get(name, 0.0) + now - self._lap_at
        self._lap_at = now

    # ----------------------------------------------------------------------------------------
    def build(self) -> World:
        LAST_TIMINGS.clear()
        for stage in (self._structure, self._ad_days, self._clicks, self._installs, self._events, self._ad_daily):
            started = self._lap_at = time.perf_counter()
            stage()
            LAST_TIMINGS[stage.__name__.strip("_")] = time.perf_counter() - started
        tables = {
            "advertisers": self.t_advertisers,
            "campaigns": self.t_campaigns,
            "adgroups": self.t_adgroups,
            "ads": self.t_ads,
            "pixels": self.t_pixels,
            "ad_daily": self.t_ad_daily,
            "signal_links": self.t_links,
            "clicks": self.t_clicks,
            "installs": self.t_installs,
            "events": self.t_events,
        }
        self.notes.update(
            generator_version=GENERATOR_VERSION,
            days=self.days,
            events_requested=self.n_events,
            window_note="ad_daily runs to the local date of anchor + future_horizon; TikTok serves stat_date <= local date of its clock",
            conversion_credit="ad_daily conversions are credited to the click (engagement) day of the attributed install",
            fx_to_usd=dict(FX_TO_USD),
            currencies_without_rate=list(CURRENCIES_WITHOUT_RATE),
            mapped_event_types=list(MAPPED_EVENT_TYPES),
            unmapped_event_types=list(UNMAPPED_EVENT_TYPES),
        )
        world = World(
            seed=self.seed,
            scale=self.scale,
            anchor=self.anchor,
            future_horizon=FUTURE_HORIZON,
            tracking_domain=TRACKING_DOMAIN,
            credentials=_credentials(self.seed),
            tables=tables,
            notes=self.notes,
        )
        world.validate()
        return world

    # ----------------------------------------------------------------------------------------
    def _structure(self) -> None:
        """Advertisers, pixels, campaigns, Signal links, ad groups and ads (loops per entity)."""
        rng = _rng(self.seed, "structure")
        p = self.preset
        used: set[str] = set()
        horizon_end = from_us(self.horizon_end_us)
        self.adv: list[dict[str, Any]] = []
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
                dict(
                    advertiser_id=aid,
                    name=a["name"],
                    currency=a["currency"],
                    timezone=a["timezone"],
                    display_timezone=a["display_timezone"],
                    status="STATUS_ENABLE",
                    country=a["country"],
                    company=a["company"],
                    create_time=created,
                )
            )
            pixel_rows.append(
                dict(
                    advertiser_id=aid,
                    pixel_id=pid,
                    pixel_code=a["pixel_code"],
                    pixel_name=f"Sprintly Quest web pixel ({a['code']})",
                    pixel_setup_mode="DEVELOPER",
                    create_time=created + int(rng.integers(1, 20)) * DAY,
                )
            )

        def day_at(a: dict, frac: float, hour: int) -> tuple[int, int]:
            k = int(round(frac * (self.days - 1)))
            return k, int(a["mids"][k]) + hour * HOUR

        camp_rows, link_rows, ag_rows = [], [], []
        self.ads: list[dict[str, Any]] = []
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
                budget = int(round(500 * fx[i])) * 10**6
                camp_rows.append(
                    dict(
                        advertiser_id=a["id"],
                        campaign_id=cid,
                        campaign_name=cname,
                        objective_type=objective,
                        budget=budget,
                        budget_mode="BUDGET_MODE_DAY",
                        operation_status="DISABLE" if c_deleted else "ENABLE",
                        secondary_status="CAMPAIGN_STATUS_DELETE" if c_deleted else "CAMPAIGN_STATUS_ENABLE",
                        is_deleted=c_deleted is not None,
                        create_time=c_created,
                        modify_time=c_deleted or c_created + int(rng.integers(1, 10)) * DAY,
                    )
                )
                link_id = "sl_" + bytes(_alphabet_body(rng, 1, 12, _B36)[0]).decode()
                url = f"https://{TRACKING_DOMAIN}/s/{link_id}"
                l_created = c_created - 30 * MINUTE
                link_rows.append(
                    dict(
                        link_id=link_id,
                        app_id=None,
                        name=cname,
                        network="tiktok",
                        url=url,
                        advertiser_id=a["id"],
                        campaign_id=cid,
                        created_at=l_created,
                        updated_at=l_created,
                    )
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
                        dict(
                            advertiser_id=a["id"],
                            campaign_id=cid,
                            adgroup_id=gid,
                            adgroup_name=f"{a['code']} {kind} {ci + 1:02d} | {'iOS' if os_name == 'IOS' else 'Android'} | {opt}",
                            operating_system=os_name,
                            pixel_id=a["pixel_id"],
                            optimization_goal="CONVERT",
                            optimization_event=opt,
                            promotion_type="WEBSITE",
                            placement_type="PLACEMENT_TYPE_NORMAL",
                            placements=["PLACEMENT_TIKTOK"],
                            budget=int(round(100 * fx[i])) * 10**6,
                            operation_status="DISABLE" if g_deleted else "ENABLE",
                            secondary_status="ADGROUP_STATUS_DELETE" if g_deleted else "ADGROUP_STATUS_DELIVERY_OK",
                            is_deleted=g_deleted is not None,
                            create_time=g_created,
                            modify_time=g_deleted or g_created + int(rng.integers(1, 10)) * DAY,
                        )
                    )
                    n_ads = int(rng.integers(p.ads_per_adgroup[0], p.ads_per_adgroup[1] + 1))
                    roles = ["ordinary"] * n_ads
                    if ci == 0 and gi == 0 and i == 0:
                        roles += ["fallback", "deleted_late_installs"]
                    if ci == 0 and gi == 1 and i == 1:
                        roles += ["fallback"]
                    for ri, role in enumerate(roles):
                        ad = dict(
                            adv=i,
                            advertiser_id=a["id"],
                            campaign_id=cid,
                            campaign_name=cname,
                            adgroup_id=gid,
                            os=os_name,
                            opt=opt,
                            link_id=link_id,
                            link_url=url,
                            role=role,
                            created=g_created + HOUR + ri * MINUTE,
                            deleted=g_deleted,
                            paused=None,
                            pixel_id=a["pixel_id"],
                        )
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
        n_del = int(round(p.extra_deleted_share * len(ordinary)))
        if p.extra_deleted_share > 0:
            n_del = max(1, n_del)
        for k in rng.choice(ordinary, size=n_del, replace=False) if n_del else []:
            a = self.adv[self.ads[k]["adv"]]
            _, self.ads[k]["deleted"] = day_at(a, float(rng.uniform(0.2, 0.9)), int(rng.integers(8, 20)))
            self.ads[k]["role"] = "deleted"
        ordinary = [k for k in ordinary if self.ads[k]["deleted"] is None]
        n_new = int(round(p.new_ad_share * len(ordinary)))
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
                dict(
                    advertiser_id=ad["advertiser_id"],
                    campaign_id=ad["campaign_id"],
                    adgroup_id=ad["adgroup_id"],
                    ad_id=ad["ad_id"],
                    ad_name=ad["name"],
                    landing_page_url=lp,
                    signal_link_id=None if fallback else ad["link_id"],
                    tracking_pixel_id=ad["pixel_id"],
                    call_to_action="DOWNLOAD_NOW",
                    ad_format="SINGLE_VIDEO",
                    operation_status=op,
                    secondary_status=status,
                    is_deleted=ad["deleted"] is not None,
                    create_time=ad["created"],
                    modify_time=modify,
                )
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

    # ----------------------------------------------------------------------------------------
    def _ad_days(self) -> None:
        """One row per ad x local day on which it existed, with its effective UTC interval."""
        rng = _rng(self.seed, "ad_days")
        ad_k, day_k, d_start, d_end, e_start, e_end, epoch_day, active = [], [], [], [], [], [], [], []
        for k, ad in enumerate(self.ads):
            a = self.adv[ad["adv"]]
            mids = a["mids"]
            first_k = max(0, int(np.searchsorted(mids, ad["created"], side="right")) - 1)
            gone = ad["deleted"] if ad["deleted"] is not None else self.horizon_end_us
            last_k = min(a["ndays"] - 1, int(np.searchsorted(mids, gone - 1, side="right")) - 1)
            ks = np.arange(first_k, last_k + 1)
            if len(ks) == 0:
                continue
            ds, de = mids[ks], mids[ks + 1]
            es = np.maximum(ds, ad["created"])
            ee = np.minimum(de, gone)
            act = ee > es
            if ad["paused"] is not None:
                act &= ds < ad["paused"]
                ee = np.where(de > ad["paused"], np.minimum(ee, ad["paused"]), ee)
            ad_k.append(np.full(len(ks), k))
            day_k.append(ks)
            d_start.append(ds)
            d_end.append(de)
            e_start.append(es)
            e_end.append(np.maximum(ee, es))
            epoch_day.append(np.full(len(ks), (a["first"] - dt.date(1970, 1, 1)).days) + ks)
            active.append(act)
        self.ad_k = np.concatenate(ad_k)
        self.ad_day_k = np.concatenate(day_k)
        self.ad_e_start = np.concatenate(e_start)
        self.ad_e_end = np.concatenate(e_end)
        self.ad_epoch_day = np.concatenate(epoch_day)
        active = np.concatenate(active)
        n = len(self.ad_k)
        # random zero-activity days (existing ads, nothing delivered), ~3% + paused days
        zero = rng.random(n) < 0.03
        zero &= self.ad_e_end - self.ad_e_start > 6 * HOUR
        planted = np.array([ad["role"] == "deleted_late_installs" for ad in self.ads])
        zero &= ~planted[self.ad_k]  # keep the planted deleted ad's last day live
        self.ad_active = active & ~zero
        # weights: ad quality x weekday x trend x noise x share of the day the ad was live
        n_ads = len(self.ads)
        quality = rng.lognormal(0.0, 0.5, n_ads)
        weekday = (self.ad_epoch_day + 3) % 7  # 0 = Monday
        wd_factor = np.where(weekday >= 5, 1.15, 1.0)
        trend = 1.0 + 0.01 * self.ad_day_k
        frac = (self.ad_e_end - self.ad_e_start) / DAY
        self.ad_weight = quality[self.ad_k] * wd_factor * trend * rng.lognormal(0, 0.25, n) * frac * self.ad_active
        self.ad_is_fallback = np.array([self.ads[k]["role"] == "fallback" for k in range(n_ads)])[self.ad_k]
        self.ad_ctr = rng.uniform(0.006, 0.02, n_ads)
        self.ad_cpm_usd = rng.uniform(4.0, 12.0, n_ads)
        self.ad_conv = np.clip(0.25 * rng.lognormal(0, 0.3, n_ads), 0.06, 0.6)

    # ----------------------------------------------------------------------------------------
    def _clicks(self) -> None:
        rng = _rng(self.seed, "clicks")
        # sizing: ~10 events per install, ~72% of installs attributed, ~25% of clicks install
        n_installs_target = self.n_events * 0.99 / 10.0
        n_clicks = max(50, int(round(n_installs_target * 0.72 / float(np.mean(self.ad_conv)))))
        w = np.where(self.ad_is_fallback, 0.0, self.ad_weight)
        counts = rng.multinomial(n_clicks, w / w.sum())
        # planted: the deleted ad's last day has clicks whose installs land after its deletion
        late_k = next(k for k, ad in enumerate(self.ads) if ad["role"] == "deleted_late_installs")
        rows = np.flatnonzero((self.ad_k == late_k) & self.ad_active)
        self.late_ad_last_row = int(rows[-1])
        counts[self.late_ad_last_row] = max(counts[self.late_ad_last_row], 6)
        self.ad_as_clicks = counts
        n = int(counts.sum())
        row = np.repeat(np.arange(len(counts)), counts)
        # local hour profile: quiet at night, peak in the evening
        hourly = np.array([2, 1, 1, 1, 1, 2, 3, 4, 5, 5, 5, 5, 6, 6, 6, 6, 6, 7, 8, 9, 10, 10, 8, 4], dtype=float)
        hour = rng.choice(24, size=n, p=hourly / hourly.sum())
        frac = (hour + rng.random(n)) / 24.0
        span = self.ad_e_end[row] - self.ad_e_start[row]
        clicked = self.ad_e_start[row] + (frac * span).astype(np.int64)
        clicked = np.minimum(clicked, self.ad_e_end[row] - 1)
        ad_k = self.ad_k[row]
        is_ios = np.array([ad["os"] == "IOS" for ad in self.ads])[ad_k]
        ua = np.where(is_ios, rng.integers(0, N_IOS_UA, n), rng.integers(N_IOS_UA, len(USER_AGENTS), n))
        octets = rng.integers(1, 255, size=(n, 4), dtype=np.uint8)
        octets[:, 0] = PUBLIC_FIRST_OCTETS[rng.integers(0, len(PUBLIC_FIRST_OCTETS), n)]
        raw_id = _random_bytes(rng, n, 10)
        updated = clicked + rng.integers(1 * SECOND, 8 * SECOND, n)
        order = _sorted_order(updated, _row_bytes(b"", raw_id))
        row, clicked, updated, ad_k, is_ios, ua, octets, raw_id = (
            _gather_rows(x, order) if x.ndim == 2 else x[order]
            for x in (row, clicked, updated, ad_k, is_ios, ua, octets, raw_id)
        )
        self.c_row, self.c_at, self.c_ad, self.c_ios, self.c_ua, self.c_oct = row, clicked, ad_k, is_ios, ua, octets
        self.n_clicks = n
        ttclid = _with_prefix("E.C.P.", _b64url_body(rng, n, 40))
        ad_id = np.array([ad["ad_id"] for ad in self.ads])
        self.c_ids = _strings_fixed(_with_prefix("clk_", _hex_body(raw_id)))
        self.t_clicks = pa.Table.from_arrays(
            [
                self.c_ids,
                _take_pool([ad["link_id"] for ad in self.ads], ad_k),
                _ts(clicked),
                _strings_fixed(ttclid),
                _take_pool([ad["campaign_id"] for ad in self.ads], ad_k),
                _take_pool([ad["adgroup_id"] for ad in self.ads], ad_k),
                _take_pool(list(ad_id), ad_k),
                _take_pool(["TikTok"], np.zeros(n, dtype=np.int32)),
                _ipv4_strings(octets),
                _take_pool(USER_AGENTS, ua),
                pc.if_else(pa.array(is_ios), "ios", "android"),
                _ts(updated),
            ],
            schema=CLICKS,
        )

    # ----------------------------------------------------------------------------------------
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
        n_o = int(round(n_a * 0.39))
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
        self.i_hex = hexid
        appsprint_id = _strings_fixed(_with_prefix("as_", hexid))
        self.i_ids = appsprint_id
        self.i_ip = _ipv4_strings(octets, ip_valid)
        self.i_ua = _take_pool(USER_AGENTS, ua, ua_valid)
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
        cvalid = attributed_row
        ad_of_click = self.c_ad[cidx] if n_c else np.zeros(len(rows), dtype=np.int64)
        match = np.where(~attributed_row, 2, np.where(ipua[rows], 1, 0))
        rows_pa = pa.array(rows.astype(np.int64))
        self.t_installs = pa.Table.from_arrays(
            [
                pc.take(appsprint_id, rows_pa),
                _ts(at[rows]),
                pc.if_else(pa.array(ios[rows]), "ios", "android"),
                _take_pool(APP_VERSIONS, version[rows]),
                _take_pool(COUNTRIES, country[rows]),
                pc.take(self.i_ip, rows_pa),
                pc.take(self.i_ua, rows_pa),
                pc.if_else(pa.array(attributed_row), "attributed", "organic"),
                pc.if_else(pa.array(attributed_row), pa.scalar("tiktok"), pa.scalar(None, pa.string())),
                _take_pool(("ttclid", "ip_user_agent", "organic"), match),
                pa.array(confidence[rows], mask=~attributed_row),
                _take_pool([ad["link_id"] for ad in self.ads], ad_of_click, cvalid),
                pc.take(self.c_ids, pa.array(cidx.astype(np.int64), mask=~cvalid))
                if n_c
                else pa.nulls(len(rows), pa.string()),
                _ts(updated),
                _ts(superseded, superseded > 0),
            ],
            schema=INSTALLS,
        )
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

    # ----------------------------------------------------------------------------------------
    def _events(self) -> None:
        rng = _rng(self.seed, "events")
        n_i = self.i_n
        n_dup = int(round(0.01 * self.n_events))
        n_unique = self.n_events - n_dup
        n_post = n_unique - n_i
        if n_post < 0:
            raise ValueError(f"events={self.n_events} is too small for {n_i} installs")
        end = self.horizon_end_us
        age = (end - self.i_at) / DAY
        weight = rng.lognormal(0.0, 1.0, n_i) * (age + 0.5) ** 0.7
        per_install = rng.multinomial(n_post, weight / weight.sum())
        idx_dtype = np.int32 if n_i < 2**31 else np.int64
        inst = np.concatenate(
            [np.arange(n_i, dtype=idx_dtype), np.repeat(np.arange(n_i, dtype=idx_dtype), per_install)]
        )
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
        delay[:n_i] = self.i_first_upd - self.i_at  # the install event arrives with the install
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
                ("event_too_large", 0.0004, base_cand, 300),
            )
        ):
            c = np.flatnonzero(cands & (hostile == 0))
            sel = _pick(rng, c, rate, 3, cap)
            hostile[sel] = h + 1
            self.notes[f"hostile_{kind}"] = len(sel)
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
        self.e_inst, self.e_type, self.e_env, self.e_hostile = inst, etype, env, hostile
        self.e_rev, self.e_has_rev, self.e_cur = rev, has_rev, cur

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
        self.notes.update(
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
        self.notes["hashed_customer_user_id_installs"] = int((cu_kind == 2).sum())
        inst_id_mat = _with_prefix("inst_", _install_event_hex(i_raw))  # (n_i, 35)
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
            idmat[irows] = _gather_rows(inst_id_mat, ins[irows])
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
                    pc.take(cu, ins_pa),
                    params,
                    _ts(updated[s:e]),
                    _take_pool(HOSTILE_KINDS, np.maximum(h - 1, 0), h > 0),
                ],
                schema=EVENTS,
            )

        starts = list(range(0, len(src), CHUNK_ROWS))
        if len(starts) > 1:
            with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
                batches = list(pool.map(make_batch, starts))
        else:
            batches = [make_batch(s) for s in starts]
        self._lap("events.materialise")
        self.t_events = pa.Table.from_batches(batches, schema=EVENTS)
        if len(dup_src):
            pos = np.flatnonzero(np.isin(src, dup_src[:3]))
            self.notes["example_duplicate_event_ids"] = sorted(
                {self.t_events.column("event_id")[int(p)].as_py() for p in pos}
            )
        else:
            self.notes["example_duplicate_event_ids"] = []

    # ----------------------------------------------------------------------------------------
    def _ad_daily(self) -> None:
        rng = _rng(self.seed, "ad_daily")
        n = len(self.ad_k)
        n_ads = len(self.ads)
        adv_of_ad = np.array([ad["adv"] for ad in self.ads])
        adv_cur = [a["currency"] for a in self.adv]
        # AppSprint side aggregated per ad-day of the click (TikTok credits the engagement day)
        attr = self.i_attr_final
        inst_row = np.full(self.i_n, -1)
        inst_row[attr] = self.c_row[self.i_click[attr]]
        att_inst = np.bincount(inst_row[attr], minlength=n)
        ev_row = inst_row[self.e_inst]
        ok = (ev_row >= 0) & (self.e_env == 0) & (self.e_hostile == 0)

        def count(types: Sequence[str]) -> np.ndarray:
            lut = np.zeros(len(EVENT_TYPES), dtype=bool)
            lut[[ET[t] for t in types]] = True
            m = ok & lut[self.e_type]
            return np.bincount(ev_row[m], minlength=n)

        # revenue converted into the advertiser currency (hundredths)
        rate = np.array([FX_TO_USD.get(c, np.nan) for c in CURRENCIES])
        ev_adv = adv_of_ad[self.ad_k[np.maximum(ev_row, 0)]]
        adv_rate = np.array([FX_TO_USD[c] for c in adv_cur])

        def value(t: str) -> np.ndarray:
            m = ok & (self.e_type == ET[t]) & self.e_has_rev & ~np.isnan(rate[self.e_cur])
            conv = self.e_rev[m] * rate[self.e_cur[m]] / adv_rate[ev_adv[m]]
            return np.bincount(ev_row[m], weights=conv, minlength=n)

        def noisy(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
            return np.round(x * rng.uniform(lo, hi, len(x))).astype(np.int64)

        purchases, purchase_value = count(["purchase"]), value("purchase")
        subs, sub_value = count(["subscribe"]), value("subscribe")
        trials, regs = count(["start_trial"]), count(["sign_up", "register"])
        views = count(["session_start", "view_content", "view_item"])
        download = noisy(att_inst, 0.7, 1.2)
        f_pay = rng.uniform(0.85, 1.1, n)
        f_sub = rng.uniform(0.85, 1.1, n)
        complete_payment = np.round(purchases * f_pay).astype(np.int64)
        payment_value = np.round(purchase_value * f_pay).astype(np.int64)  # hundredths
        on_web_subscribe = np.round(subs * f_sub).astype(np.int64)
        subscribe_value = np.round(sub_value * f_sub).astype(np.int64)
        start_trial = noisy(trials, 0.8, 1.1)
        registration = noisy(regs, 0.8, 1.1)
        page_views = noisy(views, 0.6, 1.0)
        # TikTok clicks: AppSprint's + a few more; fallback ads have their own traffic
        as_clicks = self.ad_as_clicks
        tt_clicks = as_clicks + rng.poisson(as_clicks * 0.05 + 0.3)
        fb = self.ad_is_fallback & self.ad_active
        typical = (
            float(as_clicks[~self.ad_is_fallback & self.ad_active].mean())
            if (~self.ad_is_fallback & self.ad_active).any()
            else 5.0
        )
        tt_clicks[fb] = rng.poisson(
            typical * self.ad_weight[fb] / max(float(np.mean(self.ad_weight[self.ad_active])), 1e-9)
        )
        fb_dl = rng.binomial(tt_clicks[fb], 0.22)
        download[fb] = fb_dl
        fb_pay = rng.binomial(fb_dl, 0.12)
        complete_payment[fb] = fb_pay
        adv_fx = np.array([1.0 / FX_TO_USD[c] for c in adv_cur])[adv_of_ad[self.ad_k[fb]]]
        payment_value[fb] = np.round(fb_pay * rng.uniform(4.0, 12.0, int(fb.sum())) * 100 * adv_fx).astype(np.int64)
        fb_sub = rng.binomial(fb_dl, 0.05)
        on_web_subscribe[fb] = fb_sub
        subscribe_value[fb] = np.round(fb_sub * 999 * adv_fx).astype(np.int64)
        start_trial[fb] = rng.binomial(fb_dl, 0.1)
        registration[fb] = rng.binomial(fb_dl, 0.3)
        page_views[fb] = rng.binomial(fb_dl, 0.9) * 3
        impressions = np.round(tt_clicks / self.ad_ctr[self.ad_k] * rng.uniform(0.9, 1.1, n)).astype(np.int64)
        impressions = np.maximum(impressions, rng.poisson(40, n))
        ad_fx = np.array([1.0 / FX_TO_USD[c] for c in adv_cur])[adv_of_ad[self.ad_k]]
        spend_milli = np.round(impressions * self.ad_cpm_usd[self.ad_k] * ad_fx).astype(np.int64)  # /1000 * 1000
        # zero-activity ad-days: everything zero
        z = ~self.ad_active
        for arr in (tt_clicks, impressions, spend_milli):
            arr[z] = 0
        opt_col = {
            "Purchase": complete_payment,
            "Subscribe": on_web_subscribe,
            "StartTrial": start_trial,
            "CompleteRegistration": registration,
        }
        conversion = np.zeros(n, dtype=np.int64)
        opt_of_ad = np.array([ad["opt"] for ad in self.ads])[self.ad_k]
        for name, col in opt_col.items():
            conversion = np.where(opt_of_ad == name, col, conversion)
        assert (tt_clicks >= as_clicks).all()
        order = np.lexsort((self.ad_k, self.ad_epoch_day))  # by day, then ad
        ad_ids = [ad["ad_id"] for ad in self.ads]
        adv_ids = [a["id"] for a in self.adv]
        cols = [
            _take_pool(adv_ids, adv_of_ad[self.ad_k]),
            _take_pool(ad_ids, self.ad_k),
            _date32(self.ad_epoch_day),
            _money(spend_milli * 1000),
            pa.array(impressions),
            pa.array(tt_clicks),
            pa.array(conversion),
            pa.array(conversion),
            pa.array(download),
            pa.array(complete_payment),
            _money(payment_value * 10_000),
            pa.array(on_web_subscribe),
            _money(subscribe_value * 10_000),
            pa.array(start_trial),
            pa.array(registration),
            pa.array(page_views),
        ]
        self.t_ad_daily = pa.Table.from_arrays(cols, schema=AD_DAILY).take(pa.array(order))
        self.notes.update(
            ad_days=int(n),
            zero_activity_ad_days=int(z.sum()),
            appsprint_clicks=int(as_clicks.sum()),
            tiktok_clicks=int(tt_clicks.sum()),
            late_installs_after_deletion=int(self._installs_after_deletion()),
        )

    def _installs_after_deletion(self) -> int:
        """Attributed installs of deleted ads that happen on a local day after the deletion day."""
        total = 0
        attr = np.flatnonzero(self.i_attr_final)
        ad_of = self.c_ad[self.i_click[attr]]
        for k, ad in enumerate(self.ads):
            if ad["deleted"] is None:
                continue
            mids = self.adv[ad["adv"]]["mids"]
            del_day_end = mids[np.searchsorted(mids, ad["deleted"], side="right")]
            total += int(((ad_of == k) & (self.i_at[attr] >= del_day_end)).sum())
        return total
