"""TikTok's restatement of conversions: the ONE rule, shared by the TikTok sandbox server (which
reports with it) and the ground truth (which predicts the report with it), so they cannot disagree.

TikTok credits conversions back to the engagement day as attribution completes: a stat day's
conversion metrics grow over the days after it ends, reaching ``RESTATEMENT_FRACTIONS[i]`` of their
final value ``i`` whole days after the advertiser-local day ended, and the final value after that.
"""

from __future__ import annotations

import datetime as dt
import decimal
import fractions
import math
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from .world import MONEY, RESTATEMENT_FRACTIONS

UTC = dt.UTC
_EPOCH_DATE = dt.date(1970, 1, 1)
_DAY_US = 86_400_000_000

# ad_daily columns TikTok restates (conversions credited back to the engagement day).
RESTATED_COUNT_COLUMNS: tuple[str, ...] = (
    "conversion",
    "download_start",
    "complete_payment",
    "on_web_subscribe",
    "start_trial",
    "user_registration",
    "page_content_view_events",
)
RESTATED_VALUE_COLUMNS: tuple[str, ...] = ("total_complete_payment_rate", "total_on_web_subscribe_value")
# Never restated: spend, impressions, clicks, real_time_conversion (counted by conversion time).


def _fraction_table() -> tuple[np.ndarray, int]:
    """RESTATEMENT_FRACTIONS as exact integer numerators over one common denominator."""
    fr = [fractions.Fraction(str(f)) for f in RESTATEMENT_FRACTIONS] + [fractions.Fraction(1)]
    den = math.lcm(*(f.denominator for f in fr))
    return np.array([int(f * den) for f in fr], dtype=np.int64), den


def _to_epoch_days(stat_date: Any) -> np.ndarray:
    if isinstance(stat_date, (pa.Array, pa.ChunkedArray)):
        return np.asarray(stat_date.cast(pa.int32()).to_numpy(zero_copy_only=False), dtype=np.int64)
    if isinstance(stat_date, dt.date):
        return np.array([(stat_date - _EPOCH_DATE).days], dtype=np.int64)
    arr = np.asarray(stat_date)
    if arr.dtype.kind == "M":
        return arr.astype("datetime64[D]").astype(np.int64)
    if arr.dtype == object:
        return np.array([(d - _EPOCH_DATE).days for d in arr.ravel()], dtype=np.int64)
    return arr.astype(np.int64)


def _micro_units(arr: pa.Array) -> np.ndarray:
    """int64 micro-units (value * 10**6) of a decimal array (nulls -> 0)."""
    arr = arr.cast(MONEY).fill_null(decimal.Decimal(0))
    words = np.frombuffer(arr.buffers()[1], dtype=np.int64)
    return words[2 * arr.offset : 2 * (arr.offset + len(arr))].reshape(-1, 2)[:, 0].copy()


def _clock_us(clock: dt.datetime) -> int:
    if clock.tzinfo is None:
        raise ValueError("clock must be timezone-aware")
    return (clock.astimezone(UTC) - dt.datetime(1970, 1, 1, tzinfo=UTC)) // dt.timedelta(microseconds=1)


def _day_end_us(days: np.ndarray, tz: str | Sequence[str]) -> np.ndarray:
    """UTC instant (us) of the end of each local day (= local midnight of the next day)."""
    out = np.empty(len(days), dtype=np.int64)
    tzs = np.array([tz] * len(days), dtype=object) if isinstance(tz, str) else np.asarray(tz, dtype=object)
    if len(tzs) != len(days):
        raise ValueError("tz must be one name or one per stat_date")
    for name in set(tzs.tolist()):
        zone = ZoneInfo(name)
        sel = np.flatnonzero(tzs == name)
        uniq, inv = np.unique(days[sel], return_inverse=True)
        ends = np.array(
            [
                _clock_us(dt.datetime.combine(_EPOCH_DATE + dt.timedelta(days=int(d) + 1), dt.time(), tzinfo=zone))
                for d in uniq
            ],
            dtype=np.int64,
        )
        out[sel] = ends[inv]
    return out


def restatement_index(stat_date: Any, tz: str | Sequence[str], clock: dt.datetime) -> np.ndarray:
    """Whole days between the end of each advertiser-local ``stat_date`` and ``clock``.

    A day still in progress (or in the future) has index 0, as does a day that ended less than 24 h
    before the clock. Index ``i`` reports ``RESTATEMENT_FRACTIONS[i]`` of the final value; past the
    end of the list the value is final.
    """
    days = _to_epoch_days(stat_date)
    elapsed = _clock_us(clock) - _day_end_us(days, tz)
    return np.maximum(elapsed, 0) // _DAY_US


