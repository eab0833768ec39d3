"""The delivery ledger ``event_delivery_ledger`` in the DuckDB warehouse.

Public interface: the view ``event_delivery_ledger``, one row per eligible ``event_id``::

    event_id VARCHAR, pixel_code VARCHAR, tiktok_event VARCHAR,
    status VARCHAR            -- pending | in_flight | sent | dead
    attempts INTEGER          -- POSTs that carried the event (retries and bisection included)
    last_code INTEGER, last_message VARCHAR,   -- TikTok's last answer (0 / 20001 on success)
    batch_id VARCHAR,                          -- the last batch the event was sent in
    first_attempt_at, sent_at, updated_at TIMESTAMPTZ

It lives in the public schema (``main``, beside ``events_to_forward``) and is always current: it
merges two internal tables in the schema ``forwarding`` (:mod:`.storage`),

- ``forwarding.event_delivery_ledger_folded``: the same columns, as of the last *fold*;
- ``forwarding.event_delivery_journal``: append-only, one row per batch transition since that fold
  (``entry_id``, ``batch_id``, ``state``, ``event_ids`` (a JSON array; ``NULL`` = the batch's events),
  ``code``, ``message``, ``attempts``, ``recorded_at``).

Why two tables: a batch transition is then one small INSERT and one commit (a few ms) instead of
UPDATEs over the whole ledger (~30 ms per 1,000-event batch); the journal is *folded* into the
table with one set-based UPDATE every ``fold_every_batches`` batches, at the end of a run and on
recovery. A fold is one transaction: a crash during it leaves the journal and the table as they
were, and the view shows the same rows before and after it.

Write order (at-least-once, at most the in-flight batch resent after a crash):

1. :meth:`DeliveryLedger.recover`: fold what a crashed run left in the journal, then its
   ``in_flight`` events -> ``pending`` (one transaction);
2. :meth:`DeliveryLedger.enqueue`: queue rows without a ledger row -> ``pending``;
3. :meth:`DeliveryLedger.transition`: ONE statement (one commit) that journals batch N's outcome
   (``sent`` / ``dead`` / back to ``pending``) and batch N+1 ``in_flight``, committed before batch
   N+1 is posted. So at any instant at most one batch is ``in_flight``;
4. :meth:`DeliveryLedger.fold` only between batches (no batch in flight), so every outcome row
   finds its batch's ``in_flight`` row in the same fold.

No secret is ever written here: messages come from TikTok's answers, scrubbed of the token.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from .storage import (
    FOLDED_COLUMNS,
    FOLDED_DDL,
    JOURNAL_COLUMNS,
    JOURNAL_DDL,
    JOURNAL_IDS_SQL,
    comment_ledger_view,
    create_table,
    internal_schema_for,
    table_type,
    upgrade_journal,
)
from .storage import INTERNAL_SCHEMA as INTERNAL_SCHEMA
from .storage import qualified as qualified
from .storage import quote_ident as quote_ident

LEDGER_TABLE = "event_delivery_ledger"  # the public view
FOLDED_TABLE = "event_delivery_ledger_folded"
JOURNAL_TABLE = "event_delivery_journal"
DRY_RUN_TABLE = "event_payloads_dry_run"
STATUSES = ("pending", "in_flight", "sent", "dead")

# queue columns the forwarder reads (events_to_forward); is_test / test_event_code are optional
QUEUE_COLUMNS = (
    "event_id",
    "pixel_code",
    "tiktok_event",
    "event_time",
    "ttclid",
    "ip",
    "user_agent",
    "external_id_source",
    "value",
    "currency",
    "page_url",
)

LEDGER_COLUMNS = FOLDED_COLUMNS  # the view's columns, in order


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _ids_json(ids: Sequence[str] | None) -> str | None:
    """The journal's ``event_ids``: one JSON array string (cheap to commit, any id kept intact)."""
    return None if ids is None else orjson.dumps(list(ids)).decode()


