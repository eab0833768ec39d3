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
:data:`FX_TO_USD` (revenue in a currency without a rate, e.g. BRL, is left out of TikTok's value)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from sandbox.world import World

from .ad_daily import AdDailyStage
from .arrays import _credentials, default_anchor
from .base import LAST_TIMINGS
from .events import EventsStage
from .installs import InstallsStage
from .shape import (
    CURRENCIES_WITHOUT_RATE,
    FUTURE_HORIZON,
    FX_TO_USD,
    GENERATOR_VERSION,
    MAPPED_EVENT_TYPES,
    PRESETS,
    TRACKING_DOMAIN,
    UNMAPPED_EVENT_TYPES,
    UTC,
    Preset,
)
from .sink import MemorySink, ParquetSink
from .structure import StructureStage
from .traffic import TrafficStage


def _parameters(
    seed: int, scale: str, anchor: dt.datetime | None, days: int | None, events: int | None
) -> tuple[int, str, Preset, dt.datetime, int, int]:
    if scale not in PRESETS:
        raise ValueError(f"unknown scale {scale!r}; choose one of {sorted(PRESETS)}")
    preset = PRESETS[scale]
    anchor = anchor or default_anchor()
    if anchor.tzinfo is None:
        raise ValueError("anchor must be timezone-aware")
    days = preset.days if days is None else int(days)
    n_events = preset.events if events is None else int(events)
    if days < 7:
        raise ValueError("days must be >= 7")
    if n_events < 1_000:
        raise ValueError("events must be >= 1000")
    return seed, scale, preset, anchor.astimezone(UTC), days, n_events


def generate_world(
    seed: int = 7,
    scale: str = "demo",
    anchor: dt.datetime | None = None,
    days: int | None = None,
    events: int | None = None,
) -> World:
    """Generate the sandbox world for (seed, scale, anchor, days, events); deterministic."""
    sink = MemorySink()
    facts = _Generator(*_parameters(seed, scale, anchor, days, events)).run(sink)
    world = World(tables=sink.tables, **facts)
    world.validate()
    return world


def generate_into(
    sink: ParquetSink,
    seed: int = 7,
    scale: str = "demo",
    anchor: dt.datetime | None = None,
    days: int | None = None,
    events: int | None = None,
) -> dict[str, Any]:
    """The world :func:`generate_world` returns, written table by table into ``sink`` (memory
    bounded by a cohort of events, whatever the size); returns the :class:`~sandbox.world.World`
    fields but ``tables``."""
    return _Generator(*_parameters(seed, scale, anchor, days, events)).run(sink)


class _Generator(StructureStage, TrafficStage, InstallsStage, EventsStage, AdDailyStage):
    # ----------------------------------------------------------------------------------------
    def run(self, sink: MemorySink | ParquetSink) -> dict[str, Any]:
        """Every stage, each table handed to ``sink`` when complete; the world's other fields."""
        LAST_TIMINGS.clear()
        self.sink = sink
        for stage in (self._structure, self._ad_days, self._clicks, self._installs, self._events, self._ad_daily):
            started = self._lap_at = time.perf_counter()
            stage()
            LAST_TIMINGS[stage.__name__.strip("_")] = time.perf_counter() - started
        for name, table in (
            ("advertisers", self.t_advertisers),
            ("campaigns", self.t_campaigns),
            ("adgroups", self.t_adgroups),
            ("ads", self.t_ads),
            ("pixels", self.t_pixels),
            ("ad_daily", self.t_ad_daily),
            ("signal_links", self.t_links),
        ):
            sink.put(name, table)
        sink.close()
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
        return {
            "seed": self.seed,
            "scale": self.scale,
            "anchor": self.anchor,
            "future_horizon": FUTURE_HORIZON,
            "tracking_domain": TRACKING_DOMAIN,
            "credentials": _credentials(self.seed),
            "notes": self.notes,
        }
