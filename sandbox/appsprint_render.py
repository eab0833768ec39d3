"""Rendering a page of the AppSprint export API straight to JSON bytes: served timestamps
(millisecond text), and each field as a fixed sequence of string pieces gathered by one Arrow
``take`` (dictionary-encoded values, timestamp parts, free text escaped only where needed)."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any, ClassVar

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from sandbox.appsprint_resources import BadRequestError

_INT64_MAX = np.iinfo(np.int64).max
_TS_MS = pa.timestamp("ms")
DAY_MS = 86_400_000
# A dictionary-encoded column may have at most this many distinct values (else: free text).
MAX_DICTIONARY = 4096


# --- time -------------------------------------------------------------------------------------


def to_ms(value: dt.datetime) -> int:
    """Milliseconds since the epoch, floored (a datetime's microseconds never round up)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def format_ms(ms: int) -> str:
    """``int`` milliseconds -> ``2026-06-15T12:00:00.000Z`` (the API's timestamp format)."""
    value = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=ms)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_timestamp(text: str, *, name: str = "updated_since") -> int:
    """An ISO-8601 timestamp (``Z``, an offset, or naive = UTC) -> milliseconds, floored."""
    raw = text.strip()
    try:
        if raw.endswith(("Z", "z")):
            raw = raw[:-1] + "+00:00"
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequestError(
            "invalid_parameter",
            f"{name}={text!r} is not an ISO-8601 timestamp; use e.g. 2026-06-15T12:00:00.000Z",
        ) from None
    return to_ms(value.astimezone(dt.UTC) if value.tzinfo else value)


def _ms_array(col: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray | None]:
    """A timestamp[us] column -> (int64 ms numpy array floored, null mask or None).
    Nulls become INT64_MAX (so "superseded_at is null" compares as "never")."""
    us = pc.cast(col, pa.int64())
    if us.null_count:
        valid = pc.is_valid(us).to_numpy(zero_copy_only=False)
        arr = pc.fill_null(us, 0).to_numpy()
        ms = np.where(valid, np.floor_divide(arr, 1000), _INT64_MAX)
        return ms, ~valid
    return np.floor_divide(us.to_numpy(), 1000), None


def _json_text(value: Any) -> str:
    """One value as JSON text (Decimals as plain JSON numbers, NaN as null)."""
    if value is None:
        return "null"
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return "null"
        text = format(value, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text if text not in ("-0", "") else "0"
    if isinstance(value, float) and value != value:
        return "null"
    return orjson.dumps(value).decode()


# --- page rendering: one Arrow gather ----------------------------------------------------------
#
# A page is rendered without any per-row Python: every row is a fixed sequence of P "pieces"
# (literal JSON punctuation and keys, dictionary values, timestamp parts, free-text values), each
# piece an index into one Arrow string array = [static pieces built at startup] + [this page's
# free-text column slices]. numpy computes the (rows x P) index matrix; ``Array.take`` gathers the
# pieces in C++, and the gathered array's data buffer *is* the page's JSON text.


class _Pieces:
    """The static string pieces of a table (literals, dictionary values, timestamp parts)."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self._literal: dict[str, int] = {}

    def literal(self, text: str) -> int:
        at = self._literal.get(text)
        if at is None:
            at = self._literal[text] = len(self.texts)
            self.texts.append(text)
        return at

    def block(self, texts: list[str]) -> int:
        """Append a block of pieces; returns the index of its first."""
        base = len(self.texts)
        self.texts.extend(texts)
        return base


class _Page:
    """Per-page state: the index matrix and the page's dynamic arrays."""

    def __init__(self, static: pa.Array, n: int, width: int) -> None:
        self.static = static
        self.n = n
        self.matrix = np.empty((n, width), dtype=np.int32)
        self.arrays: list[pa.Array] = [static]
        self._next = len(static)

    def dynamic(self, array: pa.Array | pa.ChunkedArray) -> int:
        """Add a page-local array of pieces (length n); returns the index of its first element."""
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
        base = self._next
        self.arrays.append(array)
        self._next += len(array)
        return base

    def dynamic_texts(self, texts: list[str]) -> int:
        return self.dynamic(pa.array(texts, pa.string()))

    def gather(self) -> pa.Array:
        values = pa.concat_arrays(self.arrays) if len(self.arrays) > 1 else self.arrays[0]
        return values.take(pa.array(self.matrix.ravel()))


def _string_bytes(array: pa.Array) -> tuple[memoryview, np.ndarray]:
    """(the data bytes, offsets) of a string array (no copy)."""
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32, count=len(array) + 1, offset=array.offset * 4)
    data = array.buffers()[2]
    return (memoryview(data) if data is not None else memoryview(b"")), offsets


