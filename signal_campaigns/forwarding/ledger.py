"""The delivery ledger ``event_delivery_ledger`` in the DuckDB warehouse (DESIGN D6), and the
dry-run table ``event_payloads_dry_run``.

One row per eligible ``event_id``::

    event_id VARCHAR, pixel_code VARCHAR, tiktok_event VARCHAR,
    status VARCHAR            -- pending | in_flight | sent | dead
    attempts INTEGER          -- POSTs that carried the event (retries and bisection included)
    last_code INTEGER, last_message VARCHAR,   -- TikTok's last answer (0 / 20001 on success)
    batch_id VARCHAR,                          -- the last batch the event was sent in
    first_attempt_at, sent_at, updated_at TIMESTAMPTZ

Write order (at-least-once, at most the in-flight batch resent after a crash):

1. :meth:`DeliveryLedger.recover_in_flight`: ``in_flight`` rows of a crashed run -> ``pending``;
2. :meth:`DeliveryLedger.enqueue`: queue rows without a ledger row -> ``pending``;
3. :meth:`DeliveryLedger.transition`: ONE transaction that records batch N's outcome
   (``sent`` / ``dead`` / back to ``pending``) and marks batch N+1 ``in_flight``; committed before
   batch N+1 is posted. So at any instant at most one batch is ``in_flight``.

Every write is set-based: the batch's ids (and per-event outcomes) are registered as an Arrow
table and applied with one ``UPDATE ... FROM`` / ``WHERE event_id IN (SELECT ...)``.
No secret is ever written here: messages come from TikTok's answers, scrubbed of the token.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Sequence

import duckdb
import pyarrow as pa

LEDGER_TABLE = "event_delivery_ledger"
DRY_RUN_TABLE = "event_payloads_dry_run"
STATUSES = ("pending", "in_flight", "sent", "dead")

# queue columns the forwarder reads (events_to_forward); is_test / test_event_code are optional
QUEUE_COLUMNS = ("event_id", "pixel_code", "tiktok_event", "event_time", "ttclid", "ip", "user_agent",
                 "external_id_source", "value", "currency", "page_url")


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str | None, table: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(table)}" if schema else quote_ident(table)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclasses.dataclass
class Outcome:
    """What happened to one batch: parallel lists, one entry per event."""

    event_ids: list[str]
    statuses: list[str]  # sent | dead | pending
    codes: list[int | None]
    messages: list[str | None]
    attempts: list[int]

    @classmethod
    def uniform(cls, event_ids: Sequence[str], status: str, code: int | None, message: str | None,
                attempts: int) -> "Outcome":
        n = len(event_ids)
        return cls(list(event_ids), [status] * n, [code] * n, [message] * n, [attempts] * n)

    def to_arrow(self) -> pa.Table:
        return pa.table({
            "event_id": pa.array(self.event_ids, pa.string()),
            "status": pa.array(self.statuses, pa.string()),
            "last_code": pa.array(self.codes, pa.int32()),
            "last_message": pa.array(self.messages, pa.string()),
            "add_attempts": pa.array(self.attempts, pa.int32()),
        })


class DeliveryLedger:
    """The ledger on an open DuckDB connection (the warehouse's one writer, DESIGN D8)."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, schema: str = "main", table: str = LEDGER_TABLE) -> None:
        self.conn = conn
        self.schema = schema
        self.table = table
        self.fqn = qualified(schema, table)

    # --- DDL -------------------------------------------------------------------------------------
    def ensure(self) -> None:
        """Create the schema and the ledger table when missing."""
        self.conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(self.schema)}")
        self.conn.execute(f"""
            CREATE TABLE IF NOT EXISTS {self.fqn} (
                event_id VARCHAR NOT NULL,
                pixel_code VARCHAR,
                tiktok_event VARCHAR,
                status VARCHAR NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                last_code INTEGER,
                last_message VARCHAR,
                batch_id VARCHAR,
                first_attempt_at TIMESTAMPTZ,
                sent_at TIMESTAMPTZ,
                updated_at TIMESTAMPTZ NOT NULL
            )""")

    def exists(self) -> bool:
        row = self.conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [self.schema, self.table]).fetchall()[0]
        return bool(row and row[0])

    # --- steps -----------------------------------------------------------------------------------
    def recover_in_flight(self) -> int:
        """A crashed run's ``in_flight`` rows become ``pending`` again; returns how many."""
        n = self.conn.execute(f"SELECT count(*) FROM {self.fqn} WHERE status = 'in_flight'").fetchall()[0][0]
        if n:
            self.conn.execute(f"UPDATE {self.fqn} SET status = 'pending', updated_at = ? WHERE status = 'in_flight'",
                              [_now()])
        return int(n)

    def enqueue(self, queue_fqn: str) -> int:
        """Insert every queue row that has no ledger row yet as ``pending``; returns how many."""
        before = self.conn.execute(f"SELECT count(*) FROM {self.fqn}").fetchall()[0][0]
        self.conn.execute(f"""
            INSERT INTO {self.fqn} (event_id, pixel_code, tiktok_event, status, attempts, updated_at)
            SELECT q.event_id, any_value(q.pixel_code), any_value(q.tiktok_event), 'pending', 0, ?
            FROM {queue_fqn} q
            WHERE q.event_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM {self.fqn} l WHERE l.event_id = q.event_id)
            GROUP BY q.event_id""", [_now()])
        after = self.conn.execute(f"SELECT count(*) FROM {self.fqn}").fetchall()[0][0]
        return int(after - before)

    def pending_queue_rows(self, queue_fqn: str, *, limit: int | None = None,
                           statuses: Sequence[str] = ("pending",), anti_join: bool = False) -> pa.Table:
        """The queue rows to send, ordered by pixel, test flag and time, with typed columns.

        ``anti_join=True`` (dry run): queue rows whose ledger row is not ``sent``/``dead`` (no
        ledger write needed, and the ledger may not exist)."""
        cols = {r[0] for r in self.conn.execute(f"DESCRIBE SELECT * FROM {queue_fqn}").fetchall()}
        missing = [c for c in QUEUE_COLUMNS if c not in cols]
        if missing:
            raise ValueError(f"forwarding queue {queue_fqn} lacks columns {missing}")
        is_test = "coalesce(q.is_test, false)" if "is_test" in cols else "false"
        test_code = "cast(q.test_event_code as varchar)" if "test_event_code" in cols else "cast(null as varchar)"
        select = f"""
            SELECT cast(q.event_id as varchar) AS event_id, q.pixel_code, q.tiktok_event,
                   cast(q.event_time as bigint) AS event_time, q.ttclid, q.ip, q.user_agent,
                   cast(q.external_id_source as varchar) AS external_id_source,
                   cast(q.value as double) AS value, q.currency, q.page_url,
                   {is_test} AS is_test, {test_code} AS test_event_code
            FROM {queue_fqn} q"""
        if anti_join:
            where = ""
            if self.exists():
                where = (f" WHERE NOT EXISTS (SELECT 1 FROM {self.fqn} l WHERE l.event_id = q.event_id"
                         " AND l.status IN ('sent', 'dead'))")
            sql = select + where
        else:
            marks = ", ".join("'" + s + "'" for s in statuses)
            sql = select + f" JOIN {self.fqn} l ON l.event_id = q.event_id WHERE l.status IN ({marks})"
        sql += " ORDER BY q.pixel_code, is_test, event_time, event_id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rel = self.conn.sql(sql)
        return rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow()

    def transition(self, outcome: Outcome | None, next_batch: tuple[str, Sequence[str]] | None) -> None:
        """In ONE transaction: apply ``outcome`` (batch N) and mark ``next_batch`` =
        ``(batch_id, event_ids)`` ``in_flight``. Committed when this returns."""
        if outcome is None and next_batch is None:
            return
        conn = self.conn
        now = _now()
        conn.execute("BEGIN TRANSACTION")
        try:
            if outcome is not None and outcome.event_ids:
                conn.register("_fwd_outcome", outcome.to_arrow())
                try:
                    conn.execute(f"""
                        UPDATE {self.fqn} SET
                            status = o.status,
                            last_code = o.last_code,
                            last_message = o.last_message,
                            attempts = attempts + o.add_attempts,
                            sent_at = CASE WHEN o.status = 'sent' THEN ?::TIMESTAMPTZ ELSE sent_at END,
                            updated_at = ?::TIMESTAMPTZ
                        FROM _fwd_outcome o
                        WHERE {self.fqn}.event_id = o.event_id""", [now, now])
                finally:
                    conn.unregister("_fwd_outcome")
            if next_batch is not None:
                batch_id, ids = next_batch
                conn.register("_fwd_next", pa.table({"event_id": pa.array(list(ids), pa.string())}))
                try:
                    conn.execute(f"""
                        UPDATE {self.fqn} SET status = 'in_flight', batch_id = ?,
                            first_attempt_at = coalesce(first_attempt_at, ?::TIMESTAMPTZ),
                            updated_at = ?::TIMESTAMPTZ
                        WHERE event_id IN (SELECT event_id FROM _fwd_next)""", [batch_id, now, now])
                finally:
                    conn.unregister("_fwd_next")
            conn.execute("COMMIT")
        except BaseException:
            try:
                conn.execute("ROLLBACK")
            except duckdb.Error:
                pass
            raise

    # --- read ------------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Rows per status (all four statuses present)."""
        out = {s: 0 for s in STATUSES}
        for status, n in self.conn.execute(f"SELECT status, count(*) FROM {self.fqn} GROUP BY status").fetchall():
            out[status] = int(n)
        return out


