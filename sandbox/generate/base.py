"""The generator's state: its inputs and the arrays and tables each stage leaves for the next."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import numpy as np
import pyarrow as pa

from .arrays import to_us
from .shape import FUTURE_HORIZON, Preset

# Seconds per stage of the last generate_world() call in this process (for bench/bench_generate.py).
LAST_TIMINGS: dict[str, float] = {}
# Rows per record batch of the big tables (their strings stay below pyarrow's 2 GiB per array).
CHUNK_ROWS = 500_000


class GeneratorBase:
    """The generator's inputs, its clock per stage, and what each stage leaves for the next ones."""

    # structure
    adv: list[dict[str, Any]]
    ads: list[dict[str, Any]]
    window_start_us: int
    notes_deleted_campaigns: list[str]
    notes_deleted_adgroups: list[str]
    camp_rows: list[dict[str, Any]]
    ag_rows: list[dict[str, Any]]
    t_advertisers: pa.Table
    t_pixels: pa.Table
    t_campaigns: pa.Table
    t_adgroups: pa.Table
    t_ads: pa.Table
    t_links: pa.Table
    # ad-days
    ad_k: np.ndarray
    ad_day_k: np.ndarray
    ad_e_start: np.ndarray
    ad_e_end: np.ndarray
    ad_epoch_day: np.ndarray
    ad_active: np.ndarray
    ad_weight: np.ndarray
    ad_is_fallback: np.ndarray
    ad_ctr: np.ndarray
    ad_cpm_usd: np.ndarray
    ad_conv: np.ndarray
    # clicks
    late_ad_last_row: int
    ad_as_clicks: np.ndarray
    n_clicks: int
    c_row: np.ndarray
    c_at: np.ndarray
    c_ad: np.ndarray
    c_ios: np.ndarray
    c_ua: np.ndarray
    c_oct: np.ndarray
    c_raw: np.ndarray  # the click ids' random bytes (clk_ + hex)
    t_clicks: pa.Table
    # installs
    i_n: int
    i_n_a: int
    i_at: np.ndarray
    i_click: np.ndarray
    i_ios: np.ndarray
    i_country: np.ndarray
    i_attr_final: np.ndarray
    i_adv: np.ndarray
    i_raw: np.ndarray
    i_ids: pa.Array
    i_ip: pa.Array
    i_ua_idx: np.ndarray
    i_ua_valid: np.ndarray
    i_sandbox: np.ndarray
    i_first_upd: np.ndarray
    t_installs: pa.Table
    # events
    i_ad_day_row: np.ndarray  # per install: the ad-day row of its click when attributed, else -1
    e_sums: dict[str, np.ndarray]  # TikTok's view of the events per ad-day (AdDailyStage)
    sink: Any  # MemorySink | ParquetSink (.sink): where finished tables go
    # ad_daily
    t_ad_daily: pa.Table

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
