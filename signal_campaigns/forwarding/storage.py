"""Where the forwarder keeps its tables, their DDL, and the comments on the public ledger view.

The warehouse's target schema (``main``) is the public contract: of the forwarder's objects only the
view ``event_delivery_ledger`` lives there, beside the queue ``events_to_forward``. Its internal
tables (the folded ledger, the journal and the dry-run payloads) live in the schema ``forwarding``
(:data:`INTERNAL_SCHEMA`); a ledger kept in another schema (``--ledger-schema X``) keeps its
internals in ``X_forwarding``, so two ledgers never share tables.

A warehouse written before this layout (internal tables in ``main``, or ``event_delivery_ledger``
itself a table) is moved on the next :meth:`~.ledger.DeliveryLedger.ensure`, in the same
transaction that (re)creates the view: a crash leaves the old layout whole.
"""

from __future__ import annotations

import duckdb

INTERNAL_SCHEMA = "forwarding"
PUBLIC_SCHEMA = "main"

FOLDED_DDL = """(
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
)"""
FOLDED_COLUMNS = (
    "event_id",
    "pixel_code",
    "tiktok_event",
    "status",
    "attempts",
    "last_code",
    "last_message",
    "batch_id",
    "first_attempt_at",
    "sent_at",
    "updated_at",
)
JOURNAL_DDL = """(
    entry_id BIGINT NOT NULL,
    batch_id VARCHAR NOT NULL,
    state VARCHAR NOT NULL,
    event_ids VARCHAR,
    code INTEGER,
    message VARCHAR,
    attempts INTEGER,
    recorded_at TIMESTAMPTZ NOT NULL
)"""
JOURNAL_COLUMNS = ("entry_id", "batch_id", "state", "event_ids", "code", "message", "attempts", "recorded_at")
# The journal keeps a batch's event ids as one JSON array (text): committing a VARCHAR[] of 1,000 ids
# cost DuckDB ~5 ms, ten times the same ids as one string, and that commit precedes every POST.
JOURNAL_IDS_SQL = """from_json({column}, '["VARCHAR"]')"""  # the ids as a VARCHAR[] again

# The comments on the public view. The dbt source `forwarding.event_delivery_ledger`
# (dbt/models/staging/forwarding/_forwarding__sources.yml) carries the same text (a test compares).
LEDGER_VIEW_COMMENT = (
    "One row per eligible event the forwarder has queued, with its delivery status. A view over the "
    "forwarder's internal tables (schema forwarding), always current, also during a run. Events that "
    "are not eligible are in forwarding_skips with their reason."
)
LEDGER_COLUMN_COMMENTS = {
    "event_id": "AppSprint's stable event id (one row each; TikTok deduplicates on it).",
    "pixel_code": "The TikTok pixel the event is sent to.",
    "tiktok_event": "The TikTok web event it is sent as (the effective event mapping).",
    "status": (
        "pending (waiting: new, or left by a stopped or crashed run), in_flight (its batch was recorded "
        "just before the POST; outside a run only a crash leaves it, and the next run sends it again), "
        "sent (TikTok accepted it: code 0 or 20001), or dead (TikTok rejected this event itself after "
        "the batch was split down to it; never retried)."
    ),
    "attempts": (
        "POSTs that carried the event, retries and the halved batches of a 40002 rejection included "
        "(0 until its first batch)."
    ),
    "last_code": (
        "TikTok's last return code for it (0, or 20001 for a partial success, once sent); on an event "
        "left pending by a stopped run, the stopping error's code; NULL before any answer."
    ),
    "last_message": (
        "TikTok's last message for it, with the access token scrubbed (why a dead event was rejected); "
        "on an event left pending by a stopped run, the error's class name."
    ),
    "batch_id": "The last batch the event was sent in (<run id>-<sequence>).",
    "first_attempt_at": "When its first batch was marked in flight (UTC); NULL while never attempted.",
    "sent_at": "When TikTok's acceptance was recorded (UTC); NULL unless sent.",
    "updated_at": "The row's last change (UTC).",
}


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str | None, table: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(table)}" if schema else quote_ident(table)


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def internal_schema_for(schema: str) -> str:
    """The schema of the internal tables of a ledger whose view is in ``schema``."""
    return INTERNAL_SCHEMA if schema == PUBLIC_SCHEMA else f"{schema}_{INTERNAL_SCHEMA}"


def table_type(conn: duckdb.DuckDBPyConnection, schema: str, name: str) -> str | None:
    """``BASE TABLE``, ``VIEW`` or ``None`` for ``schema.name`` in the connection's database."""
    rows = conn.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_schema = ? AND table_name = ? "
        "AND table_catalog = current_database()",
        [schema, name],
    ).fetchall()
    return str(rows[0][0]) if rows else None


def create_table(
    conn: duckdb.DuckDBPyConnection,
    target: tuple[str, str],
    ddl: str,
    columns: tuple[str, ...],
    legacy: list[tuple[str, str]],
) -> None:
    """Create ``target`` = ``(schema, name)`` when missing; when it is missing and a table of an
    older layout exists (the first of ``legacy`` that is a base table), its rows move into it and
    the old table is dropped. Run inside the caller's transaction."""
    schema, name = target
    if table_type(conn, schema, name) is not None:
        return
    conn.execute(f"CREATE TABLE {qualified(schema, name)} {ddl}")
    for old_schema, old_name in legacy:
        if (old_schema, old_name) != target and table_type(conn, old_schema, old_name) == "BASE TABLE":
            cols = ", ".join(columns)
            old = qualified(old_schema, old_name)
            conn.execute(f"INSERT INTO {qualified(schema, name)} ({cols}) SELECT {cols} FROM {old}")
            conn.execute(f"DROP TABLE {old}")
            return


def upgrade_journal(conn: duckdb.DuckDBPyConnection, schema: str, name: str) -> None:
    """A journal of the older layout (``event_ids VARCHAR[]``) gets its ids as JSON text, in place (run
    inside the caller's transaction, before the journal is moved or read)."""
    rows = conn.execute(
        "SELECT data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
        "AND column_name = 'event_ids' AND table_catalog = current_database()",
        [schema, name],
    ).fetchall()
    if rows and str(rows[0][0]).endswith("[]"):
        conn.execute(
            f"ALTER TABLE {qualified(schema, name)} ALTER event_ids SET DATA TYPE VARCHAR "
            "USING CAST(to_json(event_ids) AS VARCHAR)"
        )


def comment_ledger_view(conn: duckdb.DuckDBPyConnection, view_fqn: str) -> None:
    """The table and column comments of the public view (what BI tools and ``duckdb_columns()`` show)."""
    conn.execute(f"COMMENT ON VIEW {view_fqn} IS {sql_literal(LEDGER_VIEW_COMMENT)}")
    for column, text in LEDGER_COLUMN_COMMENTS.items():
        conn.execute(f"COMMENT ON COLUMN {view_fqn}.{quote_ident(column)} IS {sql_literal(text)}")
