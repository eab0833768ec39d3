"""How the product prints numbers for people: one rule, used by every printer (the CLI's tables,
the demo's). JSON and CSV output keep the exact values; only display rounds.

- Money and the other 2-decimal figures (CPI, CPM, CPC, ROAS, revenue, IPM): **half-up to 2
  decimals** (570.485 -> 570.49, 570.484 -> 570.48, -570.485 -> -570.49: half away from zero),
  with thousands separators. A float is rounded as the shortest decimal that represents it
  (``repr``), so the double 570.485 rounds like the DECIMAL 570.485, never by its binary
  neighbour 570.48499999....
- Fractions (CTR, CTI): half-up to 4 decimals.
- Counts: whole numbers with thousands separators.

See docs/metrics.md ("Rounding at display").
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from typing import Any

MONEY_PLACES = 2
FRACTION_PLACES = 4
MISSING = "—"


def round_half_up(value: decimal.Decimal | float | int, places: int = MONEY_PLACES) -> decimal.Decimal:
    """``value`` rounded half-up (half away from zero) to ``places`` decimals, as a Decimal.

    Floats go through their shortest decimal representation (``repr``) first."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot round {value!r}")
        exact = decimal.Decimal(repr(value))
    else:
        exact = decimal.Decimal(value)
    return exact.quantize(decimal.Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP)


def money(value: decimal.Decimal | float | int) -> str:
    """``1234.565`` -> ``'1,234.57'``: the one display rule for money (and the 2-decimal ratios)."""
    return f"{round_half_up(value, MONEY_PLACES):,}"


def fraction(value: decimal.Decimal | float | int) -> str:
    """``0.01235`` -> ``'0.0124'``: CTR and CTI, half-up to 4 decimals."""
    return f"{round_half_up(value, FRACTION_PLACES):,}"


def cell(value: Any, *, is_fraction: bool = False) -> str:
    """One table cell: ``None`` -> ``—``, booleans yes/no, counts with thousands separators,
    decimals and floats by :func:`money` (or :func:`fraction` for a fraction column), UTC
    timestamps as ``YYYY-MM-DD HH:MM UTC``, anything else as text."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (float, decimal.Decimal)):
        return fraction(value) if is_fraction else money(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC") if value.utcoffset() == dt.timedelta(0) else value.isoformat()
    return str(value)


def utc_offset(moment: dt.datetime) -> str:
    """An aware time's UTC offset the way people read it: ``UTC−08:00`` (a real minus sign) for
    ``Etc/GMT+8``, whose POSIX-style name carries the opposite sign."""
    minutes = int((moment.utcoffset() or dt.timedelta(0)).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "\u2212"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
