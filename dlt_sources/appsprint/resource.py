"""The dlt resource of one export endpoint, and the object that drives one run of it.

:func:`make_resource` builds the dlt resource (incremental on ``updated_at``, the quarantine
table variant, merge or append hints). Each run of it is a :class:`ResourceRun`: it takes the
client's pages, types them in batches of one kind (Arrow pages concatenated, raw JSON bodies read
by one DuckDB call, parsed rows per page), and hands dlt fewer, bigger Arrow tables: the good rows,
and the quarantined rows under the quarantine table's name. It counts what it saw for dlt's
resource metrics.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any, Literal

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.common.schema.typing import TMergeDispositionDict
from dlt.extract import DltResource

from . import settings
from .client import AppSprintClient
from .errors import AppSprintPagingError
from .pages import DuckDBPageReader, raw_from_arrow
from .rows import TypedPage, type_page, type_raw
from .wire import Page, format_updated_since

logger = logging.getLogger("dlt_sources.appsprint")

MERGE: TMergeDispositionDict = {"disposition": "merge", "strategy": "delete-insert"}

PageKind = Literal["arrow", "body", "rows"]


def page_kind(page: Page) -> PageKind:
    """Pages of one kind are typed together: Arrow tables, raw JSON bodies, or parsed rows."""
    if page.table is not None:
        return "arrow"
    return "body" if page.body is not None else "rows"


class ResourceRun:
    """One run of one resource: pages in, Arrow tables for dlt out, and the counts of the run."""

    def __init__(self, spec: settings.ResourceSpec, reader: DuckDBPageReader | None) -> None:
        self.spec = spec
        self.reader = reader
        self.rows = 0  # rows received (typed + quarantined)
        self.quarantined = 0
        self.unknown_fields: set[str] = set()
        self.waited_s = 0.0  # waiting for the API (server / network bound)
        self.typing_s = 0.0  # parsing and typing
        self.stopped: AppSprintPagingError | None = None  # why paging stopped before the end
        self._good: list[pa.Table] = []
        self._quarantine: list[pa.Table] = []
        self._batch_rows = 0

    def items(self, pages: Iterator[Page]) -> Iterator[Any]:
        """Everything to hand dlt for ``pages``: typed in batches of up to ``BULK_PAGES`` pages of
        one kind, yielded in tables of about ``YIELD_BATCH_ROWS`` good rows."""
        pending: list[Page] = []
        while True:
            t0 = time.perf_counter()
            try:
                page = next(pages, None)
            except AppSprintPagingError as exc:  # the pages before it load; see _flush
                self.stopped, page = exc, None
            t1 = time.perf_counter()
            self.waited_s += t1 - t0
            typed_pages: list[TypedPage] = []
            if pending and (page is None or page_kind(page) != page_kind(pending[0])):
                typed_pages.extend(self._type_batch(pending))
                pending = []
            if page is not None:
                pending.append(page)
                if len(pending) >= settings.BULK_PAGES or page_kind(page) == "rows":
                    typed_pages.extend(self._type_batch(pending))
                    pending = []
            self.typing_s += time.perf_counter() - t1
            for typed in typed_pages:
                yield from self._add(typed)
            if page is None:
                break
        yield from self._flush(last=True)

    def metrics(self, updated_since: str | None) -> dict[str, Any]:
        """The run's counts, for dlt's resource metrics (beside the client's request counters)."""
        metrics: dict[str, Any] = {
            "rows_received": self.rows,
            "quarantined": self.quarantined,
            "waited_for_pages_s": round(self.waited_s, 3),
            "typing_s": round(self.typing_s, 3),
            "updated_since": updated_since,
        }
        if self.stopped is not None:
            metrics["paging_stopped"] = str(self.stopped)
        if self.unknown_fields:
            metrics["unknown_fields"] = sorted(self.unknown_fields)
        return metrics

    def _type_batch(self, pages: list[Page]) -> list[TypedPage]:
        """Pages of one kind typed together: Arrow pages concatenated, raw JSON bodies read by
        one DuckDB call (per page with orjson if that fails), parsed JSON rows per page."""
        spec = self.spec
        kind = page_kind(pages[0])
        # the server's clock for "in the future": the latest of the batch (a row is never served
        # before its time, so the latest is the most lenient)
        times = [p.served_at for p in pages if p.served_at is not None]
        at = max(times) if times else None
        if kind == "arrow":
            tables = [p.table for p in pages if p.table is not None]
            try:
                table = pa.concat_tables(tables, promote_options="permissive")
            except (pa.ArrowInvalid, pa.ArrowTypeError):  # pages with incompatible schemas
                return [type_raw(spec, raw_from_arrow(spec, t), served_at=at) for t in tables]
            return [type_raw(spec, raw_from_arrow(spec, table), served_at=at)]
        if kind == "body":
            bodies = [p.body for p in pages if p.body is not None]
            raw = self.reader.read(bodies) if self.reader is not None else None
            if raw is not None:
                return [type_raw(spec, raw, served_at=at)]
            return [type_page(spec, p.parsed_rows(), served_at=at) for p in pages]
        return [type_page(spec, p.rows or [], served_at=at) for p in pages]

    def _add(self, typed: TypedPage) -> Iterator[Any]:
        self.rows += typed.rows
        new_fields = typed.unknown_fields - self.unknown_fields
        if new_fields:
            logger.warning(
                "AppSprint %s: fields not in the raw-layer contract were not loaded: %s",
                self.spec.endpoint,
                ", ".join(sorted(new_fields)),
            )
            self.unknown_fields.update(new_fields)
        # hand dlt fewer, bigger tables: its per-item work (schema, incremental) is then
        # amortised over many pages
        if typed.table.num_rows:
            self._good.append(typed.table)
            self._batch_rows += typed.table.num_rows
        if typed.quarantine is not None:
            self.quarantined += typed.quarantine.num_rows
            self._quarantine.append(typed.quarantine)
        if self._batch_rows >= settings.YIELD_BATCH_ROWS:
            yield from self._flush()

    def _flush(self, last: bool = False) -> Iterator[Any]:
        """The batch so far as (at most) two items: its good rows and its quarantined rows.

        dlt's incremental state becomes the largest ``updated_at`` handed over, and the next run
        asks for rows after it. Rows sharing the batch's last ``updated_at`` may continue on the
        next page, so they are held back into the next batch until the walk ends; when paging
        stopped early (:attr:`stopped`) they are not loaded at all, and the next run reads them."""
        good = pa.concat_tables(self._good) if self._good else None
        quarantine = pa.concat_tables(self._quarantine) if self._quarantine else None
        held: tuple[pa.Table | None, pa.Table | None] = (None, None)
        if not last or self.stopped is not None:
            boundary = _last_updated_at(self.spec.cursor, good, quarantine)
            if boundary is not None:
                good, held_good = _split_at(good, self.spec.cursor, boundary)
                quarantine, held_quarantine = _split_at(quarantine, "updated_at", boundary)
                held = (held_good, held_quarantine)
        if good is not None and good.num_rows:
            yield good
        if quarantine is not None and quarantine.num_rows:
            yield dlt.mark.with_table_name(quarantine, settings.QUARANTINE_TABLE)
        self._good = [held[0]] if held[0] is not None and held[0].num_rows else []
        self._quarantine = [held[1]] if held[1] is not None and held[1].num_rows else []
        self._batch_rows = sum(t.num_rows for t in self._good)


def _last_updated_at(cursor: str, good: pa.Table | None, quarantine: pa.Table | None) -> Any:
    values = [pc.max(t[c]).as_py() for t, c in ((good, cursor), (quarantine, "updated_at")) if t is not None]
    values = [v for v in values if v is not None]
    return max(values) if values else None


def _split_at(table: pa.Table | None, column: str, boundary: Any) -> tuple[pa.Table | None, pa.Table | None]:
    """(rows before ``boundary`` or without a value, rows at or after it)."""
    if table is None:
        return None, None
    later = pc.fill_null(pc.greater_equal(table[column], pa.scalar(boundary, table.schema.field(column).type)), False)
    if not pc.any(later).as_py():
        return table, None
    return table.filter(pc.invert(later)), table.filter(later)


@contextlib.contextmanager
def page_reader(spec: settings.ResourceSpec, bulk: bool) -> Generator[DuckDBPageReader | None, None, None]:
    """DuckDB's bulk reader of JSON page bodies for ``spec`` (None when ``bulk`` is off)."""
    if not bulk:
        yield None
        return
    with DuckDBPageReader(spec) as reader:
        yield reader


def make_resource(
    spec: settings.ResourceSpec,
    new_client: Callable[[], AppSprintClient],
    page_limit: int,
    initial: dt.datetime | None,
    prefetch_pages: int,
    bulk: bool,
) -> DltResource:
    """The dlt resource of ``spec``: incremental on its cursor, feeding its table and quarantine."""

    def read(
        updated_at: dlt.sources.incremental[dt.datetime] = dlt.sources.incremental(  # noqa: B008 (dlt's way to declare incremental)
            spec.cursor,
            initial_value=initial,
            # the API's updated_since is exclusive: no boundary de-duplication needed (and no
            # per-row hashing of the rows at the boundary)
            range_start="open",
            primary_key=(),
            # quarantined rows whose updated_at could not be read still pass to the quarantine
            on_cursor_value_missing="include",
        ),
    ) -> Iterator[Any]:
        since = format_updated_since(updated_at.start_value)
        metrics = dlt.current.resource_metrics()
        with new_client() as client, page_reader(spec, bulk) as reader:
            run = ResourceRun(spec, reader)
            pages = client.iter_pages(
                spec.endpoint,
                updated_since=since,
                limit=page_limit,
                prefetch=max(prefetch_pages, settings.BULK_PAGES) if prefetch_pages else 0,
            )
            try:
                yield from run.items(pages)
            finally:
                pages.close()
                metrics.update(client.stats.as_metrics())
                metrics.update(run.metrics(since))
        if run.stopped is not None:
            logger.error("%s %s", run.stopped, run.stopped.fix)
        if run.quarantined:
            logger.warning(
                "AppSprint %s: %d rows could not be typed; they are in the %s table with the reason",
                spec.endpoint,
                run.quarantined,
                settings.QUARANTINE_TABLE,
            )

    resource = dlt.resource(read, name=spec.name)
    # The quarantine table has its own hints (append, no key), whichever resource feeds it. A table
    # variant starts from a copy of the resource's hints, so it is created before the merge hints.
    resource.apply_hints(
        table_name=settings.QUARANTINE_TABLE,
        write_disposition="append",
        columns=settings.QUARANTINE_COLUMNS,
        create_table_variant=True,
    )
    if spec.write_disposition == "merge":
        resource.apply_hints(primary_key=spec.key, write_disposition=MERGE, columns=spec.dlt_columns())
    else:
        resource.apply_hints(write_disposition="append", columns=spec.dlt_columns())
    return resource
