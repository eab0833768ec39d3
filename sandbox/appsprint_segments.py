"""Paging over an AppSprint table that stays on disk: a big world's Parquet file, a segment at a time.

A world of tens of millions of events does not fit in the server's memory. For such a world
(``World.rows_dir``: :func:`.world_cache.open_world`) the server (:func:`build_indexes`) keeps, per table, only what
every request needs -- ``updated_at`` in milliseconds, in served order (8 bytes a row; installs
also ``superseded_at``) -- and reads the rows themselves from the world cache's Parquet file one
*segment* at a time: ~:data:`SEGMENT_ROWS` consecutive rows cut where the millisecond changes (so
rows that tie on the served key are in one segment). A segment is served by an ordinary
:class:`~.appsprint_pages.ResourceIndex` over its rows; the two most recent segments are kept
(a client walks pages forward, so consecutive pages hit the same one) and the next one is read
ahead in a thread while they are served.

What a client sees is what the in-memory server serves (same rows, order, JSON and Arrow bytes,
cursor keys) except that a page stops at the end of a segment: it may hold fewer than ``limit``
rows while its ``next_cursor`` leads on. The files must be sorted by ``updated_at`` (the generator
writes them so: :mod:`.generate.sink`).
"""

from __future__ import annotations

import bisect
import collections
import concurrent.futures
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sandbox.appsprint_pages import _MAX_ID, ResourceIndex
from sandbox.appsprint_pages import build_indexes as in_memory_indexes
from sandbox.appsprint_render import _ms_array
from sandbox.appsprint_resources import RESOURCES, Cursor, ExtraRow, PageSelection, ResourceSpec
from sandbox.world import TABLE_SCHEMAS, World

SEGMENT_ROWS = 250_000
SEGMENTS_KEPT = 2


class _Segment(ResourceIndex):
    """Rows [first, first + len) of a :class:`SegmentedIndex`, served as a table of their own."""

    def __init__(self, spec: ResourceSpec, table: pa.Table, first: int, owner: SegmentedIndex) -> None:
        super().__init__(spec, table)
        self.first, self.owner = first, owner

    def select_page(
        self, *, clock_ms: int, limit: int, cursor: Cursor | None = None, since_ms: int | None = None
    ) -> PageSelection:
        sel = super().select_page(clock_ms=clock_ms, limit=limit, cursor=cursor, since_ms=since_ms)
        if sel.next_cursor is not None or (sel.world_rows == 0 and sel.merged is None):
            return sel
        # the segment ends here; the world may not: lead on from the page's last row
        end = self.first + len(self)
        if not self.owner.any_visible_from(end, clock_ms):
            return sel
        if sel.merged is not None and sel.merged[-1][0] == 1:
            key = sel.merged[-1][1].key
        else:
            rows = sel.world
            last = rows.stop - 1 if isinstance(rows, slice) else int(rows[-1])
            key = (int(_ms_array(self.table["updated_at"].slice(last, 1))[0][0]), self.ids[last].as_py())
        hint = self.first + self.position_after(key[0], key[1])
        return PageSelection(
            sel.world, sel.world_rows, Cursor(self.spec.name, key[0], key[1], hint).encode(), sel.merged
        )