def reported_fraction(stat_date: Any, tz: str | Sequence[str], clock: dt.datetime) -> np.ndarray:
    """The share (float) of the final conversions TikTok reports for each stat day at ``clock``."""
    idx = np.minimum(restatement_index(stat_date, tz, clock), len(RESTATEMENT_FRACTIONS))
    return np.array([*list(RESTATEMENT_FRACTIONS), 1.0])[idx]


def restated(final: Any, stat_date: Any, tz: str | Sequence[str], clock: dt.datetime) -> Any:
    """What TikTok reports at ``clock`` for a stat day whose final (fully attributed) value is ``final``.

    Counts: ``floor(final * fraction)``. Values (money): ``final * fraction`` rounded half-even to
    2 decimal places. Exact arithmetic (fractions as rationals, money as integer micro-units).

    ``final``: a pyarrow array (integer or decimal), a numpy array, a list, or one scalar (int or
    Decimal); nulls pass through. ``stat_date``: date32 array, numpy datetime64/int epoch days, or
    ``datetime.date``(s). ``tz``: one IANA name or one per row. Returns the same kind of container
    as ``final`` (decimal arrays as ``decimal128(18, 6)``, Decimal scalars with 2 places).
    """
    num, den = _fraction_table()
    idx = np.minimum(restatement_index(stat_date, tz, clock), len(num) - 1)
    fnum = num[idx]
    scalar = not isinstance(final, (pa.Array, pa.ChunkedArray, np.ndarray, list, tuple))

    # classify and convert to int64 (counts) or int64 micro-units (values)
    valid: np.ndarray | None = None
    if isinstance(final, (pa.Array, pa.ChunkedArray)):
        arr = final.combine_chunks() if isinstance(final, pa.ChunkedArray) else final
        is_value = pa.types.is_decimal(arr.type) or pa.types.is_floating(arr.type)
        valid = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        if pa.types.is_decimal(arr.type):
            base = _micro_units(arr)
        elif is_value:
            base = np.round(arr.fill_null(0).to_numpy(zero_copy_only=False) * 1e6).astype(np.int64)
        else:
            base = arr.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    else:
        items = [final] if scalar else list(np.asarray(final, dtype=object).ravel())
        is_value = any(isinstance(v, (decimal.Decimal, float, np.floating)) for v in items)
        valid = np.array([v is not None for v in items], dtype=bool)
        if is_value:
            base = np.array(
                [
                    int(decimal.Decimal(str(v)).scaleb(6).to_integral_value(decimal.ROUND_HALF_EVEN))
                    if v is not None
                    else 0
                    for v in items
                ],
                dtype=np.int64,
            )
        else:
            base = np.array([int(v) if v is not None else 0 for v in items], dtype=np.int64)
    if len(fnum) == 1 and len(base) != 1:
        fnum = np.repeat(fnum, len(base))

    if is_value:
        q = base * fnum  # micro-units * den
        divisor = den * 10_000  # -> hundredths
        hundredths, rem = np.divmod(q, divisor)
        up = (2 * rem > divisor) | ((2 * rem == divisor) & (hundredths % 2 == 1))
        hundredths = hundredths + up
        out_micro = hundredths * 10_000
    else:
        out_count = (base * fnum) // den

    # back to the caller's container
    if isinstance(final, (pa.Array, pa.ChunkedArray)):
        mask = None if valid is None or valid.all() else ~valid
        if is_value:
            micro = out_micro.copy()
            mat = np.empty((len(micro), 2), dtype=np.int64)
            mat[:, 0] = micro
            mat[:, 1] = micro >> 63
            bitmap = None if mask is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
            return pa.Array.from_buffers(MONEY, len(micro), [bitmap, pa.py_buffer(mat)])
        return pa.array(out_count, pa.int64(), mask=mask)
    vals: list[decimal.Decimal | int | None]
    if is_value:
        vals = [decimal.Decimal(int(h)).scaleb(-2) if ok else None for h, ok in zip(out_micro // 10_000, valid)]
    else:
        vals = [int(c) if ok else None for c, ok in zip(out_count, valid)]
    if scalar:
        return vals[0]
    if isinstance(final, np.ndarray) and not is_value and valid.all():
        return out_count
    return vals
