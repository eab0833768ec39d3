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

import bisect
import itertools
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from sandbox.appsprint_arrow import _arrow_row, arrow_schema, ipc_stream, served_arrow, served_text_column
from sandbox.appsprint_render import _Clockwork, _Field, _ms_array, _Page, _Pieces, _string_bytes
from sandbox.appsprint_resources import (
    RESOURCES,
    Cursor,
    ExtraRow,
    PageSelection,
    ResourceSpec,
    _field_prefixes,
    _row_end,
)
from sandbox.world import World

_MAX_ID = "\U0010ffff"  # sorts after every id: (ms, _MAX_ID) = "after every row of that ms"


# --- the index --------------------------------------------------------------------------------


def _sort_order(ms: np.ndarray, ids: pa.ChunkedArray) -> np.ndarray | None:
    """Row order by (ms, id), or None when the table is in that order already."""
    n = len(ms)
    if n < 2:
        return None
    step = np.diff(ms)
    if (step < 0).any():  # not sorted by time at all: a full sort
        full = pc.sort_indices(
            pa.table({"ms": ms, "id": ids}), sort_keys=[("ms", "ascending"), ("id", "ascending")]
        ).to_numpy()
        return None if bool((full == np.arange(n)).all()) else full.astype(np.int64)
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
            _Field(table, column, kind, prefix, pieces)
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
        assert sup is not None  # only resources with superseded rows come here
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
        texts = [bytes(data[a:b]).decode() for a, b in itertools.pairwise(bounds)]
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
