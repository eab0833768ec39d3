"""Numbers, dates and zones for people, on top of the product's one rounding rule
(:mod:`signal_campaigns.formatting`: money and the 2-decimal ratios half-up to 2 decimals, CTR and
CTI half-up to 4 decimals of the fraction, here shown as a percentage with 2 decimals)."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from signal_campaigns.formatting import FRACTION_PLACES, MISSING, money, round_half_up

# the 12 metrics in the product's order: (column, label, kind); kind: money | count | ratio | percent
METRICS = (
    ("spend", "Spend", "money"),
    ("installs", "Installs", "count"),
    ("cpi", "CPI", "money"),
    ("ipm", "IPM", "ratio"),
    ("impressions", "Impressions", "count"),
    ("cpm", "CPM", "money"),
    ("clicks", "Clicks", "count"),
    ("cpc", "CPC", "money"),
    ("ctr", "CTR", "percent"),
    ("cti", "CTI", "percent"),
    ("roas", "ROAS", "ratio"),
    ("revenue", "Revenue", "money"),
)
# the cells that rest on installs or revenue, and so on TikTok's fallback when those did
INSTALL_BASED = frozenset({"installs", "cpi", "ipm", "cti"})
REVENUE_BASED = frozenset({"revenue", "roas"})


def number(value: Any, kind: str) -> str:
    """One value by kind: counts with thousands separators, money and ratios by the money rule,
    fractions as percentages (``0.01235`` -> ``1.24%``); ``None`` -> ``—``."""
    if value is None:
        return MISSING
    if kind == "count":
        return f"{int(value):,}"
    if kind == "percent":
        return f"{round_half_up(value, FRACTION_PLACES) * 100:,.2f}%"
    return money(value)


def amount(value: Any, currency: str) -> str:
    """``1234.5, 'EUR'`` -> ``'1,234.50 EUR'``."""
    return MISSING if value is None else f"{money(value)} {currency}"


def as_float(value: Any) -> float | None:
    """A chart coordinate (charts draw floats; their labels come from :func:`number`)."""
    if value is None:
        return None
    return float(value) if isinstance(value, (decimal.Decimal, int, float)) else None


def day(value: dt.date) -> str:
    """``2026-06-15`` -> ``'Mon 15 Jun 2026'``."""
    return f"{value:%a} {value.day} {value:%b %Y}"


def day_range(start: dt.date, end: dt.date) -> str:
    """``'9 Jun – 15 Jun 2026'`` (the year once when both days share it)."""
    first = f"{start.day} {start:%b}" + ("" if start.year == end.year else f" {start.year}")
    return f"{first} – {end.day} {end:%b %Y}"


def clock(value: dt.datetime) -> str:
    """``'09:47'``."""
    return f"{value:%H:%M}"
