"""Fast, clock-aware paging over the AppSprint tables of a :class:`~.world.World`.

The export API (docs/appsprint_export_api.md) serves each table in ascending ``(updated_at, id)``
order. This module does the work behind one page, without Starlette:

- :class:`ResourceIndex` orders a table once by (``updated_at`` ms, id) without copying it (an
  ``order`` permutation, usually None: the generator emits sorted tables) and keeps ``updated_at``
  as an ``int64`` millisecond array, so every lookup is a ``numpy.searchsorted``: the rows visible
  at clock ``c`` are a prefix of that order (``updated_at <= c``); installs additionally drop the
  versions superseded as of ``c``. No request scans a whole table.
- A page is rendered straight to JSON bytes, without a Python object per row: each row is a fixed
  sequence of string pieces (keys and punctuation, dictionary-encoded values, timestamp parts,
  free-text values); numpy builds the (rows x pieces) index matrix and one Arrow ``take`` gathers
  the pieces, whose data buffer is the page's JSON text (see ``_Field``). Low-cardinality columns
  are dictionary-encoded once at startup (each distinct value JSON-encoded once); timestamps are
  four lookups (day, ``HH:MM``, ``:SS.``, ``mmmZ``); free-text columns are checked for bytes that
  need JSON escaping on their raw buffer. Anything unusual on a page (a string to escape, a null,
  a planted bad ``occurred_at``, parameters that are not an object) is encoded exactly, per value,
  for that column of that page only.
- Cursors are opaque to clients: base64url of ``[version, resource, updated_at_ms, id, position]``.
  The key ``(updated_at_ms, id)`` of the last row served is authoritative; ``position`` (rows of
  the sorted world table consumed so far) is a hint that saves a search when it still matches.
  So a cursor stays valid when rows are added (live Signal-link clicks) or the clock moves.

Timestamps are served with millisecond precision (``2026-06-15T12:00:00.000Z``). The server
orders and compares on that served value: ``updated_at`` is truncated to the millisecond once, at
startup, and every comparison (visibility, ``updated_since``, cursors) uses the truncated value, so
what a client sees is exactly what the server orders by.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import dataclasses
import datetime as dt
import decimal
import functools
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from .world import World

CURSOR_VERSION = 1
_INT64_MAX = np.iinfo(np.int64).max
_TS_MS = pa.timestamp("ms")
_MAX_ID = "\U0010ffff"  # sorts after every id: (ms, _MAX_ID) = "after every row of that ms"
DAY_MS = 86_400_000
# A dictionary-encoded column may have at most this many distinct values (else: free text).
MAX_DICTIONARY = 4096


class BadRequest(ValueError):
    """A client error: ``code`` is the API error code, the message says what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


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
        raise BadRequest(
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

    WIDTH = {"text": 3, "dict": 2, "generic": 2, "json": 2, "ts": 5, "ts_raw": 5}

    def __init__(self, index: ResourceIndex, column: str, kind: str, prefix: str, pieces: _Pieces) -> None:
        self.column = column
        self.kind = kind
        col = index.table[column]
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
                raw = index.table[f"{column}_raw"]
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
        ms = self.ms[rows]
        nulls = self.nulls[rows] if self.nulls is not None else None
        has_nulls = nulls is not None and bool(nulls.any())
        if has_nulls:
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
        if has_nulls:
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


# --- resources ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ResourceSpec:
    name: str  # URL segment and cursor tag: signal-links | clicks | installs | events
    table: str  # world table
    id_column: str  # world column of the row id (tie-breaker of the order)
    id_field: str  # the id's name in the API row
    # (API field, world column, kind); a dotted API field nests ("attribution.status").
    fields: tuple[tuple[str, str, str], ...]
    superseded: bool = False  # installs: hide versions superseded as of the clock


RESOURCES: dict[str, ResourceSpec] = {
    spec.name: spec
    for spec in (
        ResourceSpec(
            "signal-links",
            "signal_links",
            "link_id",
            "id",
            (
                ("id", "link_id", "text"),
                ("name", "name", "text"),
                ("network", "network", "dict"),
                ("url", "url", "text"),
                ("created_at", "created_at", "ts"),
                ("updated_at", "updated_at", "ts"),
            ),
        ),
        ResourceSpec(
            "clicks",
            "clicks",
            "click_id",
            "click_id",
            (
                ("click_id", "click_id", "text"),
                ("link_id", "link_id", "dict"),
                ("clicked_at", "clicked_at", "ts"),
                ("ttclid", "ttclid", "text"),
                ("campaign_id", "campaign_id", "dict"),
                ("adgroup_id", "adgroup_id", "dict"),
                ("ad_id", "ad_id", "dict"),
                ("placement", "placement", "dict"),
                ("ip", "ip", "text"),
                ("user_agent", "user_agent", "dict"),
                ("os", "os", "dict"),
                ("updated_at", "updated_at", "ts"),
            ),
        ),
        ResourceSpec(
            "installs",
            "installs",
            "appsprint_id",
            "appsprint_id",
            (
                ("appsprint_id", "appsprint_id", "text"),
                ("installed_at", "installed_at", "ts"),
                ("platform", "platform", "dict"),
                ("app_version", "app_version", "dict"),
                ("country", "country", "dict"),
                ("ip", "ip", "text"),
                ("user_agent", "user_agent", "dict"),
                ("attribution.status", "attribution_status", "dict"),
                ("attribution.network", "attribution_network", "dict"),
                ("attribution.match_type", "match_type", "dict"),
                ("attribution.confidence", "confidence", "dict"),
                ("attribution.link_id", "link_id", "dict"),
                ("attribution.click_id", "click_id", "text"),
                ("updated_at", "updated_at", "ts"),
            ),
            superseded=True,
        ),
        ResourceSpec(
            "events",
            "events",
            "event_id",
            "event_id",
            (
                ("event_id", "event_id", "text"),
                ("appsprint_id", "appsprint_id", "text"),
                ("event_type", "event_type", "dict"),
                ("event_name", "event_name", "dict"),
                ("occurred_at", "occurred_at", "ts_raw"),
                ("received_at", "received_at", "ts"),
                ("revenue", "revenue", "dict"),
                ("currency", "currency", "dict"),
                ("source", "source", "dict"),
                ("environment", "environment", "dict"),
                ("ip", "ip", "text"),
                ("user_agent", "user_agent", "dict"),
                ("customer_user_id", "customer_user_id", "text"),
                ("parameters", "parameters", "json"),
                ("updated_at", "updated_at", "ts"),
            ),
        ),
    )
}


def _field_prefixes(fields: tuple[tuple[str, str, str], ...]) -> list[str]:
    """The literal JSON before each field's value (keys, commas, braces of nested objects):
    ``{"a":``, ``,"b":{"c":``, ``},"d":`` ... The row's closing braces follow the last value."""
    prefixes: list[str] = []
    group: str | None = None
    for i, (api_name, _, _) in enumerate(fields):
        parent, _, key = api_name.rpartition(".")
        text = "{" if i == 0 else ""
        if (parent or None) != group:
            if group is not None:
                text += "}"
            if parent:
                text += ("," if i else "") + f'"{parent}":{{'
            group = parent or None
            sep = "" if text.endswith("{") else ","
        else:
            sep = "," if i else ""
        prefixes.append(f'{text}{sep}"{key}":')
    return prefixes


def _row_end(fields: tuple[tuple[str, str, str], ...]) -> str:
    return "}}" if "." in fields[-1][0] else "}"


# --- cursors ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Cursor:
    resource: str
    updated_at_ms: int
    row_id: str
    position: int  # rows of the sorted world table before the next one to serve (a hint)

    def encode(self) -> str:
        raw = orjson.dumps([CURSOR_VERSION, self.resource, self.updated_at_ms, self.row_id, self.position])
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    @classmethod
    def decode(cls, text: str, resource: str) -> Cursor:
        bad = BadRequest(
            "invalid_cursor",
            "cursor is not one this API issued; pass meta.next_cursor back unchanged, or restart with updated_since",
        )
        try:
            padded = text + "=" * (-len(text) % 4)
            value = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        except (ValueError, binascii.Error, UnicodeError, orjson.JSONDecodeError):
            raise bad from None
        if not (
            isinstance(value, list)
            and len(value) == 5
            and value[0] == CURSOR_VERSION
            and isinstance(value[1], str)
            and isinstance(value[2], int)
            and isinstance(value[3], str)
            and isinstance(value[4], int)
            and value[4] >= 0
        ):
            raise bad
        if value[1] != resource:
            raise BadRequest(
                "invalid_cursor",
                f"this cursor belongs to /{value[1]}, not /{resource}; cursors are per endpoint",
            )
        return cls(resource, value[2], value[3], value[4])


# --- the index --------------------------------------------------------------------------------


@dataclasses.dataclass
class ExtraRow:
    """A row added while the server runs (a Signal-link click): its key and its JSON text."""

    updated_at_ms: int
    row_id: str
    json: str

    @property
    def key(self) -> tuple[int, str]:
        return (self.updated_at_ms, self.row_id)


def _sort_order(ms: np.ndarray, ids: pa.ChunkedArray) -> np.ndarray | None:
    """Row order by (ms, id), or None when the table is in that order already."""
    n = len(ms)
    if n < 2:
        return None
    step = np.diff(ms)
    if (step < 0).any():  # not sorted by time at all: a full sort
        order = pc.sort_indices(
            pa.table({"ms": ms, "id": ids}), sort_keys=[("ms", "ascending"), ("id", "ascending")]
        ).to_numpy()
        return None if bool((order == np.arange(n)).all()) else order.astype(np.int64)
    ties = np.flatnonzero(step == 0)
    if len(ties) == 0:
        return None
    # runs of equal ms: [start, stop) where rows share the millisecond; sort each by id
    starts = ties[np.r_[True, np.diff(ties) > 1]]
    stops = ties[np.r_[np.diff(ties) > 1, True]] + 2
    order: np.ndarray | None = None
    for a, b in zip(starts.tolist(), stops.tolist()):
        run = ids.slice(a, b - a).to_pylist()
        ranked = sorted(range(b - a), key=run.__getitem__)
        if ranked != list(range(b - a)):
            if order is None:
                order = np.arange(n, dtype=np.int64)
            order[a:b] = np.asarray(ranked, dtype=np.int64) + a
    return order


class ResourceIndex:
    """One table sorted by (updated_at ms, id), plus rows recorded while serving."""

    def __init__(self, spec: ResourceSpec, table: pa.Table) -> None:
        self.spec = spec
        ms, _ = _ms_array(table["updated_at"])
        ids = table[spec.id_column]
        # The served order is (updated_at ms, id). The table is not copied: ``order`` maps a
        # logical position (in that order) to the table's row; None when they are the same.
        # The generator emits tables sorted by microsecond updated_at, so only rows within the
        # same millisecond can need reordering (a few); any other table is argsorted.
        self.order = _sort_order(ms, ids)
        self.table = table
        self.ids = ids
        self.ms = np.ascontiguousarray(ms if self.order is None else ms[self.order])  # logical order
        self.superseded_ms = None
        if spec.superseded:
            sup = _ms_array(table["superseded_at"])[0]
            self.superseded_ms = sup if self.order is None else sup[self.order]  # logical order
        pieces = _Pieces()
        self.fields = [
            _Field(self, column, kind, prefix, pieces)
            for (_, column, kind), prefix in zip(spec.fields, _field_prefixes(spec.fields))
        ]
        self.clockwork = _Clockwork([(f.ms, f.nulls) for f in self.fields if f.ms is not None], pieces)
        end = _row_end(spec.fields)
        self._row_sep, self._row_last = pieces.literal(end + ","), pieces.literal(end)
        self.width = sum(f.width for f in self.fields) + 1
        self.static = pa.array(pieces.texts, pa.string())
        self.extras: list[ExtraRow] = []
        self._extra_keys: list[tuple[int, str]] = []
        self._texts: dict[str, pa.ChunkedArray] | None = None  # see _served_texts

    def _physical(self, logical: slice | np.ndarray) -> slice | np.ndarray:
        """Table rows of logical positions (a slice when they are contiguous)."""
        if self.order is None:
            return logical
        if isinstance(logical, slice):
            rows = self.order[logical]
            if len(rows) == 0 or (rows[-1] - rows[0] == len(rows) - 1 and bool((np.diff(rows) == 1).all())):
                return slice(int(rows[0]), int(rows[0]) + len(rows)) if len(rows) else logical
            return rows
        return self.order[logical]

    def _id_at(self, pos: int) -> str:
        return self.ids[pos if self.order is None else int(self.order[pos])].as_py()

    def _ids_between(self, lo: int, hi: int) -> list[str]:
        if self.order is None:
            return self.ids.slice(lo, hi - lo).to_pylist()
        rows = self.order[lo:hi]
        first = int(rows.min())
        return self.ids.slice(first, int(rows.max()) + 1 - first).take(pa.array(rows - first)).to_pylist()

    def __len__(self) -> int:
        return len(self.ms)

    # --- rows added while serving ------------------------------------------------------------
    def add_extra(self, row: ExtraRow) -> None:
        at = bisect.bisect_right(self._extra_keys, row.key)
        self._extra_keys.insert(at, row.key)
        self.extras.insert(at, row)

    def clear_extras(self) -> None:
        self.extras.clear()
        self._extra_keys.clear()

    def max_visible_ms(self, clock_ms: int) -> int | None:
        """The largest updated_at visible at ``clock_ms`` (world and extras), or None."""
        best = None
        hi = int(np.searchsorted(self.ms, clock_ms, side="right"))
        if hi:
            best = int(self.ms[hi - 1])
        at = bisect.bisect_right(self._extra_keys, (clock_ms, _MAX_ID))
        if at:
            extra = self._extra_keys[at - 1][0]
            best = extra if best is None else max(best, extra)
        return best

    # --- positions ---------------------------------------------------------------------------
    def _key_at(self, pos: int) -> tuple[int, str]:
        return (int(self.ms[pos]), self._id_at(pos))

    def position_after(self, ms: int, row_id: str, hint: int | None = None) -> int:
        """Index of the first world row whose key is > (ms, row_id)."""
        n = len(self.ms)
        if hint is not None and 0 < hint <= n and self._key_at(hint - 1) == (ms, row_id):
            return hint  # the usual case: nothing moved since the cursor was issued
        lo = int(np.searchsorted(self.ms, ms, side="left"))
        hi = int(np.searchsorted(self.ms, ms, side="right"))
        if hi == lo:
            return lo
        return lo + bisect.bisect_right(self._ids_between(lo, hi), row_id)

    def _visible_positions(self, start: int, hi: int, limit: int, clock_ms: int) -> tuple[np.ndarray, int]:
        """Up to ``limit`` world positions in [start, hi) visible at the clock (installs hide
        superseded versions), and the position after the last one examined."""
        sup = self.superseded_ms
        chosen: list[np.ndarray] = []
        found = 0
        pos = start
        while found < limit and pos < hi:
            end = min(hi, pos + (limit - found) + 64)
            visible = np.flatnonzero(sup[pos:end] > clock_ms)[: limit - found] + pos
            chosen.append(visible)
            found += len(visible)
            pos = end if found < limit else int(visible[-1]) + 1
        positions = np.concatenate(chosen) if chosen else np.empty(0, dtype=np.int64)
        return positions, pos

    def _any_visible(self, start: int, hi: int, clock_ms: int) -> bool:
        if self.superseded_ms is None:
            return start < hi
        pos = start
        while pos < hi:
            end = min(hi, pos + 4096)
            if (self.superseded_ms[pos:end] > clock_ms).any():
                return True
            pos = end
        return False

    # --- rendering ---------------------------------------------------------------------------
    def _gather(self, rows: slice | np.ndarray) -> pa.Array:
        """The pieces of world ``rows`` (row-major, ``self.width`` per row), gathered."""
        if isinstance(rows, slice):
            table = self.table.slice(rows.start, rows.stop - rows.start)
        else:  # take from the covering slice: a take on the whole chunked table would copy it all
            lo = int(rows.min())
            table = self.table.slice(lo, int(rows.max()) + 1 - lo).take(pa.array(rows - lo))
        page = _Page(self.static, table.num_rows, self.width)
        at = 0
        for field in self.fields:
            field.fill(page, at, rows, table, self.clockwork)
            at += field.width
        page.matrix[:, at] = self._row_sep
        page.matrix[-1, at] = self._row_last
        return page.gather()

    def _page_bytes(self, rows: slice | np.ndarray) -> bytes:
        """``[row,row,...]`` as JSON bytes."""
        gathered = self._gather(rows)
        data, offsets = _string_bytes(gathered)
        return b"".join((b"[", data[int(offsets[0]) : int(offsets[-1])], b"]"))

    def _row_texts(self, rows: slice | np.ndarray) -> list[str]:
        gathered = self._gather(rows)
        data, offsets = _string_bytes(gathered)
        bounds = offsets[:: self.width].tolist()
        texts = [bytes(data[a:b]).decode() for a, b in zip(bounds, bounds[1:])]
        return [t[:-1] if t.endswith(",") else t for t in texts]

    def render_rows(self, start: int, stop: int) -> list[str]:
        """JSON text of the world rows at logical positions [start, stop) (for tests and tools)."""
        return self._row_texts(self._physical(slice(start, stop)))

    # --- one page ----------------------------------------------------------------------------
    def select_page(
        self, *, clock_ms: int, limit: int, cursor: Cursor | None = None, since_ms: int | None = None
    ) -> PageSelection:
        """Which rows one page holds: the rows visible at ``clock_ms`` after ``cursor`` -- or with
        updated_at > ``since_ms`` -- at most ``limit`` of them, in (updated_at, id) order, and the
        next cursor (None when no visible row follows). Rendering is separate (JSON or Arrow)."""
        if cursor is not None:
            after_key: tuple[int, str] | None = (cursor.updated_at_ms, cursor.row_id)
            start = self.position_after(cursor.updated_at_ms, cursor.row_id, cursor.position)
        elif since_ms is not None:
            after_key = (since_ms, _MAX_ID)  # every id sorts before this: updated_at > since
            start = int(np.searchsorted(self.ms, since_ms, side="right"))
        else:
            after_key = None
            start = 0
        hi = int(np.searchsorted(self.ms, clock_ms, side="right"))

        rows: slice | np.ndarray
        if self.superseded_ms is None:
            end = max(start, min(start + limit, hi))
            rows = slice(start, end)
            world_ms = self.ms[start:end]
            next_pos = end
        else:
            rows, next_pos = self._visible_positions(start, hi, limit, clock_ms)
            world_ms = self.ms[rows]
        world_more = self._any_visible(next_pos, hi, clock_ms)
        extras = self._extras_after(after_key, clock_ms, limit) if self.extras else []

        if not extras:
            if len(world_ms) == 0:
                return PageSelection(self._physical(slice(0, 0)), 0, None)
            physical = self._physical(rows)
            if not world_more:
                return PageSelection(physical, len(world_ms), None)
            last = int(rows.stop - 1) if isinstance(rows, slice) else int(rows[-1])
            cursor_out = Cursor(self.spec.name, int(world_ms[-1]), self._id_at(last), next_pos)
            return PageSelection(physical, len(world_ms), cursor_out.encode())

        # live rows (Signal-link clicks) to merge in by key; world rows are a contiguous slice here
        assert isinstance(rows, slice)
        world_ids = self._ids_between(rows.start, rows.stop) if len(world_ms) else []
        merged: list[tuple[tuple[int, str], int, Any]] = [
            ((int(m), i), 0, k) for k, (m, i) in enumerate(zip(world_ms, world_ids))
        ]
        merged.extend((e.key, 1, e) for e in extras)
        merged.sort(key=lambda item: item[0])
        taken = merged[:limit]
        if not taken:
            return PageSelection(self._physical(slice(0, 0)), 0, None)
        world_taken = sum(1 for item in taken if item[1] == 0)
        position = rows.start + world_taken
        last_key = taken[-1][0]
        more = position < next_pos or world_more or bool(self._extras_after(last_key, clock_ms, 1))
        order = [(item[1], item[2]) for item in taken]  # (0, k-th world row) | (1, ExtraRow)
        world = self._physical(slice(rows.start, position))
        next_cursor = Cursor(self.spec.name, last_key[0], last_key[1], position).encode() if more else None
        return PageSelection(world, world_taken, next_cursor, order)

    def page_json(
        self, *, clock_ms: int, limit: int, cursor: Cursor | None = None, since_ms: int | None = None
    ) -> tuple[bytes, str | None]:
        """(JSON array of the page's rows, next_cursor or None); see :meth:`select_page`."""
        sel = self.select_page(clock_ms=clock_ms, limit=limit, cursor=cursor, since_ms=since_ms)
        if sel.merged is None:
            if sel.world_rows == 0:
                return b"[]", sel.next_cursor
            return self._page_bytes(sel.world), sel.next_cursor
        world_texts = self._row_texts(sel.world) if sel.world_rows else []
        texts = [world_texts[item] if src == 0 else item.json for src, item in sel.merged]
        return b"[" + ",".join(texts).encode() + b"]", sel.next_cursor

    def page_arrow(
        self, *, clock_ms: int, limit: int, cursor: Cursor | None = None, since_ms: int | None = None
    ) -> tuple[bytes, str | None]:
        """(the page as an Arrow IPC stream in :func:`arrow_schema`, next_cursor or None): the
        same rows, order and cursor as :meth:`page_json`."""
        sel = self.select_page(clock_ms=clock_ms, limit=limit, cursor=cursor, since_ms=since_ms)
        schema = arrow_schema(self.spec)
        if sel.world_rows:
            rows = sel.world
            texts = self._served_texts()
            if isinstance(rows, slice):
                world = self.table.slice(rows.start, rows.stop - rows.start)
                page_texts = {c: t.slice(rows.start, rows.stop - rows.start) for c, t in texts.items()}
            else:
                lo = int(rows.min())
                take = pa.array(rows - lo)
                world = self.table.slice(lo, int(rows.max()) + 1 - lo).take(take)
                page_texts = {c: t.slice(lo, int(rows.max()) + 1 - lo).take(take) for c, t in texts.items()}
            table = served_arrow(self.spec, world, page_texts)
        else:
            table = schema.empty_table()
        if sel.merged is not None:
            extras = [item for src, item in sel.merged if src == 1]
            extra_table = pa.Table.from_pylist(
                [_arrow_row(self.spec, orjson.loads(e.json)) for e in extras], schema=schema
            )
            both = pa.concat_tables([table, extra_table])
            picks, k_extra = [], table.num_rows
            for src, item in sel.merged:
                if src == 0:
                    picks.append(item)
                else:
                    picks.append(k_extra)
                    k_extra += 1
            table = both.take(pa.array(picks, pa.int64()))
        return ipc_stream(table), sel.next_cursor

    def _served_texts(self) -> dict[str, pa.ChunkedArray]:
        """The ``ts_raw`` fields as served, rendered once for the whole table (on first use)."""
        if self._texts is None:
            self._texts = {
                column: served_text_column(self.table, column)
                for _, column, kind in self.spec.fields
                if kind == "ts_raw"
            }
        return self._texts

    def state_key(self, clock_ms: int) -> tuple[int, int | None, int]:
        """Two requests with the same cursor, limit and state key get the same page."""
        hi = int(np.searchsorted(self.ms, clock_ms, side="right"))
        exact_clock = self.superseded_ms is not None or bool(self.extras)
        return (hi, clock_ms if exact_clock else None, len(self.extras))

    def _extras_after(self, after_key: tuple[int, str] | None, clock_ms: int, limit: int) -> list[ExtraRow]:
        lo = 0 if after_key is None else bisect.bisect_right(self._extra_keys, after_key)
        hi = bisect.bisect_right(self._extra_keys, (clock_ms, _MAX_ID))
        return self.extras[lo : min(hi, lo + limit + 1)]


@dataclasses.dataclass
class PageSelection:
    """The rows of one page: world rows (a table slice or row positions) and, when live rows are
    merged in, their order."""

    world: slice | np.ndarray  # physical rows of the world table
    world_rows: int
    next_cursor: str | None
    merged: list[tuple[int, Any]] | None = None  # (0, k-th world row) | (1, ExtraRow), in order


# --- the Arrow wire format ---------------------------------------------------------------------
#
# ``Accept: application/vnd.apache.arrow.stream`` gets the same page as an Arrow IPC stream. Field
# types (docs/appsprint_export_api.md, "Arrow pages"): ids and strings utf8; server-written
# timestamps timestamp[ms, UTC]; ``occurred_at`` utf8 (served as received, like in JSON); revenue
# decimal128(18, 6); confidence float64; ``parameters`` utf8 holding the JSON text of the value
# served in JSON; a dotted field nests in a struct (``attribution``).

ARROW_MEDIA_TYPE = "application/vnd.apache.arrow.stream"
ARROW_TS = pa.timestamp("ms", tz="UTC")


def _arrow_type(kind: str, world_type: pa.DataType) -> pa.DataType:
    if kind == "ts":
        return ARROW_TS
    if kind in ("ts_raw", "json"):
        return pa.string()
    return world_type


@functools.cache
def arrow_schema(spec: ResourceSpec) -> pa.Schema:
    """The Arrow schema of a page of ``spec`` (the order of the JSON fields)."""
    from .world import TABLE_SCHEMAS

    world = TABLE_SCHEMAS[spec.table]
    top: dict[str, Any] = {}
    for api_name, column, kind in spec.fields:
        parent, _, key = api_name.rpartition(".")
        field = pa.field(key, _arrow_type(kind, world.field(column).type))
        if parent:
            top.setdefault(parent, []).append(field)
        else:
            top[key] = field
    return pa.schema([pa.field(k, pa.struct(v)) if isinstance(v, list) else v for k, v in top.items()])


def served_text_column(world: pa.Table, column: str) -> pa.ChunkedArray:
    """A ``ts_raw`` field as served: the timestamp's text, or the planted bad value as received."""
    return pc.coalesce(world[f"{column}_raw"], _ts_text(world[column]))


def served_arrow(spec: ResourceSpec, world: pa.Table, texts: dict[str, Any] | None = None) -> pa.Table:
    """World rows as served in Arrow (vectorised). ``texts``: the rows' ``ts_raw`` fields already
    rendered by :func:`served_text_column` (the index renders them once for the whole table)."""
    schema = arrow_schema(spec)
    columns: dict[str, Any] = {}
    nested: dict[str, dict[str, pa.Array]] = {}
    for api_name, column, kind in spec.fields:
        col = world[column]
        if kind == "ts":
            col = pc.cast(col, ARROW_TS, safe=False)  # truncated to the served millisecond
        elif kind == "ts_raw":
            col = texts[column] if texts and column in texts else served_text_column(world, column)
        elif kind == "json":
            ok = pc.fill_null(pc.and_(pc.starts_with(col, "{"), pc.ends_with(col, "}")), True)
            if not pc.all(ok).as_py():  # text that is not an object: JSON-string encoded, like in JSON
                col = pa.array(
                    [v if good else _json_text(v) for v, good in zip(col.to_pylist(), ok.to_pylist())], pa.string()
                )
        parent, _, key = api_name.rpartition(".")
        if parent:
            nested.setdefault(parent, {})[key] = col
        else:
            columns[key] = col
    arrays = []
    for field in schema:
        if field.name in nested:
            parts = nested[field.name]
            arrays.append(
                pa.StructArray.from_arrays([_typed(parts[f.name], f.type) for f in field.type], fields=list(field.type))
            )
        else:
            arrays.append(_typed(columns[field.name], field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _typed(col: pa.Array | pa.ChunkedArray, type_: pa.DataType) -> pa.Array:
    col = _one_chunk(col)
    return col if col.type == type_ else col.cast(type_)


def _one_chunk(col: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(col, pa.ChunkedArray):
        return col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    return col


def _arrow_row(spec: ResourceSpec, row: dict[str, Any]) -> dict[str, Any]:
    """A live row (JSON-shaped dict) with its values typed for :func:`arrow_schema`."""
    out = dict(row)
    for api_name, _, kind in spec.fields:
        if kind == "ts" and "." not in api_name and out.get(api_name) is not None:
            out[api_name] = dt.datetime.fromisoformat(out[api_name].replace("Z", "+00:00"))
    return out


def ipc_stream(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def wants_arrow(accept: str | None) -> bool:
    """Whether an ``Accept`` header prefers the Arrow stream to JSON (q-values honoured; JSON
    wins ties and is the default)."""
    if not accept:
        return False
    q_arrow = q_json = 0.0
    for part in accept.split(","):
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.lower()
        if media == ARROW_MEDIA_TYPE:
            q_arrow = max(q_arrow, q)
        elif media in ("application/json", "application/*", "*/*"):
            q_json = max(q_json, q if media == "application/json" else min(q, 0.001))
    return q_arrow > 0 and q_arrow > q_json


def build_indexes(world: World, app_id: str) -> dict[str, ResourceIndex]:
    """The four resources of ``app_id``, sorted and indexed (no rendering happens here)."""
    links = world.table("signal_links")
    clicks = world.table("clicks")
    link_apps = links["app_id"]
    if link_apps.null_count or pc.any(pc.not_equal(link_apps, app_id)).as_py():
        links = links.filter(pc.equal(links["app_id"], app_id))
        clicks = clicks.filter(pc.is_in(clicks["link_id"], value_set=links["link_id"].combine_chunks()))
    tables = {
        "signal_links": links,
        "clicks": clicks,
        "installs": world.table("installs"),
        "events": world.table("events"),
    }
    return {name: ResourceIndex(spec, tables[spec.table]) for name, spec in RESOURCES.items()}


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
