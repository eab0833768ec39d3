"""The forwarding loop: ``events_to_forward`` -> TikTok Events API -> ``event_delivery_ledger``.

:func:`forward_events` opens the warehouse (or takes an open DuckDB connection) and runs one
:class:`Forwarder` pass:

1. recovery: the journal a crashed run left is folded into the ledger and its ``in_flight``
   events -> ``pending`` (TikTok's event_id dedup makes the resend harmless);
2. queue rows without a ledger row -> ``pending``;
3. the pending rows are grouped per pixel into batches of <= ``batch_size`` (max 1,000) events;
   test events (``is_test``) go alone, with a ``test_event_code``; the next batch's payloads are
   built on a thread while the current batch is posted (:mod:`.batching`);
4. per batch: one journal commit records the previous batch's outcome and marks this batch
   ``in_flight`` -> POST (retries with backoff; a 40002 whose message points at an event is bisected
   to isolate and dead-letter the bad events, one that names no event stops the run) -> the outcome is journaled with the next batch's ``in_flight`` mark (or alone at
   the end);
5. every ``fold_every_batches`` batches (between two batches) and at the end, the journal is folded
   into the ledger table (see :mod:`.ledger`).

``ForwardingSummary.phases`` holds the wall seconds per phase of the run's thread: ``prepare``
(recovery, enqueue, reading the queue), ``build`` (waiting for payloads), ``journal``, ``post``,
``fold``; and ``build_background``: the payload thread's time, overlapped with the others.

Authentication errors stop the run (:class:`~.client.EventsApiAuthError`); retryable errors that
outlast the retry budget stop it too (:class:`~.client.EventsApiUnavailableError`); so do a refusal
of the request itself, e.g. a 40002 that names no event (:class:`~.client.EventsApiRequestError`), and a queue
row that cannot become a payload (:class:`~.batching.PayloadError`). Either way the undelivered
events stay ``pending`` and the exception carries the run's ``summary``.

Dry run: the same payloads (hashed) are written to ``event_payloads_dry_run`` instead of being
sent; the ledger is not touched.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from signal_campaigns.tiktok.events_api import (
    REQUEST_40002_ADVICE,
    EventsApiAuthError,
    EventsApiClient,
    EventsApiRequestError,
    EventsApiUnavailableError,
    ForwardingError,
)
from signal_campaigns.tiktok.retry import RetryPolicy

from .batching import DEFAULT_TEST_EVENT_CODE, Batch, PayloadPipeline, plan_batches
from .config import TOKEN_ENV, TOKEN_SECRET_KEY, ForwarderConfig, ForwardingSummary, PhaseTimer, events_api_token
from .dry_run import DryRunTable
from .ledger import DeliveryLedger, Outcome, qualified

log = logging.getLogger(__name__)
__all__ = [
    "DEFAULT_TEST_EVENT_CODE",
    "TOKEN_ENV",
    "TOKEN_SECRET_KEY",
    "Forwarder",
    "ForwarderConfig",
    "ForwardingSummary",
    "events_api_token",
    "forward_events",
]


def find_queue_schema(conn: duckdb.DuckDBPyConnection, table: str) -> str:
    rows = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT table_schema FROM information_schema.tables WHERE table_name = ? "
            "AND table_catalog = current_database()",
            [table],
        ).fetchall()
    ]
    if not rows:
        raise ForwardingError(f"the forwarding queue {table!r} is not in the warehouse (build the dbt marts first)")
    if "main" in rows:
        return "main"
    if len(rows) > 1:
        raise ForwardingError(f"{table!r} exists in several schemas {sorted(rows)}: set queue_schema")
    return str(rows[0])


class Forwarder:
    """One forwarding pass over an open DuckDB connection. ``client`` may be ``None`` for a dry run."""

    def __init__(
        self, conn: duckdb.DuckDBPyConnection, client: EventsApiClient | None, config: ForwarderConfig | None = None
    ) -> None:
        self.conn = conn
        conn.execute("SET enable_progress_bar = false")  # DuckDB draws one into logs on a long read
        self.client = client
        self.config = config or ForwarderConfig()
        if client is None and not self.config.dry_run:
            raise ValueError("a client is required unless dry_run")
        schema = self.config.queue_schema or find_queue_schema(conn, self.config.queue_table)
        self.queue_fqn = qualified(schema, self.config.queue_table)
        self.ledger = DeliveryLedger(conn, self.config.ledger_schema or schema)
        self.dry_table = DryRunTable(conn, self.config.ledger_schema or schema)
        self.run_id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]

    def _batches(self, rows: pa.Table) -> Iterator[Batch]:
        """The batches of ``rows``, payloads not built yet (see :mod:`.batching`)."""
        cfg = self.config
        return plan_batches(
            rows,
            run_id=self.run_id,
            batch_size=cfg.batch_size,
            chunk_rows=cfg.chunk_rows,
            test_event_code=cfg.test_event_code,
        )

    # --- delivery --------------------------------------------------------------------------------
    def _deliver(self, batch: Batch, summary: ForwardingSummary) -> Outcome:
        """POST one batch (bisecting on 40002). On a stopping error, raises it with
        ``exc.outcome`` = what is known (undecided events back to ``pending``)."""
        assert self.client is not None
        bid = batch.batch_id
        n = len(batch.event_ids)
        retries = summary.retries
        track = self.client.track
        first = True
        status: list[str] | None = None
        codes: list[int | None] = []
        messages: list[str | None] = []
        attempts: list[int] = []
        stack = [(0, n)]
        try:
            while stack:
                lo, hi = stack.pop()
                body = batch.body if (lo, hi) == (0, n) else batch.encode(lo, hi, self.config.partner_name)
                result = track(body, retries)
                summary.requests += result.attempts
                if first and result.kind == "ok":  # the common case: no per-event work
                    if result.code:
                        summary.partial_success_batches += 1
                        log.warning(
                            "batch %s: partial success %s (%s); counted as sent",
                            batch.batch_id,
                            result.code,
                            result.message,
                        )
                    return Outcome.uniform(
                        bid, batch.event_ids, "sent", result.code, result.message or None, result.attempts
                    )
                if first:
                    status, codes, messages, attempts = ["pending"] * n, [None] * n, [None] * n, [0] * n
                    first = False
                assert status is not None
                for k in range(lo, hi):
                    attempts[k] += result.attempts
                if result.kind != "ok" and (result.event_index is None or result.event_index >= hi - lo):
                    # TikTok's answer points at no event of this request: bisecting would dead-letter
                    # good events one by one. Stop; the undecided events stay pending.
                    raise EventsApiRequestError(result.code, result.message, advice=REQUEST_40002_ADVICE)
                if result.kind == "ok":
                    if result.code:
                        summary.partial_success_batches += 1
                        log.warning("batch %s: partial success %s (%s)", batch.batch_id, result.code, result.message)
                    for k in range(lo, hi):
                        status[k], codes[k], messages[k] = "sent", result.code, result.message or None
                elif hi - lo == 1:
                    status[lo], codes[lo], messages[lo] = "dead", result.code, result.message
                    log.warning("event %s dead-lettered: %s %s", batch.event_ids[lo], result.code, result.message)
                else:
                    mid = (lo + hi) // 2
                    stack.append((mid, hi))
                    stack.append((lo, mid))
                    retries["bisect_40002"] = retries.get("bisect_40002", 0) + 1
        except (EventsApiAuthError, EventsApiUnavailableError, EventsApiRequestError) as exc:
            code = getattr(exc, "code", None)
            said = getattr(exc, "tiktok_message", "")  # scrubbed by the client
            note = f"{type(exc).__name__}: {said}" if said else type(exc).__name__
            if status is None:
                outcome = Outcome.uniform(bid, batch.event_ids, "pending", code, note, getattr(exc, "attempts", 1))
            else:
                for k in range(n):
                    if status[k] == "pending":
                        codes[k], messages[k] = code, note
                outcome = Outcome(bid, list(batch.event_ids), status, codes, messages, attempts)
            exc.outcome = outcome
            raise
        assert status is not None
        return Outcome(bid, list(batch.event_ids), status, codes, messages, attempts)

    # --- run -------------------------------------------------------------------------------------
    def run(self) -> ForwardingSummary:
        cfg = self.config
        summary = ForwardingSummary(run_id=self.run_id, dry_run=cfg.dry_run)
        started = time.perf_counter()
        try:
            if cfg.dry_run:
                self._run_dry(summary)
            else:
                self._run(summary, started)
        except ForwardingError as exc:
            summary.stopped_reason = str(exc)
            self._finish(summary, started)
            exc.summary = summary
            log.error("forwarding stopped: %s", exc)
            raise
        self._finish(summary, started)
        log.info("forwarding %s: %s", "dry run" if cfg.dry_run else "done", summary.to_dict())
        return summary

    def _finish(self, summary: ForwardingSummary, started: float) -> None:
        summary.elapsed_seconds = time.perf_counter() - started
        if self.ledger.exists():
            counts = self.ledger.counts()
            summary.pending, summary.in_flight = counts["pending"], counts["in_flight"]
            summary.sent_total, summary.dead_total = counts["sent"], counts["dead"]

    def _run(self, summary: ForwardingSummary, started: float) -> None:
        cfg = self.config
        ledger = self.ledger
        timer = PhaseTimer(summary.phases)
        t = time.perf_counter()
        ledger.ensure()
        summary.recovered_in_flight = ledger.recover()
        if summary.recovered_in_flight:
            log.warning(
                "%d in-flight events from an interrupted run are pending again (resent; TikTok "
                "deduplicates them by event_id)",
                summary.recovered_in_flight,
            )
        # The queue is a view over the event tables, the costliest read of a run (~10 s at 100M
        # events): read once. After recover() every queue row not sent or dead is pending or new.
        rows = ledger.pending_queue_rows(self.queue_fqn)
        summary.enqueued = ledger.enqueue(rows)
        if cfg.max_events is not None:
            rows = rows.slice(0, cfg.max_events)
        total = rows.num_rows
        t = timer("prepare", t)
        log.info("forwarding %d pending events (%d new) from %s", total, summary.enqueued, self.queue_fqn)
        previous: Outcome | None = None
        next_progress = time.perf_counter() + cfg.progress_every_seconds
        try:
            with PayloadPipeline(self._batches(rows), cfg.partner_name, background=cfg.build_in_background) as pipeline:
                while True:
                    t = time.perf_counter()
                    batch = pipeline.take()
                    if batch is None:
                        break
                    t = timer("build", t)  # waiting for the payloads (all of the build when built inline)
                    if cfg.build_in_background:
                        timer.add("build_background", batch.build_seconds)
                    ledger.transition(previous, (batch.batch_id, batch.event_ids))
                    previous = None
                    summary.batches += 1
                    t = timer("journal", t)
                    pipeline.build_next()  # while this batch is posted
                    try:
                        previous = self._deliver(batch, summary)
                    except ForwardingError as exc:
                        previous = getattr(exc, "outcome", None)
                        raise
                    finally:
                        t = timer("post", t)
                        if previous is not None:
                            self._count(previous, summary)
                    if summary.batches % cfg.fold_every_batches == 0:  # between batches: none in flight
                        self._record_and_fold(previous, timer)
                        previous = None
                    if time.perf_counter() >= next_progress:
                        next_progress = time.perf_counter() + cfg.progress_every_seconds
                        self._log_progress(summary, total, started)
        except BaseException:  # a stopping error's outcome is recorded too; the original error wins
            try:
                self._record_and_fold(previous, timer)
            except Exception:
                log.exception("could not record the last outcome / fold the ledger journal; the next run will")
            raise
        self._record_and_fold(previous, timer)

    @staticmethod
    def _log_progress(summary: ForwardingSummary, total: int, started: float) -> None:
        done = summary.sent + summary.dead
        rate = done / max(1e-9, time.perf_counter() - started)
        log.info(
            "forwarded %d/%d events (%d dead), %d batches, %.0f events/s",
            done,
            total,
            summary.dead,
            summary.batches,
            rate,
        )

    def _record_and_fold(self, previous: Outcome | None, timer: PhaseTimer) -> None:
        """Journal the last outcome, then fold the journal (call with no batch in flight)."""
        t = time.perf_counter()
        self.ledger.transition(previous, None)
        t = timer("journal", t)
        log.info("folding %d ledger journal entries", self.ledger.journal_entries())
        self.ledger.fold()
        timer("fold", t)

    @staticmethod
    def _count(outcome: Outcome, summary: ForwardingSummary) -> None:
        st = outcome.statuses
        if st and st[0] == "sent" and st[-1] == "sent" and len(set(st)) == 1:
            summary.sent += len(st)
            return
        for s in st:
            if s == "sent":
                summary.sent += 1
            elif s == "dead":
                summary.dead += 1

    def _run_dry(self, summary: ForwardingSummary) -> None:
        cfg = self.config
        self.dry_table.ensure()
        rows = self.ledger.pending_queue_rows(self.queue_fqn, limit=cfg.max_events)
        buf: dict[str, list[Any]] = {"b": [], "p": [], "e": [], "t": [], "j": []}
        for batch in self._batches(rows):
            batch.build_events()  # the data[] items only: the dry run stores them, it encodes no request body
            summary.batches += 1
            n = len(batch.event_ids)
            buf["b"].extend([batch.batch_id] * n)
            buf["p"].extend([batch.pixel_code] * n)
            buf["e"].extend(batch.event_ids)
            buf["t"].extend([batch.test_event_code] * n)
            buf["j"].extend(orjson.dumps(ev).decode() for ev in batch.events)
            if len(buf["e"]) >= cfg.chunk_rows:
                self._flush_dry(buf, summary)
        self._flush_dry(buf, summary)
        log.info(
            "dry run: %d payloads in %d batches written to %s",
            summary.dry_run_payloads,
            summary.batches,
            self.dry_table.fqn,
        )

    def _flush_dry(self, buf: dict[str, list[Any]], summary: ForwardingSummary) -> None:
        self.dry_table.write(buf["b"], buf["p"], buf["e"], buf["t"], buf["j"])
        summary.dry_run_payloads += len(buf["e"])
        for v in buf.values():
            v.clear()


def forward_events(
    warehouse: str | os.PathLike[str] | duckdb.DuckDBPyConnection,
    *,
    base_url: str | None = None,
    token: str | None = None,
    config: ForwarderConfig | None = None,
    retry: RetryPolicy | None = None,
    timeout: float = 30.0,
    client: EventsApiClient | None = None,
) -> ForwardingSummary:
    """Forward every pending event of the warehouse's queue once; returns the run's summary.

    ``warehouse``: a DuckDB file path or an open connection (kept open). ``token`` defaults to
    :func:`events_api_token` (env ``TIKTOK_EVENTS_API_TOKEN`` or .dlt/secrets.toml). Raises a
    :class:`~signal_campaigns.tiktok.events_api.ForwardingError` subclass (with
    ``.summary``) when the run stops early; undelivered events stay ``pending``."""
    config = config or ForwarderConfig()
    own_conn = not isinstance(warehouse, duckdb.DuckDBPyConnection)
    conn = warehouse if isinstance(warehouse, duckdb.DuckDBPyConnection) else duckdb.connect(str(Path(warehouse)))
    own_client = False
    try:
        if client is None and not config.dry_run:
            if not base_url:
                raise ValueError("base_url is required unless dry_run or a client is given")
            token = token if token is not None else events_api_token()
            client = EventsApiClient(base_url, token, timeout=timeout, retry=retry)
            own_client = True
        return Forwarder(conn, client, config).run()
    finally:
        if own_client and client is not None:
            client.close()
        if own_conn:
            conn.close()