def _needs_escape(col: pa.ChunkedArray) -> bool:
    """Whether any string of ``col`` contains a byte that JSON must escape (checked on raw bytes)."""
    for chunk in col.chunks:
        if len(chunk) == 0:
            continue
        data, offsets = _string_bytes(chunk)
        start, stop = int(offsets[0]), int(offsets[-1])
        if stop > start:
            raw = np.frombuffer(data, dtype=np.uint8, count=stop - start, offset=start)
            if (raw < 32).any() or (raw == 34).any() or (raw == 92).any():
                return True
    return False


def _ts_text(col: pa.ChunkedArray | pa.Array) -> pa.Array | pa.ChunkedArray:
    """A timestamp column -> ISO-8601 UTC strings with milliseconds and ``Z`` (nulls stay null)."""
    text = pc.cast(pc.cast(col, _TS_MS, safe=False), pa.string())  # "2026-06-15 12:00:00.000"
    text = pc.utf8_replace_slice(text, start=10, stop=11, replacement="T")
    return pc.binary_join_element_wise(text, "Z", "")


def _ts_strings(col: pa.ChunkedArray | pa.Array) -> list[str | None]:
    return _ts_text(col).to_pylist()


class _Field:
    """One served field: how its pieces are chosen for a page (prepared once at startup)."""

    WIDTH: ClassVar[dict[str, int]] = {"text": 3, "dict": 2, "generic": 2, "json": 2, "ts": 5, "ts_raw": 5}

    def __init__(self, table: pa.Table, column: str, kind: str, prefix: str, pieces: _Pieces) -> None:
        self.column = column
        self.kind = kind
        col = table[column]
        p = pieces
        self.prefix = p.literal(prefix)
        self.prefix_quote = p.literal(prefix + '"')
        self.quote = p.literal('"')
        self.empty = p.literal("")
        self.null = p.literal("null")
        self.ms: np.ndarray | None = None
        self.nulls: np.ndarray | None = None
        if kind == "dict":
            codes, values = _dictionary(col)
            if codes is None:
                self.kind = kind = "text" if pa.types.is_string(col.type) else "generic"
            else:
                self.codes = codes
                self.values_base = p.block(values)
        if kind in ("ts", "ts_raw"):
            self.ms, self.nulls = _ms_array(col)
            self.raw_rows = np.empty(0, dtype=np.int64)
            if kind == "ts_raw":
                raw = table[f"{column}_raw"]
                self.raw_rows = np.flatnonzero(pc.is_valid(raw).to_numpy(zero_copy_only=False))
        if kind == "json":
            mask = pc.and_(pc.starts_with(col, "{"), pc.ends_with(col, "}"))
            self.object_mask = pc.fill_null(mask, False).to_numpy(zero_copy_only=False)
        self.width = self.WIDTH[kind]

    def fill(self, page: _Page, at: int, rows: slice | np.ndarray, table: pa.Table, clock: _Clockwork) -> None:
        m = page.matrix
        kind = self.kind
        if kind == "dict":
            m[:, at] = self.prefix
            m[:, at + 1] = self.codes[rows] + self.values_base
        elif kind == "text":
            self._fill_text(page, at, table[self.column])
        elif kind in ("ts", "ts_raw"):
            self._fill_ts(page, at, rows, table, clock)
        elif kind == "json":
            col = table[self.column]
            m[:, at] = self.prefix
            if self.object_mask[rows].all():
                m[:, at + 1] = page.dynamic(col) + np.arange(page.n, dtype=np.int32)
            else:
                ok = self.object_mask[rows].tolist()
                texts = [v if good else _json_text(v) for v, good in zip(col.to_pylist(), ok)]
                m[:, at + 1] = page.dynamic_texts(texts) + np.arange(page.n, dtype=np.int32)
        else:  # generic: any type, JSON-encoded per value
            m[:, at] = self.prefix
            texts = [_json_text(v) for v in table[self.column].to_pylist()]
            m[:, at + 1] = page.dynamic_texts(texts) + np.arange(page.n, dtype=np.int32)

    def _fill_text(self, page: _Page, at: int, col: pa.ChunkedArray) -> None:
        m = page.matrix
        positions = np.arange(page.n, dtype=np.int32)
        if _needs_escape(col):
            texts = ["null" if v is None else orjson.dumps(v).decode() for v in col.to_pylist()]
            m[:, at] = self.prefix
            m[:, at + 1] = page.dynamic_texts(texts) + positions
            m[:, at + 2] = self.empty
            return
        base = page.dynamic(col)
        if col.null_count == 0:
            m[:, at] = self.prefix_quote
            m[:, at + 1] = base + positions
            m[:, at + 2] = self.quote
            return
        valid = pc.is_valid(col).to_numpy(zero_copy_only=False)
        m[:, at] = np.where(valid, self.prefix_quote, self.prefix)
        m[:, at + 1] = np.where(valid, base + positions, self.null)
        m[:, at + 2] = np.where(valid, self.quote, self.empty)

    def _fill_ts(self, page: _Page, at: int, rows, table: pa.Table, clock: _Clockwork) -> None:
        m = page.matrix
        assert self.ms is not None  # set for every timestamp field
        ms = self.ms[rows]
        nulls = self.nulls[rows] if self.nulls is not None else None
        if nulls is not None and not nulls.any():
            nulls = None  # no null on this page
        if nulls is not None:
            ms = np.where(nulls, clock.first_ms, ms)
        if not clock.covers(ms):  # a day outside the table's range (cannot happen for world rows)
            texts = ["null" if t is None else f'"{t}"' for t in _ts_strings(table[self.column])]
            m[:, at] = self.prefix
            m[:, at + 1] = page.dynamic_texts(texts) + np.arange(page.n, dtype=np.int32)
            m[:, at + 2 : at + 5] = self.empty
        else:
            days, rem = np.divmod(ms - clock.first_ms, DAY_MS)
            m[:, at] = self.prefix_quote
            m[:, at + 1] = days + clock.days_base
            m[:, at + 2] = rem // 60_000 + clock.hhmm_base
            m[:, at + 3] = (rem // 1000) % 60 + clock.sec_base
            m[:, at + 4] = rem % 1000 + clock.millis_base
        if nulls is not None:
            m[nulls, at] = self.prefix
            m[nulls, at + 1] = self.null
            m[nulls, at + 2 : at + 5] = self.empty
        if len(self.raw_rows):  # planted bad timestamps: the raw string, as a JSON string
            if isinstance(rows, slice):
                lo, hi = np.searchsorted(self.raw_rows, [rows.start, rows.stop])
                local = self.raw_rows[lo:hi] - rows.start
            else:
                local = np.flatnonzero(np.isin(rows, self.raw_rows))
            if len(local):
                raw = table[f"{self.column}_raw"].take(pa.array(local)).to_pylist()
                base = page.dynamic_texts([orjson.dumps(r).decode() for r in raw])
                m[local, at] = self.prefix
                m[local, at + 1] = base + np.arange(len(local), dtype=np.int32)
                m[local, at + 2 : at + 5] = self.empty


def _dictionary(col: pa.ChunkedArray) -> tuple[np.ndarray | None, list[str]]:
    """(int32 codes, JSON text of each distinct value) or (None, []) if too many values."""
    encoded = pc.dictionary_encode(col, null_encoding="encode")
    chunks = encoded.chunks
    if not chunks:
        return np.empty(0, dtype=np.int32), []
    dictionary = chunks[-1].dictionary  # the memo is shared across chunks: the last is a superset
    if len(dictionary) > MAX_DICTIONARY:
        return None, []
    for chunk in chunks[:-1]:
        if not chunk.dictionary.equals(dictionary.slice(0, len(chunk.dictionary))):
            return None, []
    codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in chunks]).astype(np.int32)
    return codes, [_json_text(v) for v in dictionary.to_pylist()]


