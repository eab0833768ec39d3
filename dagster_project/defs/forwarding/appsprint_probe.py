"""The forwarding sensor's cheap question to AppSprint: "are there events newer than X?".

Plain Python (no Dagster). One ``GET /v1/apps/{app_id}/events?updated_since=<cursor>&limit=1000``
answers it when a handful of events arrived; pages are followed (the client's ``iter_pages``, up
to ``max_pages``) only to find the newest ``updated_at`` after a long pause. The warehouse is not touched.
"""

from __future__ import annotations

import dataclasses

from dlt_sources.appsprint import AppSprintClient, AppSprintResponseError

EVENTS_ENDPOINT = "events"


@dataclasses.dataclass(frozen=True)
class Probe:
    """What one probe saw: ``newest`` is the largest ``updated_at`` served (None: nothing new)."""

    newest: str | None
    rows: int
    pages: int
    complete: bool  # False: more rows remain beyond max_pages (the next probe goes on from newest)


def probe_new_events(
    client: AppSprintClient, since: str | None, *, page_limit: int = 1000, max_pages: int = 200
) -> Probe:
    """Events served after ``since`` (an ``updated_at`` as served; None: from the beginning).

    Raises the client's :class:`~dlt_sources.appsprint.AppSprintError` subclasses (HTTP
    errors, rejected token, a reply that is not the contract's shape); their messages never
    contain the export token."""
    newest: str | None = None
    rows = 0
    pages = client.iter_pages(EVENTS_ENDPOINT, updated_since=since, limit=page_limit, prefetch=0)
    for page_no, page in enumerate(pages, start=1):
        data = page.parsed_rows()
        if data:
            last = data[-1]
            stamp = last.get("updated_at") if isinstance(last, dict) else None
            if not isinstance(stamp, str) or not stamp:
                raise AppSprintResponseError(
                    f"AppSprint {EVENTS_ENDPOINT}: the last row of a page has no updated_at string "
                    f"(got {type(stamp).__name__}); the contract (docs/appsprint_export_api.md) requires one"
                )
            newest = stamp
            rows += len(data)
        if not page.next_cursor:
            return Probe(newest, rows, page_no, True)
        if page_no >= max_pages:
            break  # the next page is not fetched (iter_pages is lazy without prefetch)
    return Probe(newest, rows, max_pages, False)