class SegmentedIndex:
    """The :class:`~.appsprint_pages.ResourceIndex` interface the server uses, over a Parquet file."""

    def __init__(self, spec: ResourceSpec, path: Path, segment_rows: int = SEGMENT_ROWS) -> None:
        self.spec, self.path = spec, Path(path)
        file = pq.ParquetFile(self.path)
        ms = _ms_array(file.read(columns=["updated_at"])["updated_at"])[0]
        if len(ms) > 1 and bool((np.diff(ms) < 0).any()):
            raise ValueError(f"{self.path} is not sorted by updated_at: a big world's files must be")
        self.ms = ms
        self.superseded_ms = (
            _ms_array(file.read(columns=["superseded_at"])["superseded_at"])[0] if spec.superseded else None
        )
        cuts = [0]
        while cuts[-1] + segment_rows < len(ms):  # next cut: the first row of a new millisecond
            at = cuts[-1] + segment_rows
            cuts.append(int(np.searchsorted(ms, ms[at - 1], side="right")))
        self.bounds = [*cuts, len(ms)] if len(ms) else [0, 0]
        groups = [file.metadata.row_group(g).num_rows for g in range(file.num_row_groups)]
        self.group_starts = np.r_[0, np.cumsum(groups)].astype(np.int64)
        self.extras: list[ExtraRow] = []
        self.extra_keys: list[tuple[int, str]] = []
        self.segments: collections.OrderedDict[int, _Segment] = collections.OrderedDict()
        self.ahead: dict[int, concurrent.futures.Future[_Segment]] = {}
        self.reader = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"read-{spec.name}")
        self.table = TABLE_SCHEMAS[spec.table].empty_table()  # the rows are on disk

    def __len__(self) -> int:
        return len(self.ms)

    # --- segments ----------------------------------------------------------------------------
    def segment(self, k: int) -> _Segment:
        """Segment ``k``, read (or taken from the read ahead) if not kept; the next one is read
        ahead in a thread meanwhile (a client walks forward; reading releases the GIL)."""
        if k in self.segments:
            self.segments.move_to_end(k)
            seg = self.segments[k]
        else:
            ahead = self.ahead.pop(k, None)
            seg = ahead.result() if ahead is not None else self._read(k)
            for row, at in zip(self.extras, self._extra_positions()):
                if self.segment_of(at) == k:
                    seg.add_extra(row)
            self.segments[k] = seg
            while len(self.segments) > SEGMENTS_KEPT:
                self.segments.popitem(last=False)
        following = k + 1
        if following < len(self.bounds) - 1 and following not in self.segments and following not in self.ahead:
            self.ahead.clear()  # a read ahead nobody took (the client jumped) is dropped
            self.ahead[following] = self.reader.submit(self._read, following)
        return seg

    def _read(self, k: int) -> _Segment:
        first, stop = self.bounds[k], self.bounds[k + 1]
        g0 = int(np.searchsorted(self.group_starts, first, side="right")) - 1
        g1 = int(np.searchsorted(self.group_starts, stop, side="left"))
        rows = pq.ParquetFile(self.path).read_row_groups(list(range(g0, max(g1, g0 + 1))))
        table = rows.slice(first - int(self.group_starts[g0]), stop - first).combine_chunks()
        return _Segment(self.spec, table, first, self)

    def segment_of(self, position: int) -> int:
        """The segment holding ``position`` (the last one for the position after every row)."""
        return min(max(bisect.bisect_right(self.bounds, position) - 1, 0), len(self.bounds) - 2)

    def _extra_positions(self) -> list[int]:
        """Where each live row falls among the world rows (the segment it belongs to)."""
        return np.searchsorted(self.ms, [key[0] for key in self.extra_keys], side="left").tolist()

    def any_visible_from(self, position: int, clock_ms: int) -> bool:
        """Whether a row at ``position`` or later, or a live row after it, is visible at the clock."""
        hi = int(np.searchsorted(self.ms, clock_ms, side="right"))
        if self.superseded_ms is not None:
            if bool((self.superseded_ms[position:hi] > clock_ms).any()):
                return True
        elif position < hi:
            return True
        return any(at >= position and key[0] <= clock_ms for key, at in zip(self.extra_keys, self._extra_positions()))

    # --- the interface of ResourceIndex --------------------------------------------------------
    def add_extra(self, row: ExtraRow) -> None:
        at = bisect.bisect_right(self.extra_keys, row.key)
        self.extra_keys.insert(at, row.key)
        self.extras.insert(at, row)
        position = int(np.searchsorted(self.ms, row.key[0], side="left"))
        k = self.segment_of(position)
        if k in self.segments:
            self.segments[k].add_extra(row)

    def clear_extras(self) -> None:
        self.extras.clear()
        self.extra_keys.clear()
        for seg in self.segments.values():
            seg.clear_extras()

    def max_visible_ms(self, clock_ms: int) -> int | None:
        hi = int(np.searchsorted(self.ms, clock_ms, side="right"))
        best = int(self.ms[hi - 1]) if hi else None
        at = bisect.bisect_right(self.extra_keys, (clock_ms, _MAX_ID))
        if at:
            best = self.extra_keys[at - 1][0] if best is None else max(best, self.extra_keys[at - 1][0])
        return best

    def state_key(self, clock_ms: int) -> tuple[int, int | None, int]:
        hi = int(np.searchsorted(self.ms, clock_ms, side="right"))
        exact_clock = self.superseded_ms is not None or bool(self.extras)
        return (hi, clock_ms if exact_clock else None, len(self.extras))

    def _start(self, cursor: Cursor | None, since_ms: int | None) -> int:
        if cursor is not None:
            lo = int(np.searchsorted(self.ms, cursor.updated_at_ms, side="left"))
            hi = int(np.searchsorted(self.ms, cursor.updated_at_ms, side="right"))
            if hi == lo:
                return lo
            seg = self.segment(self.segment_of(lo))  # a millisecond's rows are in one segment
            return seg.first + seg.position_after(cursor.updated_at_ms, cursor.row_id)
        if since_ms is not None:
            return int(np.searchsorted(self.ms, since_ms, side="right"))
        return 0

    def _visible_in(self, k: int, start: int, clock_ms: int) -> bool:
        """Whether segment ``k`` has a row visible at the clock from ``start`` on (live rows too)."""
        stop = self.bounds[k + 1]
        hi = min(stop, int(np.searchsorted(self.ms, clock_ms, side="right")))
        if self.superseded_ms is None and start < hi:
            return True
        if self.superseded_ms is not None and bool((self.superseded_ms[start:hi] > clock_ms).any()):
            return True
        return any(
            at >= start and self.segment_of(at) == k and key[0] <= clock_ms
            for key, at in zip(self.extra_keys, self._extra_positions())
        )

    def _serving(self, cursor: Cursor | None, since_ms: int | None, clock_ms: int) -> _Segment:
        """The segment that serves the page: the one holding its start, or the first after it
        with a visible row (a page never comes back empty while rows follow)."""
        start = self._start(cursor, since_ms)
        k = self.segment_of(start)
        while k < len(self.bounds) - 2 and not self._visible_in(k, max(start, self.bounds[k]), clock_ms):
            k += 1
        return self.segment(k)

    def page_json(
        self, *, clock_ms: int, limit: int, cursor: Cursor | None = None, since_ms: int | None = None
    ) -> tuple[bytes, str | None]:
        seg = self._serving(cursor, since_ms, clock_ms)
        return seg.page_json(clock_ms=clock_ms, limit=limit, cursor=cursor, since_ms=since_ms)

    def page_arrow(
        self, *, clock_ms: int, limit: int, cursor: Cursor | None = None, since_ms: int | None = None
    ) -> tuple[bytes, str | None]:
        seg = self._serving(cursor, since_ms, clock_ms)
        return seg.page_arrow(clock_ms=clock_ms, limit=limit, cursor=cursor, since_ms=since_ms)


def build_indexes(
    world: World, app_id: str, segment_rows: int = SEGMENT_ROWS
) -> dict[str, ResourceIndex | SegmentedIndex]:
    """The four resources of ``app_id``: :func:`.appsprint_pages.build_indexes`, except that a
    world whose AppSprint rows stay on disk (``world.rows_dir``) has them served from there, in
    segments of about ``segment_rows`` rows."""
    if world.rows_dir is None:
        return dict(in_memory_indexes(world, app_id))
    links = world.table("signal_links")
    if links["app_id"].null_count or pc.any(pc.not_equal(links["app_id"], app_id)).as_py():
        raise ValueError(f"{world.rows_dir}: a world served from its files must have one app's Signal links")
    return {
        name: ResourceIndex(spec, links)
        if spec.table == "signal_links"
        else SegmentedIndex(spec, world.rows_dir / f"{spec.table}.parquet", segment_rows)
        for name, spec in RESOURCES.items()
    }
