"""Guards against an export API that misbehaves as a whole (docs/decisions/0011-hostile-input.md).

- Paging that never ends: :class:`PagingGuard` stops a cursor walk that comes back to a cursor it
  already followed (A -> B -> A, any earlier cursor) or that brings more than
  :data:`MAX_EMPTY_PAGES_IN_A_ROW` empty pages in a row while still handing out a next cursor.
  The stop is an :class:`~.errors.AppSprintPagingError`; the resource loads the rows read before
  it and reports the stop (:func:`dlt_sources.appsprint.raise_for_paging_stops`).
- Events from the future: an event time more than :data:`FUTURE_TOLERANCE` after the export's own
  clock when it served the page (a device clock set to 2999) is quarantined with the reason
  ``future_timestamp``. The clock is the server's (``X-Server-Time``, else the HTTP ``Date``
  header, else this machine's): the sandbox's clock moves with its control route, and a sandbox
  or a server ahead of this machine must not turn its own present into "the future".
"""

from __future__ import annotations

import datetime as dt
import email.utils

import httpx

from .errors import AppSprintPagingError

# The export API's contract: a page with a next_cursor is never empty. A few in a row are
# tolerated (a server filtering rows after paging them); more stop the walk.
MAX_EMPTY_PAGES_IN_A_ROW = 5
# Device clocks drift; an event up to this far ahead of the server's clock is accepted.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
# The columns holding a time the device reported (server-written times are the server's clock).
DEVICE_TIME_COLUMNS: dict[str, tuple[str, ...]] = {"events": ("occurred_at",)}
SERVER_TIME_HEADER = "X-Server-Time"

_SHOWN_CURSOR_CHARS = 48


def server_time(resp: httpx.Response) -> dt.datetime | None:
    """When the server served ``resp`` by its own clock: ``X-Server-Time`` (ISO-8601), else the
    HTTP ``Date`` header; None when neither can be read."""
    text = resp.headers.get(SERVER_TIME_HEADER)
    if text:
        try:
            when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            when = None
        if when is not None:
            return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
    date = resp.headers.get("Date")
    if date:
        try:
            parsed: dt.datetime = email.utils.parsedate_to_datetime(date)
        except (TypeError, ValueError):
            return None
        return parsed
    return None


def _shown(cursor: str) -> str:
    return cursor if len(cursor) <= _SHOWN_CURSOR_CHARS else cursor[:_SHOWN_CURSOR_CHARS] + "..."


class PagingGuard:
    """Watches one cursor walk; :meth:`check` raises when it must stop."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.followed: dict[str, int] = {}  # cursor -> the page it was sent for
        self.pages = 0
        self.empty_in_a_row = 0

    def check(self, sent_cursor: str | None, empty: bool, next_cursor: str | None, request_id: str | None) -> None:
        """After a page (asked with ``sent_cursor``): raises :class:`AppSprintPagingError` when
        following ``next_cursor`` would go round in a circle or on through empty pages."""
        self.pages += 1
        if sent_cursor is not None:
            self.followed[sent_cursor] = self.pages
        self.empty_in_a_row = self.empty_in_a_row + 1 if empty and next_cursor else 0
        if not next_cursor:
            return
        request = f"request id {request_id}" if request_id else "no request id"
        if next_cursor in self.followed:
            raise AppSprintPagingError(
                f"AppSprint {self.endpoint}: paging stopped after page {self.pages}: its next_cursor "
                f"{_shown(next_cursor)!r} was already followed for page {self.followed[next_cursor]} "
                f"(a cursor cycle: the walk would never end; {request}).",
                fix=self.fix(),
            )
        if self.empty_in_a_row > MAX_EMPTY_PAGES_IN_A_ROW:
            raise AppSprintPagingError(
                f"AppSprint {self.endpoint}: paging stopped after page {self.pages}: "
                f"{self.empty_in_a_row} empty pages in a row still carried a next_cursor (more than "
                f"the {MAX_EMPTY_PAGES_IN_A_ROW} tolerated; last next_cursor {_shown(next_cursor)!r}, "
                f"{request}).",
                fix=self.fix(),
            )

    @staticmethod
    def fix() -> str:
        return (
            "Run the extraction again; if it stops at the same place, send this message (endpoint, "
            "cursor, request id) to AppSprint support."
        )
