"""Batches of queue rows and their request bodies (<= 1,000 events of one pixel; test
events alone; docs/decisions/0006-forwarding-rules.md).

:func:`plan_batches` cuts the ordered pending rows into :class:`Batch` es (ids only: cheap);
:meth:`Batch.build` makes the ``data[]`` items and the request body. :class:`PayloadPipeline`
builds the next batch on a background thread while the current one is posted: the build is CPU
work, the POST mostly waits on the network (releasing the GIL), so it comes off the critical path.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import time
from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa

from signal_campaigns.tiktok.events_api import ForwardingError

from .payload import build_events, encode_body

DEFAULT_TEST_EVENT_CODE = "SIGNAL_CAMPAIGNS_TEST"
# queue columns in build_events' argument order
EVENT_COLUMNS = (
    "tiktok_event",
    "event_time",
    "event_id",
    "ttclid",
    "ip",
    "user_agent",
    "external_id_source",
    "value",
    "currency",
    "page_url",
)


class PayloadError(ForwardingError):
    """A queue row that cannot be turned into an Events API payload (e.g. a NULL ``event_time``)."""

    def __init__(self, event_id: str, pixel_code: str, cause: Exception) -> None:
        self.event_id = event_id
        super().__init__(
            f"events_to_forward row event_id={event_id!r} (pixel {pixel_code}) cannot be turned into an "
            f"Events API payload ({type(cause).__name__}: {cause}); fix or exclude it in the "
            "events_to_forward model. Its batch and the events after it stay pending; the batches "
            "before it were sent."
        )


@dataclasses.dataclass
class Batch:
    """One request's worth of events: rows ``lo:hi`` of ``rows``, a chunk of the pending rows (its
    columns become Python values only when the batch is built, on the payload thread)."""

    batch_id: str
    pixel_code: str
    test_event_code: str | None
    event_ids: list[str]
    rows: pa.Table = dataclasses.field(repr=False)
    lo: int = 0
    hi: int = 0
    events: list[dict[str, Any]] = dataclasses.field(default_factory=list, repr=False)
    body: bytes = dataclasses.field(default=b"", repr=False)  # the whole batch's request body
    build_seconds: float = 0.0

    def build(self, partner_name: str | None = None) -> Batch:
        """Fill ``events`` and ``body`` (idempotent); returns the batch."""
        if not self.body:
            started = time.perf_counter()
            self.build_events()
            self.body = self.encode(0, len(self.events), partner_name)
            self.build_seconds = time.perf_counter() - started
        return self

    def build_events(self) -> Batch:
        """Fill ``events`` only (the dry run needs no request body); returns the batch."""
        part = self.rows.slice(self.lo, self.hi - self.lo)
        columns = [self.event_ids if name == "event_id" else part.column(name).to_pylist() for name in EVENT_COLUMNS]
        try:
            self.events = build_events(*columns)
        except (TypeError, ValueError) as exc:
            raise self._payload_error(columns, exc) from exc
        return self

    def _payload_error(self, columns: list[list[Any]], batch_error: Exception) -> PayloadError:
        """The error naming the first row of the batch that cannot be built."""
        for k in range(len(self.event_ids)):
            try:
                build_events(*([column[k]] for column in columns))
            except (TypeError, ValueError) as exc:
                return PayloadError(self.event_ids[k], self.pixel_code, exc)
        return PayloadError(self.event_ids[0], self.pixel_code, batch_error)

    def encode(self, lo: int, hi: int, partner_name: str | None = None) -> bytes:
        """The request body for ``events[lo:hi]`` (bisection of a 40002)."""
        return encode_body(
            self.pixel_code, self.events[lo:hi], test_event_code=self.test_event_code, partner_name=partner_name
        )


def plan_batches(
    rows: pa.Table, *, run_id: str, batch_size: int, chunk_rows: int, test_event_code: str | None = None
) -> Iterator[Batch]:
    """Batches of one pixel each, <= ``batch_size`` events, in ``rows``' order; a test event
    (``is_test``) alone, with its own ``test_event_code``, else ``test_event_code``, else
    :data:`DEFAULT_TEST_EVENT_CODE`. The columns that cut batches are converted to Python
    ``chunk_rows`` rows at a time; the others by each batch's build."""
    chunk = max(batch_size, (chunk_rows // batch_size) * batch_size)
    seq = 0
    for off in range(0, rows.num_rows, chunk):
        part = rows.slice(off, chunk)
        ids, pixels, tests, codes = (
            part.column(name).to_pylist() for name in ("event_id", "pixel_code", "is_test", "test_event_code")
        )
        n = len(ids)
        i = 0
        while i < n:
            if tests[i]:
                j, code = i + 1, codes[i] or test_event_code or DEFAULT_TEST_EVENT_CODE
            else:
                j, code, limit = i + 1, None, min(n, i + batch_size)
                while j < limit and pixels[j] == pixels[i] and not tests[j]:
                    j += 1
            seq += 1
            yield Batch(f"{run_id}-{seq:06d}", pixels[i], code, ids[i:j], part, i, j)
            i = j


class PayloadPipeline:
    """Builds the next batch's payloads while the current batch is posted.

    Call :meth:`build_next` just before a long wait on the network (the POST) and :meth:`take` when
    the next batch is needed. With ``background=True`` the build runs on one worker thread, which
    then holds the GIL mostly while the caller's thread waits on a socket (a worker that keeps
    building ahead would also hold it while the caller wants it back after a disk write); else it
    runs inline in :meth:`take`. At most two batches' payloads are in memory."""

    def __init__(self, batches: Iterable[Batch], partner_name: str | None = None, *, background: bool = True) -> None:
        self._batches = iter(batches)
        self._partner_name = partner_name
        self._pool = (
            concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="forwarding-payloads") if background else None
        )
        self._next: Batch | concurrent.futures.Future[Batch | None] | None = None
        self._started = False

    def build_next(self) -> None:
        """Start building the batch after the ones taken (no-op when already started)."""
        if self._started:
            return
        self._started = True
        if self._pool is not None:  # cutting the batch too: the worker is the batches' only reader
            self._next = self._pool.submit(self._build_next)
        else:
            self._next = next(self._batches, None)

    def _build_next(self) -> Batch | None:
        batch = next(self._batches, None)
        return batch.build(self._partner_name) if batch is not None else None

    def take(self) -> Batch | None:
        """The next batch, built (waits for it); ``None`` when there are no more."""
        self.build_next()
        pending, self._next, self._started = self._next, None, False
        if isinstance(pending, concurrent.futures.Future):
            return pending.result()
        return pending.build(self._partner_name) if pending is not None else None

    def close(self) -> None:
        if self._pool is not None:
            if isinstance(self._next, concurrent.futures.Future):
                self._next.cancel()
            self._pool.shutdown(wait=True)

    def __enter__(self) -> PayloadPipeline:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
