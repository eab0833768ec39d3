"""dlt source for the AppSprint export API: Signal links, clicks, installs, in-app events.

Loads the ``appsprint`` raw dataset described in docs/raw_layer.md::

    import dlt
    from dlt_sources.appsprint import appsprint

    pipeline = dlt.pipeline("appsprint", destination="duckdb", dataset_name="appsprint")
    pipeline.run(appsprint())

Configuration (dlt config / secrets, or environment variables):

- ``sources.appsprint.base_url`` (``SOURCES__APPSPRINT__BASE_URL``): the API base ending in
  ``/v1``, e.g. the sandbox's ``http://127.0.0.1:8788/v1``.
- ``sources.appsprint.app_id`` (``SOURCES__APPSPRINT__APP_ID``).
- ``sources.appsprint.export_token`` (secret; ``SOURCES__APPSPRINT__EXPORT_TOKEN``): the app's
  export token. Sent only in the ``Authorization`` header; never logged, never in an error
  message, never written to the warehouse.
- optional: ``initial_updated_since`` (ISO-8601 UTC; default: everything), ``page_limit``
  (1..1000), ``timeout``, ``max_retries``, ``max_retry_after``, ``prefetch_pages``.

Each resource is incremental on ``updated_at``: within a run it follows the API's opaque
``cursor``; across runs dlt's incremental state (the largest ``updated_at`` loaded) becomes the
next run's ``updated_since`` (exclusive on the server, so ``range_start="open"`` here). State is
committed only with a completed extract, so a run that dies midway is simply repeated.

Fast path: the client asks for Arrow IPC pages (``wire="arrow"``, docs/appsprint_export_api.md);
batches of pages are concatenated, typed and validated with ``pyarrow.compute`` (:mod:`.rows`),
and yielded as Arrow tables, so dlt writes Parquet without row-by-row normalisation. A server that
answers JSON instead (no Arrow support) is read too: page bodies stay bytes and batches of them are
parsed by DuckDB's JSON reader into Arrow columns, then typed the same way. Rows that cannot be
typed are yielded to the ``quarantine`` table (append) with their reason and raw JSON; the good
rows of the same page load. Requests go through an ``httpx.Client`` whose wire I/O is urllib3's
(:mod:`.urllib3_transport`: about a quarter less client CPU per 400 KB page). Fields outside the
contract are not loaded (logged, on the Arrow and ``orjson`` paths).

Write dispositions: signal links, clicks and installs merge on their ids (latest ``updated_at``
wins: an install's attribution can change). Events are appended, one row per delivery as served
(a re-delivered event is two rows that differ only in ``updated_at``); ``stg_appsprint__events``
keeps the latest per ``event_id``. Appending writes each row once; a merge loads a staging table
and then copies it, which doubled the load time of the largest table (docs/raw_layer.md).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import time
from collections.abc import Iterator, Sequence
from typing import Any, Optional

import dlt
import pyarrow as pa
from dlt.common.typing import TSecretStrValue
from dlt.sources import DltResource

from . import settings as S
from .client import AppSprintClient
from .errors import (
    AppSprintAuthError,
    AppSprintError,
    AppSprintRequestError,
    AppSprintResponseError,
    AppSprintRetriesExhausted,
)
from .pages import DuckDBPageReader, raw_from_arrow
from .rows import TypedPage, type_page, type_raw
from .wire import Page, format_updated_since, parse_iso_utc

__all__ = [
    "AppSprintAuthError",
    "AppSprintClient",
    "AppSprintError",
    "AppSprintRequestError",
    "AppSprintResponseError",
    "AppSprintRetriesExhausted",
    "appsprint",
]

logger = logging.getLogger("dlt_sources.appsprint")

MERGE = {"disposition": "merge", "strategy": "delete-insert"}


def _enable_load_id_column() -> None:
    """docs/raw_layer.md promises ``_dlt_load_id`` on every raw table. For Arrow items dlt adds it
    (cheaply, as a constant column at extract time) only when the Parquet normalizer is told to.
    An explicit user setting wins."""
    os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")


@dlt.source(name="appsprint", max_table_nesting=0)
def appsprint(
    base_url: str = dlt.config.value,
    app_id: str = dlt.config.value,
    export_token: TSecretStrValue = dlt.secrets.value,
    initial_updated_since: str | None = None,
    page_limit: int = S.DEFAULT_PAGE_LIMIT,
    timeout: float = S.DEFAULT_TIMEOUT_SECONDS,
    max_retries: int = S.DEFAULT_MAX_RETRIES,
    max_retry_after: float = S.DEFAULT_MAX_RETRY_AFTER_SECONDS,
    prefetch_pages: int = S.DEFAULT_PREFETCH_PAGES,
    bulk_parse: bool = True,
    wire: str = S.DEFAULT_WIRE,
    resources: Sequence[str] | None = None,
) -> list[DltResource]:
    """The AppSprint export API as four resources plus the ``quarantine`` table: signal links,
    clicks and installs merged on their ids; events appended, one row per delivery.

    Args:
        base_url: API base ending in ``/v1``.
        app_id: the AppSprint app whose data is exported.
        export_token: the app-scoped export token (secret).
        initial_updated_since: on the first run, only rows updated after this instant.
        page_limit: rows per request (the API allows up to 1,000).
        timeout: seconds per HTTP request.
        max_retries: retries per request for 429 / 5xx / HTML bodies / timeouts.
        max_retry_after: a 429 asking to wait longer than this stops the run instead.
        prefetch_pages: pages fetched ahead in a thread while one is typed (0 = off).
        bulk_parse: parse JSON page bodies in bulk with DuckDB's JSON reader; when off, or for a
            page DuckDB cannot read, JSON pages are parsed with orjson one by one.
        wire: ``"arrow"`` (default) asks for Arrow IPC pages and reads JSON when the server
            answers JSON (a server without Arrow support); ``"json"`` asks for JSON only.
        resources: subset of ``signal_links``, ``clicks``, ``installs``, ``events``.
    """
    if wire not in S.WIRES:
        raise ValueError(f"wire must be one of {list(S.WIRES)}, got {wire!r}")
    if not 1 <= int(page_limit) <= S.MAX_PAGE_LIMIT:
        raise ValueError(f"page_limit must be within 1..{S.MAX_PAGE_LIMIT}, got {page_limit}")
    initial = parse_iso_utc(initial_updated_since) if initial_updated_since else None
    names = list(resources) if resources else list(S.RESOURCES)
    unknown = [n for n in names if n not in S.RESOURCES]
    if unknown:
        raise ValueError(f"unknown AppSprint resources {unknown}; choose from {list(S.RESOURCES)}")
    _enable_load_id_column()

    def new_client() -> AppSprintClient:
        return AppSprintClient(
            base_url,
            str(app_id),
            export_token,
            timeout=timeout,
            max_retries=max_retries,
            max_retry_after=max_retry_after,
            raw_bodies=bulk_parse,
            wire=wire,
        )

    return [
        _make_resource(S.RESOURCES[name], new_client, int(page_limit), initial, int(prefetch_pages), bulk_parse)
        for name in names
    ]


@contextlib.contextmanager
def _page_reader(spec: S.ResourceSpec, bulk: bool) -> Iterator[DuckDBPageReader | None]:
    if not bulk:
        yield None
        return
    reader = DuckDBPageReader(spec)
    try:
        yield reader
    finally:
        reader.close()


def _make_resource(
    spec: S.ResourceSpec,
    new_client: Any,
    page_limit: int,
    initial: dt.datetime | None,
    prefetch_pages: int,
    bulk: bool,
) -> DltResource:
    def read(
        updated_at: dlt.sources.incremental[dt.datetime] = dlt.sources.incremental(
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
        counts = {"rows": 0, "quarantined": 0}
        unknown_fields: set[str] = set()
        waited = typing = 0.0
        batch: list[pa.Table] = []
        quarantined: list[pa.Table] = []
        batch_rows = 0

        def flush() -> Iterator[Any]:
            """The batch so far as (at most) two items: its good rows and its quarantined rows."""
            nonlocal batch, quarantined, batch_rows
            if batch:
                yield pa.concat_tables(batch)
            if quarantined:
                yield dlt.mark.with_table_name(pa.concat_tables(quarantined), S.QUARANTINE_TABLE)
            batch, quarantined, batch_rows = [], [], 0

        def typed_items(typed: TypedPage) -> Iterator[Any]:
            nonlocal batch_rows
            counts["rows"] += typed.rows
            if typed.unknown_fields - unknown_fields:
                logger.warning(
                    "AppSprint %s: fields not in the raw-layer contract were not loaded: %s",
                    spec.endpoint,
                    ", ".join(sorted(typed.unknown_fields - unknown_fields)),
                )
                unknown_fields.update(typed.unknown_fields)
            # hand dlt fewer, bigger tables: its per-item work (schema, incremental) is then
            # amortised over many pages
            if typed.table.num_rows:
                batch.append(typed.table)
                batch_rows += typed.table.num_rows
            if typed.quarantine is not None:
                counts["quarantined"] += typed.quarantine.num_rows
                quarantined.append(typed.quarantine)
            if batch_rows >= S.YIELD_BATCH_ROWS:
                yield from flush()

        def type_batch(batch_pages: list[Page]) -> list[TypedPage]:
            """Pages of one kind typed together: Arrow pages concatenated, raw JSON bodies read by
            one DuckDB call (per page with orjson if that fails), parsed JSON rows per page."""
            first = batch_pages[0]
            if first.table is not None:
                tables = [p.table for p in batch_pages]
                try:
                    table = pa.concat_tables(tables, promote_options="permissive")
                except (pa.ArrowInvalid, pa.ArrowTypeError):  # pages with incompatible schemas
                    return [type_raw(spec, raw_from_arrow(spec, t)) for t in tables]
                return [type_raw(spec, raw_from_arrow(spec, table))]
            if first.body is not None:
                raw = reader.read([p.body for p in batch_pages]) if reader is not None else None
                if raw is not None:
                    return [type_raw(spec, raw)]
                return [type_page(spec, p.parsed_rows()) for p in batch_pages]
            return [type_page(spec, p.rows) for p in batch_pages]

        def kind(page: Page) -> str:
            return "arrow" if page.table is not None else "body" if page.body is not None else "rows"

        with new_client() as client, _page_reader(spec, bulk) as reader:
            pages = client.iter_pages(
                spec.endpoint,
                updated_since=since,
                limit=page_limit,
                prefetch=max(prefetch_pages, S.BULK_PAGES) if prefetch_pages else 0,
            )
            pending: list[Page] = []
            try:
                while True:
                    t0 = time.perf_counter()
                    page = next(pages, None)
                    t1 = time.perf_counter()
                    waited += t1 - t0
                    typed_pages: list[TypedPage] = []
                    if pending and (page is None or kind(page) != kind(pending[0])):
                        typed_pages.extend(type_batch(pending))
                        pending = []
                    if page is not None:
                        pending.append(page)
                        if len(pending) >= S.BULK_PAGES or kind(page) == "rows":
                            typed_pages.extend(type_batch(pending))
                            pending = []
                    typing += time.perf_counter() - t1
                    for typed in typed_pages:
                        yield from typed_items(typed)
                    if page is None:
                        break
                yield from flush()
            finally:
                pages.close()
                metrics.update(client.stats.as_metrics())
                metrics["rows_received"] = counts["rows"]
                metrics["quarantined"] = counts["quarantined"]
                # where the time went: waiting for the API (server / network bound) vs typing
                metrics["waited_for_pages_s"] = round(waited, 3)
                metrics["typing_s"] = round(typing, 3)
                metrics["updated_since"] = since
                if unknown_fields:
                    metrics["unknown_fields"] = sorted(unknown_fields)
        if counts["quarantined"]:
            logger.warning(
                "AppSprint %s: %d rows could not be typed; they are in the %s table with the reason",
                spec.endpoint,
                counts["quarantined"],
                S.QUARANTINE_TABLE,
            )

    resource = dlt.resource(read, name=spec.name)
    # The quarantine table has its own hints (append, no key), whichever resource feeds it. A table
    # variant starts from a copy of the resource's hints, so it is created before the merge hints.
    resource.apply_hints(
        table_name=S.QUARANTINE_TABLE,
        write_disposition="append",
        columns=S.QUARANTINE_COLUMNS,
        create_table_variant=True,
    )
    if spec.write_disposition == "merge":
        resource.apply_hints(primary_key=spec.key, write_disposition=MERGE, columns=spec.dlt_columns())
    else:
        resource.apply_hints(write_disposition="append", columns=spec.dlt_columns())
    return resource