class DryRunTable:
    """``event_payloads_dry_run``: batch_id, pixel_code, event_id, test_event_code, payload (the
    exact, hashed ``data[]`` item as JSON), created_at."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, schema: str = "main", table: str = DRY_RUN_TABLE) -> None:
        self.conn = conn
        self.schema = schema
        self.fqn = qualified(schema, table)

    def ensure(self) -> None:
        self.conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(self.schema)}")
        for payload_type in ("JSON", "VARCHAR"):  # JSON needs the json extension; VARCHAR otherwise
            try:
                self.conn.execute(f"""
                    CREATE TABLE IF NOT EXISTS {self.fqn} (
                        batch_id VARCHAR, pixel_code VARCHAR, event_id VARCHAR, test_event_code VARCHAR,
                        payload {payload_type}, created_at TIMESTAMPTZ)""")
                return
            except duckdb.Error:
                continue

    def write(self, batch_ids: list[str], pixel_codes: list[str], event_ids: list[str],
              test_codes: list[str | None], payloads: list[str]) -> None:
        if not event_ids:
            return
        table = pa.table({
            "batch_id": pa.array(batch_ids, pa.string()),
            "pixel_code": pa.array(pixel_codes, pa.string()),
            "event_id": pa.array(event_ids, pa.string()),
            "test_event_code": pa.array(test_codes, pa.string()),
            "payload": pa.array(payloads, pa.string()),
        })
        self.conn.register("_fwd_dry", table)
        try:
            self.conn.execute(f"""INSERT INTO {self.fqn} (batch_id, pixel_code, event_id, test_event_code, payload,
                                  created_at)
                                  SELECT batch_id, pixel_code, event_id, test_event_code, payload, ?::TIMESTAMPTZ
                                  FROM _fwd_dry""", [_now()])
        finally:
            self.conn.unregister("_fwd_dry")


def describe(conn: duckdb.DuckDBPyConnection, fqn: str) -> list[tuple[Any, ...]]:
    return conn.execute(f"DESCRIBE {fqn}").fetchall()