@dataclasses.dataclass
class Outcome:
    """What happened to one batch: parallel lists, one entry per event."""

    batch_id: str
    event_ids: list[str]
    statuses: list[str]  # sent | dead | pending
    codes: list[int | None]
    messages: list[str | None]
    attempts: list[int]

    @classmethod
    def uniform(
        cls, batch_id: str, event_ids: Sequence[str], status: str, code: int | None, message: str | None, attempts: int
    ) -> Outcome:
        n = len(event_ids)
        return cls(batch_id, list(event_ids), [status] * n, [code] * n, [message] * n, [attempts] * n)

    def groups(self) -> list[tuple[str, int | None, str | None, int, list[str] | None]]:
        """``(status, code, message, attempts, event_ids)`` per distinct answer; ``event_ids`` is
        ``None`` when one answer covers the whole batch (the common case: one journal row)."""
        answers = list(zip(self.statuses, self.codes, self.messages, self.attempts))
        if len(set(answers)) == 1:
            return [(*answers[0], None)]
        by_answer: dict[tuple[str, int | None, str | None, int], list[str]] = {}
        for event_id, answer in zip(self.event_ids, answers):
            by_answer.setdefault(answer, []).append(event_id)
        return [(*answer, ids) for answer, ids in by_answer.items()]


