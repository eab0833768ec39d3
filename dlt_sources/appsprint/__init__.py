"""dlt source for the AppSprint export API: Signal links, clicks, installs, in-app events.

Loads the ``appsprint`` raw dataset described in docs/raw_layer.md::

    import dlt
    from dlt_sources.appsprint import appsprint, configure_pipeline

    pipeline = dlt.pipeline("appsprint", destination="duckdb", dataset_name="appsprint")
    configure_pipeline(pipeline)  # the dlt settings the raw layer relies on (_dlt_load_id)
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

Paging that would never end (a cursor cycle, endless empty pages with a cursor: :mod:`.guards`)
stops the walk without failing the load: the rows read before the stop load (up to the last
complete ``updated_at``, so the next run resumes exactly after them) and the stop is reported in
the resource's metrics (``paging_stopped``) and the log. Call :func:`raise_for_paging_stops` after
the run to turn it into an :class:`AppSprintPagingError` (what, where, what to do)::

    pipeline.run(appsprint())
    raise_for_paging_stops(pipeline)

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

import logging
from collections.abc import Sequence

import dlt
from dlt.common.typing import TSecretStrValue
from dlt.sources import DltResource

from . import settings
from .client import AppSprintClient
from .errors import (
    AppSprintAuthError,
    AppSprintError,
    AppSprintPagingError,
    AppSprintRequestError,
    AppSprintResponseError,
    AppSprintRetriesExhaustedError,
)
from .guards import PagingGuard
from .resource import make_resource
from .wire import parse_iso_utc

__all__ = [
    "LOAD_FILE_MAX_ROWS",
    "PIPELINE_CONFIG",
    "AppSprintAuthError",
    "AppSprintClient",
    "AppSprintError",
    "AppSprintPagingError",
    "AppSprintRequestError",
    "AppSprintResponseError",
    "AppSprintRetriesExhaustedError",
    "appsprint",
    "configure_pipeline",
    "raise_for_paging_stops",
]

logger = logging.getLogger("dlt_sources.appsprint")


# dlt configuration that a pipeline loading this source needs, set per pipeline by
# configure_pipeline(). docs/raw_layer.md promises ``_dlt_load_id`` on every raw table; for Arrow
# items dlt adds it (cheaply, as a constant column at extract time) only when its Parquet
# normalizer is told to. dlt reads that setting per pipeline (or globally), not per source.
# Load files of at most LOAD_FILE_MAX_ROWS rows, loaded one at a time (dlt rotates its extract files;
# each file is one load job, one INSERT): one file for a whole backfill was one INSERT that filled
# DuckDB's memory_limit (3.1 GB at 30M events); in files of 1M rows the load stays under 1 GB
# whatever the backfill (docs/architecture.md, "Memory and the cost of a build").
LOAD_FILE_MAX_ROWS = 1_000_000
PIPELINE_CONFIG: dict[str, object] = {
    "normalize.parquet_normalizer.add_dlt_load_id": True,
    "data_writer.file_max_items": LOAD_FILE_MAX_ROWS,
    "load.workers": 1,
}


def configure_pipeline(pipeline: dlt.Pipeline) -> dlt.Pipeline:
    """Sets :data:`PIPELINE_CONFIG` for ``pipeline`` only (dlt config keyed by the pipeline's name);
    a value the user configured, for this pipeline or for all, wins. Returns ``pipeline``."""
    for key, value in PIPELINE_CONFIG.items():
        scoped = f"{pipeline.pipeline_name}.{key}"
        if dlt.config.get(scoped) is None and dlt.config.get(key) is None:
            dlt.config[scoped] = value
    return pipeline


def raise_for_paging_stops(pipeline: dlt.Pipeline) -> None:
    """After ``pipeline.run(appsprint(...))``: raises :class:`AppSprintPagingError` when the paging
    of a resource was stopped (its rows before the stop are loaded by then), naming every stop.
    Reads the run's trace, so it works whichever copy of the source ran (Dagster selects
    resources on a clone)."""
    trace = pipeline.last_trace
    info = trace.last_extract_info if trace is not None else None
    stops: list[str] = []
    for per_load in info.metrics.values() if info is not None else ():
        for metrics in per_load:
            for resource_metrics in metrics["resource_metrics"].values():
                stop = resource_metrics.custom_metrics.get("paging_stopped")
                if stop and stop not in stops:
                    stops.append(str(stop))
    if stops:
        fix = "The rows read before each stop are loaded and the next run resumes after them. " + PagingGuard.fix()
        raise AppSprintPagingError(" ".join(stops), fix=fix)


@dlt.source(name="appsprint", max_table_nesting=0)
def appsprint(
    base_url: str = dlt.config.value,
    app_id: str = dlt.config.value,
    export_token: TSecretStrValue = dlt.secrets.value,
    initial_updated_since: str | None = None,
    page_limit: int = settings.DEFAULT_PAGE_LIMIT,
    timeout: float = settings.DEFAULT_TIMEOUT_SECONDS,
    max_retries: int = settings.DEFAULT_MAX_RETRIES,
    max_retry_after: float = settings.DEFAULT_MAX_RETRY_AFTER_SECONDS,
    prefetch_pages: int = settings.DEFAULT_PREFETCH_PAGES,
    bulk_parse: bool = True,
    wire: str = settings.DEFAULT_WIRE,
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
    base_url = settings.checked_base_url(base_url)
    if wire not in settings.WIRES:
        raise ValueError(f"wire must be one of {list(settings.WIRES)}, got {wire!r}")
    if not 1 <= int(page_limit) <= settings.MAX_PAGE_LIMIT:
        raise ValueError(f"page_limit must be within 1..{settings.MAX_PAGE_LIMIT}, got {page_limit}")
    initial = parse_iso_utc(initial_updated_since) if initial_updated_since else None
    names = list(resources) if resources else list(settings.RESOURCES)
    unknown = [n for n in names if n not in settings.RESOURCES]
    if unknown:
        raise ValueError(f"unknown AppSprint resources {unknown}; choose from {list(settings.RESOURCES)}")

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
        make_resource(settings.RESOURCES[name], new_client, int(page_limit), initial, int(prefetch_pages), bulk_parse)
        for name in names
    ]