class _Clockwork:
    """Timestamp parts as pieces: 'YYYY-MM-DDT' for each day the table spans, 'HH:MM',
    ':SS.', 'mmmZ"' -- a timestamp is four lookups."""

    def __init__(self, arrays: list[tuple[np.ndarray, np.ndarray | None]], pieces: _Pieces) -> None:
        lows, highs = [], []
        for ms, nulls in arrays:
            values = ms if nulls is None else ms[~nulls]
            if len(values):
                lows.append(int(values.min()))
                highs.append(int(values.max()))
        first_day = min(lows) // DAY_MS if lows else 0
        last_day = max(highs) // DAY_MS if highs else 0
        self.first_ms = first_day * DAY_MS
        self.end_ms = (last_day + 1) * DAY_MS
        span = np.arange(first_day, last_day + 1).astype("datetime64[D]")
        self.days_base = pieces.block([d + "T" for d in np.datetime_as_string(span, unit="D").tolist()])
        self.hhmm_base = pieces.block([f"{h:02d}:{m:02d}" for h in range(24) for m in range(60)])
        self.sec_base = pieces.block([f":{s:02d}." for s in range(60)])
        self.millis_base = pieces.block([f'{i:03d}Z"' for i in range(1000)])

    def covers(self, ms: np.ndarray) -> bool:
        return len(ms) == 0 or (int(ms.min()) >= self.first_ms and int(ms.max()) < self.end_ms)


def envelope(data: bytes, next_cursor: str | None, request_id: str) -> bytes:
    """The reply body around an already serialised ``data`` array."""
    return b"".join(
        (
            b'{"data":',
            data,
            b',"meta":{"next_cursor":',
            orjson.dumps(next_cursor),
            b',"request_id":',
            orjson.dumps(request_id),
            b"}}",
        )
    )
