"""Rows of one or more pages as Arrow columns before typing, the per-row problems found in them,
and the JSON text of values (for quarantine and for columns that hold JSON)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc


class Problems:
    """Per-row reasons, collected as (mask, reason builder) pairs and expanded only for bad rows."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.any = np.zeros(n, dtype=bool)
        self._checks: list[tuple[np.ndarray, Callable[[int], str]]] = []

    def add(self, mask: Any, reason: Callable[..., str]) -> None:
        """Flags the rows where ``mask`` is true; ``reason(i)`` says why for row ``i``."""
        if isinstance(mask, (pa.Array, pa.ChunkedArray)):
            mask = pc.fill_null(mask, False).to_numpy(zero_copy_only=False)
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            self.any |= mask
            self._checks.append((mask, reason))

    def reasons(self, index: int) -> str:
        reasons = [reason(index) for mask, reason in self._checks if mask[index]]
        return "; ".join(dict.fromkeys(reasons))


@dataclasses.dataclass
class RawColumns:
    """Rows (of one or more pages) as Arrow columns, before typing.

    ``columns`` maps each raw-table column to: a string array (ids, strings, timestamps,
    currencies, JSON text of objects) or, for numbers, a float64 array or the numbers' JSON text.
    ``row_json(i)`` gives row ``i`` as JSON text (for quarantine and exact sizes)."""

    n: int
    columns: dict[str, pa.Array]
    row_json: Callable[[int], str]
    problems: Problems
    odd_rows: list[str] = dataclasses.field(default_factory=list)  # rows that are not objects
    unknown_fields: set[str] = dataclasses.field(default_factory=set)
    extra_field_rows: np.ndarray | None = None


def row_text(row: Any) -> str:
    """A parsed JSON value as compact JSON text, keeping ``NaN`` and infinities as the literals they
    were served as (orjson would write ``null``): the quarantine shows the row as it came."""
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"))


def value_text(value: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    return orjson.dumps(value).decode()


def number_text(value: Any) -> Any:
    """A decimal as its JSON number text, without the scale's trailing zeros (``-59.99``, as the
    JSON wire serves it); other values unchanged."""
    if not isinstance(value, decimal.Decimal):
        return value
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def embedded_json(value: Any) -> Any:
    """JSON text carried in a string column, embedded as JSON (kept a string if it is not JSON)."""
    if type(value) is str:
        try:
            orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
        return orjson.Fragment(value)
    return value


def json_texts(arr: pa.Array) -> pa.Array:
    return pa.array(
        [
            None
            if v is None
            else orjson.dumps(v, default=json_default, option=orjson.OPT_PASSTHROUGH_DATETIME).decode()
            for v in arr.to_pylist()
        ],
        pa.string(),
    )


def json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(timespec="milliseconds") + "Z"
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, decimal.Decimal):
        return orjson.Fragment(number_text(value)) if value.is_finite() else None
    raise TypeError(type(value).__name__)
