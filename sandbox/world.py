"""The sandbox world: the data contract shared by the generator and both sandbox servers.

One :class:`World` is one consistent synthetic universe: TikTok advertisers, campaigns, ad groups,
ads, pixels and daily report metrics, and the AppSprint app that measures them (Signal links,
clicks, installs, in-app events). Both servers serve the same ``World``; the generator
(:mod:`.generate`) builds it from a seed and a scale; :mod:`.ground_truth` derives the expected
pipeline output from it.

Conventions (every table):
- Tables are :class:`pyarrow.Table` objects with exactly the schemas below.
- TikTok ids are 19-digit numeric **strings**; AppSprint ids are opaque strings.
- Every timestamp column is ``timestamp[us, tz=UTC]``; local days are ``date32`` in the
  advertiser's ``timezone`` (docs/decisions/0001-day-boundary.md).
- Money is ``decimal128(18, 6)`` in the raw world; the TikTok server formats it as strings.

The sandbox clock
-----------------
The world is generated around an ``anchor`` instant ("now" when the servers start). It contains
rows whose ``updated_at`` lies *after* the anchor (up to ``World.future_horizon``): late
attributions, late and re-delivered events, and restated TikTok conversions. They become
visible when the server clock advances (``POST /_sandbox/clock``), so tests can watch data
change "between calls" deterministically. A server only shows rows with ``updated_at <= clock``
(AppSprint) and conversion metrics settled as of ``clock`` (TikTok, see ``ad_daily``).

Visibility of AppSprint rows: a row is visible at clock ``c`` when ``updated_at <= c`` and
(``superseded_at`` is null or ``superseded_at > c``). ``superseded_at`` exists on ``installs``
only: an install's attribution resolved late is a second row with the same ``appsprint_id`` and a
later ``updated_at``; the first row is superseded at that instant. Re-delivered events are two rows
with the same ``event_id`` and identical content but different ``updated_at``; both are visible
(the API really delivers them twice).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")
MONEY = pa.decimal128(18, 6)

ADVERTISERS = pa.schema(
    [
        ("advertiser_id", pa.string()),
        ("name", pa.string()),
        ("currency", pa.string()),  # ISO 4217: spend currency
        ("timezone", pa.string()),  # IANA name used for report days (advertiser/info `timezone`)
        ("display_timezone", pa.string()),
        ("status", pa.string()),  # STATUS_ENABLE | STATUS_LIMIT ...
        ("country", pa.string()),
        ("company", pa.string()),
        ("create_time", TS),
    ]
)

CAMPAIGNS = pa.schema(
    [
        ("advertiser_id", pa.string()),
        ("campaign_id", pa.string()),
        ("campaign_name", pa.string()),
        # WEB_CONVERSIONS (the "Sales" objective) or LEAD_GENERATION
        ("objective_type", pa.string()),
        ("budget", MONEY),
        ("budget_mode", pa.string()),
        ("operation_status", pa.string()),  # ENABLE | DISABLE
        ("secondary_status", pa.string()),  # CAMPAIGN_STATUS_ENABLE | ..._DISABLE | ..._DELETE
        ("is_deleted", pa.bool_()),
        ("create_time", TS),
        ("modify_time", TS),
    ]
)

ADGROUPS = pa.schema(
    [
        ("advertiser_id", pa.string()),
        ("campaign_id", pa.string()),
        ("adgroup_id", pa.string()),
        ("adgroup_name", pa.string()),
        ("operating_system", pa.string()),  # IOS | ANDROID (one OS per ad group)
        ("pixel_id", pa.string()),
        ("optimization_goal", pa.string()),  # CONVERT
        # TikTok web event the ad group optimises for: Purchase, Subscribe, StartTrial,
        # CompleteRegistration. One planted ad group uses StartTrial in a WEB_CONVERSIONS campaign.
        ("optimization_event", pa.string()),
        ("promotion_type", pa.string()),  # WEBSITE
        ("placement_type", pa.string()),  # PLACEMENT_TYPE_NORMAL
        ("placements", pa.list_(pa.string())),  # ["PLACEMENT_TIKTOK"]
        ("budget", MONEY),
        ("operation_status", pa.string()),
        ("secondary_status", pa.string()),  # ADGROUP_STATUS_DELIVERY_OK | ..._DELETE ...
        ("is_deleted", pa.bool_()),
        ("create_time", TS),
        ("modify_time", TS),
    ]
)

ADS = pa.schema(
    [
        ("advertiser_id", pa.string()),
        ("campaign_id", pa.string()),
        ("adgroup_id", pa.string()),
        ("ad_id", pa.string()),
        ("ad_name", pa.string()),
        # Normally the campaign's Signal link URL with TikTok macros. Planted: some ads use a
        # plain store URL instead (AppSprint sees no clicks for them: the fallback case).
        ("landing_page_url", pa.string()),
        ("signal_link_id", pa.string()),  # null when landing_page_url is not a Signal link
        ("tracking_pixel_id", pa.string()),
        ("call_to_action", pa.string()),
        ("ad_format", pa.string()),
        ("operation_status", pa.string()),
        ("secondary_status", pa.string()),  # AD_STATUS_DELIVERY_OK | AD_STATUS_DELETE ...
        ("is_deleted", pa.bool_()),
        ("create_time", TS),
        ("modify_time", TS),
    ]
)

PIXELS = pa.schema(
    [
        ("advertiser_id", pa.string()),
        ("pixel_id", pa.string()),  # numeric string
        ("pixel_code", pa.string()),  # e.g. CH1ABCDEF23GHIJ45KL0: the Events API event_source_id
        ("pixel_name", pa.string()),
        ("pixel_setup_mode", pa.string()),
        ("create_time", TS),
    ]
)

# TikTok's view, one row per ad x advertiser-local day on which the ad existed. Conversion columns
# hold the FINAL (fully attributed) values; the server restates them through `settle_fraction`
# (see `reported_fraction`). `real_time_conversion` never changes.
AD_DAILY = pa.schema(
    [
        ("advertiser_id", pa.string()),
        ("ad_id", pa.string()),
        ("stat_date", pa.date32()),  # advertiser-local day
        ("spend", MONEY),  # advertiser currency, 3 dp
        ("impressions", pa.int64()),
        ("clicks", pa.int64()),  # destination clicks (>= AppSprint clicks on the Signal link)
        ("conversion", pa.int64()),  # optimisation-event count (final)
        ("real_time_conversion", pa.int64()),
        ("download_start", pa.int64()),  # Download (what AppSprint's install maps to)
        ("complete_payment", pa.int64()),  # Purchase count
        ("total_complete_payment_rate", MONEY),  # Purchase VALUE (TikTok's misleading name)
        ("on_web_subscribe", pa.int64()),
        ("total_on_web_subscribe_value", MONEY),
        ("start_trial", pa.int64()),  # web StartTrial count (sandbox name for the web metric)
        ("user_registration", pa.int64()),  # CompleteRegistration
        ("page_content_view_events", pa.int64()),  # ViewContent
    ]
)

SIGNAL_LINKS = pa.schema(
    [
        ("link_id", pa.string()),
        ("app_id", pa.string()),
        ("name", pa.string()),
        ("network", pa.string()),  # tiktok
        ("url", pa.string()),  # https://<tracking domain>/s/<link_id>
        ("advertiser_id", pa.string()),  # which advertiser's campaign uses it (not served)
        ("campaign_id", pa.string()),  # (not served)
        ("created_at", TS),
        ("updated_at", TS),
    ]
)

CLICKS = pa.schema(
    [
        ("click_id", pa.string()),
        ("link_id", pa.string()),
        ("clicked_at", TS),
        ("ttclid", pa.string()),  # E.C.P.<base64-ish>
        ("campaign_id", pa.string()),
        ("adgroup_id", pa.string()),
        ("ad_id", pa.string()),
        ("placement", pa.string()),  # TikTok
        ("ip", pa.string()),
        ("user_agent", pa.string()),
        ("os", pa.string()),  # ios | android
        ("updated_at", TS),
    ]
)

INSTALLS = pa.schema(
    [
        ("appsprint_id", pa.string()),
        ("installed_at", TS),
        ("platform", pa.string()),  # ios | android
        ("app_version", pa.string()),
        ("country", pa.string()),
        ("ip", pa.string()),  # may be null, private (10.x, 192.168.x) or loopback
        ("user_agent", pa.string()),  # may be null
        ("attribution_status", pa.string()),  # attributed | organic
        ("attribution_network", pa.string()),  # tiktok | null
        ("match_type", pa.string()),  # ttclid | ip_user_agent | organic
        ("confidence", pa.float64()),
        ("link_id", pa.string()),
        ("click_id", pa.string()),
        ("updated_at", TS),
        ("superseded_at", TS),  # null for the current version (see module doc)
    ]
)

# One row per delivery. `install` events (event_type "install") are derived from installs with a
# stable event_id. Hostile rows are planted on purpose (`invalid_reason` says why; the servers
# serve them as they are, e.g. a bad timestamp string); the column itself is not served.
EVENTS = pa.schema(
    [
        ("event_id", pa.string()),
        ("appsprint_id", pa.string()),
        ("event_type", pa.string()),
        ("event_name", pa.string()),
        ("occurred_at", TS),
        ("occurred_at_raw", pa.string()),  # non-null only for planted bad timestamps: served as-is
        ("received_at", TS),
        ("revenue", MONEY),
        ("currency", pa.string()),
        ("source", pa.string()),  # sdk | revenuecat | superwall
        ("environment", pa.string()),  # production | sandbox
        ("ip", pa.string()),
        ("user_agent", pa.string()),
        ("customer_user_id", pa.string()),
        ("parameters", pa.string()),  # JSON object text
        ("updated_at", TS),
        ("invalid_reason", pa.string()),  # null for valid rows (not served)
    ]
)

TABLE_SCHEMAS: dict[str, pa.Schema] = {
    "advertisers": ADVERTISERS,
    "campaigns": CAMPAIGNS,
    "adgroups": ADGROUPS,
    "ads": ADS,
    "pixels": PIXELS,
    "ad_daily": AD_DAILY,
    "signal_links": SIGNAL_LINKS,
    "clicks": CLICKS,
    "installs": INSTALLS,
    "events": EVENTS,
}

# Restatement: share of a day's final conversions reported `n` whole days after the end of that
# advertiser-local day (index n; beyond the list the value is final). Day 0 = the day itself.
RESTATEMENT_FRACTIONS: tuple[float, ...] = (0.6, 0.8, 0.9, 0.95, 0.97, 0.99, 1.0)


@dataclasses.dataclass(frozen=True)
class Credentials:
    """Sandbox credentials. Not secrets: they only open the local sandbox."""

    tiktok_app_id: str
    tiktok_app_secret: str
    # Long-term Marketing API token valid for every advertiser (skip OAuth in demo and tests).
    tiktok_access_token: str
    # Events API token that may post to every pixel.
    events_api_token: str
    # A token that is valid but has Standard access: `40001` on event/track for every pixel.
    standard_access_token: str
    appsprint_app_id: str
    appsprint_export_token: str


@dataclasses.dataclass
class World:
    seed: int
    scale: str
    anchor: dt.datetime  # tz-aware UTC; the server clock starts here
    future_horizon: dt.timedelta  # rows exist up to anchor + this
    tracking_domain: str  # host of the Signal links, e.g. "sandbox.appsprint.link"
    credentials: Credentials
    tables: dict[str, pa.Table]
    # Free-form facts about what was planted (counts, ids), shown by `make demo`.
    notes: dict[str, Any] = dataclasses.field(default_factory=dict)
    # A big world's cache directory when its AppSprint rows (clicks, installs, events) stay in
    # their Parquet files there: ``tables`` then holds them empty (world_cache.open_world).
    rows_dir: Path | None = None

    def table(self, name: str) -> pa.Table:
        return self.tables[name]

    def validate(self) -> None:
        """Raise ValueError if a table is missing or its schema differs from the contract."""
        for name, schema in TABLE_SCHEMAS.items():
            if name not in self.tables:
                raise ValueError(f"world is missing table {name!r}")
            got = self.tables[name].schema
            if not got.equals(schema, check_metadata=False):
                raise ValueError(f"table {name!r} schema differs from the contract:\n{got}\n!=\n{schema}")