class DeliveryLedger:
    """The ledger on an open DuckDB connection (the warehouse's one writer, see
    docs/decisions/0008-one-writer-and-bi-copy.md)."""

    def __init__(
        self,
        conn: duckdb.DuckDBPyConnection,
        schema: str = "main",
        table: str = LEDGER_TABLE,
        internal_schema: str | None = None,
    ) -> None:
        self.conn = conn
        self.schema = schema
        self.table = table
        self.fqn = qualified(schema, table)  # the view, public
        self.internal_schema = internal_schema or internal_schema_for(schema)
        self.folded_name = FOLDED_TABLE if table == LEDGER_TABLE else table + "_folded"
        self.folded_fqn = qualified(self.internal_schema, self.folded_name)
        self.journal_name = JOURNAL_TABLE if table == LEDGER_TABLE else table + "_journal"
        self.journal_fqn = qualified(self.internal_schema, self.journal_name)
        self._next_entry = 1

    # --- DDL -------------------------------------------------------------------------------------
    def ensure(self) -> None:
        """Create the schemas, both internal tables, the view and its comments, in one transaction.
        Tables of an older layout move into the internal schema: the folded table from the public
        schema, or ``event_delivery_ledger`` itself when it was still a table (see :mod:`.storage`)."""
        conn, internal = self.conn, self.internal_schema

        def work() -> int:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(self.schema)}")
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(internal)}")
            legacy = [(self.schema, self.folded_name), (self.schema, self.table)]
            create_table(conn, (internal, self.folded_name), FOLDED_DDL, FOLDED_COLUMNS, legacy)
            legacy = [(self.schema, self.journal_name)]
            for old_schema, old_name in [(internal, self.journal_name), *legacy]:
                upgrade_journal(conn, old_schema, old_name)
            create_table(conn, (internal, self.journal_name), JOURNAL_DDL, JOURNAL_COLUMNS, legacy)
            conn.execute(f"CREATE OR REPLACE VIEW {self.fqn} AS {self._merged_sql()}")
            comment_ledger_view(conn, self.fqn)
            return 0

        self._in_transaction(work)
        last = conn.execute(f"SELECT max(entry_id) FROM {self.journal_fqn}").fetchall()[0][0]
        self._next_entry = int(last or 0) + 1

    def _table_type(self, name: str) -> str | None:
        return table_type(self.conn, self.schema, name)

    def exists(self) -> bool:
        return self._table_type(self.table) is not None

    # --- the journal, merged ---------------------------------------------------------------------
    def _journal_state_sql(self) -> str:
        """Per event with journal rows: its latest state and what to add to its ledger row. An
        outcome row without ``event_ids`` stands for the events of its batch's ``in_flight`` row."""
        j = self.journal_fqn
        ids = JOURNAL_IDS_SQL.format(column="coalesce(s.event_ids, f.event_ids)")
        return f"""
            WITH steps AS (
                SELECT unnest({ids}) AS event_id, s.entry_id, s.batch_id, s.state,
                       s.code, s.message, coalesce(s.attempts, 0) AS attempts, s.recorded_at,
                       s.state <> 'in_flight' AS is_outcome
                FROM {j} s LEFT JOIN {j} f
                  ON s.event_ids IS NULL AND f.state = 'in_flight' AND f.batch_id = s.batch_id
            )
            SELECT event_id,
                   arg_max(state, entry_id) AS status,
                   sum(attempts) AS add_attempts,
                   bool_or(is_outcome) AS has_outcome,
                   arg_max_null(code, entry_id) FILTER (WHERE is_outcome) AS last_code,
                   arg_max_null(message, entry_id) FILTER (WHERE is_outcome) AS last_message,
                   arg_max(batch_id, entry_id) FILTER (WHERE NOT is_outcome) AS batch_id,
                   min(recorded_at) FILTER (WHERE NOT is_outcome) AS first_attempt_at,
                   max(recorded_at) FILTER (WHERE state = 'sent') AS sent_at,
                   max(recorded_at) AS updated_at
            FROM steps GROUP BY event_id"""

    @staticmethod
    def _applied() -> dict[str, str]:
        """Per changeable column: its value once the journal state ``j`` is applied to the folded row
        ``l`` (``j``'s columns are NULL for a row the journal does not touch)."""
        return {
            "status": "coalesce(j.status, l.status)",
            "attempts": "CAST(l.attempts + coalesce(j.add_attempts, 0) AS INTEGER)",
            "last_code": "CASE WHEN j.has_outcome THEN j.last_code ELSE l.last_code END",
            "last_message": "CASE WHEN j.has_outcome THEN j.last_message ELSE l.last_message END",
            "batch_id": "coalesce(j.batch_id, l.batch_id)",
            "first_attempt_at": "coalesce(l.first_attempt_at, j.first_attempt_at)",
            "sent_at": "CASE WHEN j.status = 'sent' THEN j.sent_at ELSE l.sent_at END",
            "updated_at": "coalesce(j.updated_at, l.updated_at)",
        }

    def _merged_sql(self) -> str:
        """The ledger's columns for every row: folded rows with the journal applied (the view)."""
        applied = ", ".join(f"{expr} AS {column}" for column, expr in self._applied().items())
        return f"""
            SELECT l.event_id, l.pixel_code, l.tiktok_event, {applied}
            FROM {self.folded_fqn} l LEFT JOIN ({self._journal_state_sql()}) j ON j.event_id = l.event_id"""

    def _fold_in_transaction(self) -> int:
        """Apply the journal to the folded table and empty it (caller holds a transaction). One UPDATE
        joined to the journal's per-event state only (no self-join of the folded table)."""
        entries = self.conn.execute(f"SELECT count(*) FROM {self.journal_fqn}").fetchall()[0][0]
        if not entries:
            return 0
        assignments = ", ".join(f"{column} = {expr}" for column, expr in self._applied().items())
        self.conn.execute(f"""
            UPDATE {self.folded_fqn} AS l SET {assignments}
            FROM ({self._journal_state_sql()}) j
            WHERE l.event_id = j.event_id""")
        self.conn.execute(f"DELETE FROM {self.journal_fqn}")
        return int(entries)

    def _in_transaction(self, work: Callable[[], int]) -> int:
        conn = self.conn
        conn.execute("BEGIN TRANSACTION")
        try:
            result = work()
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                conn.execute("ROLLBACK")
            raise
        return result

    # --- steps -----------------------------------------------------------------------------------
    def fold(self) -> int:
        """Fold the journal into ``event_delivery_ledger_folded`` (one transaction); returns the
        number of journal rows folded. Call only when no batch is in flight."""
        return self._in_transaction(self._fold_in_transaction)

    def recover(self) -> int:
        """Fold a crashed run's journal, then its ``in_flight`` events become ``pending`` again (one
        transaction); returns how many events were in flight."""

        def work() -> int:
            self._fold_in_transaction()
            return int(
                self.conn.execute(
                    f"UPDATE {self.folded_fqn} SET status = 'pending', updated_at = ? WHERE status = 'in_flight'",
                    [utc_now()],
                ).fetchall()[0][0]
            )

        return self._in_transaction(work)

    def enqueue(self, queue: str | pa.Table) -> int:
        """Insert every queue row that has no ledger row yet as ``pending``; returns how many.
        ``queue``: the queue relation's name, or rows already read from it (:meth:`pending_queue_rows`),
        so that a run evaluates the queue, a view over the event tables, only once."""
        source = queue
        if isinstance(queue, pa.Table):
            source = "__forwarding_queue_rows"
            self.conn.register(source, queue)
        try:
            return int(
                self.conn.execute(
                    f"""
                INSERT INTO {self.folded_fqn} (event_id, pixel_code, tiktok_event, status, attempts, updated_at)
                SELECT q.event_id, any_value(q.pixel_code), any_value(q.tiktok_event), 'pending', 0, ?
                FROM {source} q
                WHERE q.event_id IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM {self.folded_fqn} l WHERE l.event_id = q.event_id)
                GROUP BY q.event_id""",
                    [utc_now()],
                ).fetchall()[0][0]
            )
        finally:
            if isinstance(queue, pa.Table):
                self.conn.unregister(source)

    def pending_queue_rows(self, queue_fqn: str, *, limit: int | None = None) -> pa.Table:
        """The queue rows still to send, ordered by pixel, test flag and time, with typed columns:
        those whose ledger row is not ``sent``/``dead`` (pending, or not enqueued yet; the ledger
        may not exist). The forwarder reads them once per run, after :meth:`recover`, and
        enqueues the new ones from this same read (:meth:`enqueue`); the dry run only reads."""
        cols = {r[0] for r in self.conn.execute(f"DESCRIBE SELECT * FROM {queue_fqn}").fetchall()}
        missing = [c for c in QUEUE_COLUMNS if c not in cols]
        if missing:
            raise ValueError(f"forwarding queue {queue_fqn} lacks columns {missing}")
        is_test = "coalesce(q.is_test, false)" if "is_test" in cols else "false"
        test_code = "cast(q.test_event_code as varchar)" if "test_event_code" in cols else "cast(null as varchar)"
        sql = f"""
            SELECT cast(q.event_id as varchar) AS event_id, q.pixel_code, q.tiktok_event,
                   cast(q.event_time as bigint) AS event_time, q.ttclid, q.ip, q.user_agent,
                   cast(q.external_id_source as varchar) AS external_id_source,
                   cast(q.value as double) AS value, q.currency, q.page_url,
                   {is_test} AS is_test, {test_code} AS test_event_code
            FROM {queue_fqn} q"""
        if self.exists():
            sql += (
                f" WHERE NOT EXISTS (SELECT 1 FROM {self.fqn} l WHERE l.event_id = q.event_id"
                " AND l.status IN ('sent', 'dead'))"
            )
        sql += " ORDER BY q.pixel_code, is_test, event_time, event_id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rel = self.conn.sql(sql)
        return rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow()

    def transition(self, outcome: Outcome | None, next_batch: tuple[str, Sequence[str]] | None) -> None:
        """Journal ``outcome`` (batch N) and ``next_batch`` = ``(batch_id, event_ids)`` as
        ``in_flight`` in ONE statement (one transaction). Committed when this returns."""
        params: list[Any] = []
        values: list[str] = []
        now = utc_now()

        def add(
            batch_id: str,
            state: str,
            ids: Sequence[str] | None,
            code: int | None,
            message: str | None,
            attempts: int | None,
        ) -> None:
            values.append("(?, ?, ?, ?::VARCHAR, ?::INTEGER, ?::VARCHAR, ?::INTEGER, ?::TIMESTAMPTZ)")
            params.extend((self._next_entry, batch_id, state, _ids_json(ids), code, message, attempts, now))
            self._next_entry += 1

        if outcome is not None and outcome.event_ids:
            for status, code, message, attempts, ids in outcome.groups():
                add(outcome.batch_id, status, ids, code, message, attempts)
        if next_batch is not None:
            add(next_batch[0], "in_flight", next_batch[1], None, None, None)
        if values:
            self.conn.execute(f"INSERT INTO {self.journal_fqn} VALUES {', '.join(values)}", params)

    # --- read ------------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Rows per status (all four statuses present), journal included."""
        out = dict.fromkeys(STATUSES, 0)
        for status, n in self.conn.execute(f"SELECT status, count(*) FROM {self.fqn} GROUP BY status").fetchall():
            out[status] = int(n)
        return out

    def journal_entries(self) -> int:
        """Journal rows not folded yet (0 after a completed run)."""
        return int(self.conn.execute(f"SELECT count(*) FROM {self.journal_fqn}").fetchall()[0][0])
