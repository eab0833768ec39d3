"""The delivery ledger's journal and fold, on a DuckDB file without HTTP: the public view
``event_delivery_ledger`` is current at every step, a fold changes nothing a reader sees, and a
run that stopped between a journal write and the fold is recovered by the next one."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from sandbox.synthetic_queue import synthetic_queue, write_queue_file
from signal_campaigns.forwarding.ledger import (
    FOLDED_TABLE,
    JOURNAL_TABLE,
    LEDGER_COLUMNS,
    LEDGER_TABLE,
    DeliveryLedger,
    Outcome,
)
from tests.conftest import FIXED_ANCHOR

QUEUE = '"main"."events_to_forward"'
COLS = ", ".join(LEDGER_COLUMNS)


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "ledger.duckdb"
    rows = synthetic_queue(3000, ["PIXEL_A", "PIXEL_B"], FIXED_ANCHOR)
    write_queue_file(path, rows)
    return path, rows["event_id"].to_pylist()


def open_ledger(path) -> tuple[duckdb.DuckDBPyConnection, DeliveryLedger]:
    conn = duckdb.connect(str(path))
    ledger = DeliveryLedger(conn)
    ledger.ensure()
    return conn, ledger


def rows_of(conn, table: str) -> dict[str, tuple]:
    schema = "main" if table == LEDGER_TABLE else "forwarding"  # the public view; the internal tables
    return {r[0]: r for r in conn.execute(f"SELECT {COLS} FROM {schema}.{table}").fetchall()}


def view(conn) -> dict[str, tuple]:
    return rows_of(conn, LEDGER_TABLE)


def col(row: tuple, name: str):
    return row[LEDGER_COLUMNS.index(name)]


def test_view_is_current_at_every_step_and_a_fold_changes_nothing_visible(warehouse):
    path, ids = warehouse
    b1, b2, rest = ids[:1000], ids[1000:2000], ids[2000:]
    conn, ledger = open_ledger(path)
    assert ledger.recover() == 0 and ledger.enqueue(QUEUE) == 3000

    ledger.transition(None, ("b1", b1))
    assert ledger.counts() == {"pending": 2000, "in_flight": 1000, "sent": 0, "dead": 0}
    row = view(conn)[b1[0]]
    assert col(row, "batch_id") == "b1" and col(row, "first_attempt_at") is not None and col(row, "attempts") == 0

    ledger.transition(Outcome.uniform("b1", b1, "sent", 0, None, 1), ("b2", b2))
    # batch 2: 10 dead-lettered after bisection, 5 left pending by a stop, the rest partially successful
    statuses = ["dead"] * 10 + ["pending"] * 5 + ["sent"] * 985
    codes: list[int | None] = [*[40002] * 10, *[50000] * 5, *[20001] * 985]
    messages: list[str | None] = [*["event_time too old"] * 10, *["EventsApiUnavailableError"] * 5, *["partial"] * 985]
    attempts = [4] * 10 + [2] * 5 + [2] * 985
    ledger.transition(Outcome("b2", b2, statuses, codes, messages, attempts), None)

    before = view(conn)
    assert ledger.counts() == {"pending": 1000 + 5, "in_flight": 0, "sent": 1000 + 985, "dead": 10}
    sent = before[b1[0]]
    assert (
        col(sent, "status"),
        col(sent, "attempts"),
        col(sent, "last_code"),
        col(sent, "last_message"),
        col(sent, "batch_id"),
    ) == ("sent", 1, 0, None, "b1")
    assert col(sent, "sent_at") is not None
    dead = before[b2[0]]
    assert (
        col(dead, "status"),
        col(dead, "attempts"),
        col(dead, "last_code"),
        col(dead, "last_message"),
        col(dead, "sent_at"),
    ) == ("dead", 4, 40002, "event_time too old", None)
    stopped = before[b2[12]]
    assert (col(stopped, "status"), col(stopped, "attempts"), col(stopped, "last_code")) == ("pending", 2, 50000)
    assert col(before[b2[-1]], "last_code") == 20001
    untouched = before[rest[0]]
    assert col(untouched, "status") == "pending" and col(untouched, "first_attempt_at") is None

    assert ledger.journal_entries() == 6  # b1 in flight, b1 sent, b2 in flight, b2's three answers
    assert ledger.fold() == 6
    assert ledger.journal_entries() == 0
    assert view(conn) == before
    assert rows_of(conn, FOLDED_TABLE) == before  # the table itself is current after a fold
    assert ledger.fold() == 0 and view(conn) == before
    conn.close()


def test_several_journal_steps_of_one_event_before_a_fold(warehouse):
    """An event left pending by a stopped batch and sent in a later one, all before a fold:
    attempts add up, the batch and answer are the last ones, the first attempt time the first."""
    path, ids = warehouse
    five = ids[:5]
    conn, ledger = open_ledger(path)
    ledger.recover()
    ledger.enqueue(QUEUE)
    ledger.transition(None, ("b1", five))
    ledger.transition(Outcome.uniform("b1", five, "pending", 50000, "EventsApiUnavailableError", 3), ("b2", five))
    first = col(view(conn)[five[0]], "first_attempt_at")
    ledger.transition(Outcome.uniform("b2", five, "sent", 0, None, 1), None)

    def check(row: tuple) -> None:
        assert (
            col(row, "status"),
            col(row, "attempts"),
            col(row, "batch_id"),
            col(row, "last_code"),
            col(row, "last_message"),
        ) == ("sent", 4, "b2", 0, None)
        assert col(row, "first_attempt_at") == first and col(row, "sent_at") is not None

    check(view(conn)[five[0]])  # from the journal
    ledger.fold()
    check(view(conn)[five[0]])  # from the folded table
    assert rows_of(conn, FOLDED_TABLE)[five[0]] == view(conn)[five[0]]
    conn.close()


def test_recovery_after_a_stop_between_journal_write_and_fold(warehouse):
    path, ids = warehouse
    b1, b2 = ids[:1000], ids[1000:2000]
    conn, ledger = open_ledger(path)
    ledger.recover()
    ledger.enqueue(QUEUE)
    ledger.transition(None, ("b1", b1))
    ledger.transition(Outcome.uniform("b1", b1, "sent", 0, None, 1), ("b2", b2))
    conn.close()  # the process dies here: b2 was marked in flight (and maybe posted), nothing folded

    conn = duckdb.connect(str(path), read_only=True)  # a reader (BI copy, doctor) between the runs
    between = rows_of(conn, LEDGER_TABLE)
    assert col(between[b1[0]], "status") == "sent"
    assert {col(between[e], "status") for e in b2} == {"in_flight"}
    assert conn.execute(f"SELECT count(*) FROM forwarding.{JOURNAL_TABLE}").fetchall()[0][0] == 3
    conn.close()

    conn, ledger = open_ledger(path)  # the next run
    assert ledger.recover() == 1000
    assert ledger.journal_entries() == 0
    assert ledger.counts() == {"pending": 2000, "in_flight": 0, "sent": 1000, "dead": 0}
    assert rows_of(conn, FOLDED_TABLE) == view(conn)
    # the next run's journal continues after the recovered one
    ledger.transition(None, ("b3", b2))
    ledger.transition(Outcome.uniform("b3", b2, "sent", 0, None, 1), None)
    assert ledger.counts()["sent"] == 2000
    assert col(view(conn)[b2[0]], "batch_id") == "b3"
    conn.close()


def test_a_ledger_table_from_before_the_journal_is_kept(tmp_path):
    """A warehouse whose event_delivery_ledger is still a table: its rows become the folded table
    and stay visible through the view."""
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("""CREATE TABLE main.event_delivery_ledger (event_id VARCHAR NOT NULL, pixel_code VARCHAR,
            tiktok_event VARCHAR, status VARCHAR NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_code INTEGER,
            last_message VARCHAR, batch_id VARCHAR, first_attempt_at TIMESTAMPTZ, sent_at TIMESTAMPTZ,
            updated_at TIMESTAMPTZ NOT NULL)""")
        conn.execute("""INSERT INTO main.event_delivery_ledger VALUES
            ('e1', 'P', 'Purchase', 'sent', 1, 0, NULL, 'old-1', now(), now(), now()),
            ('e2', 'P', 'Download', 'in_flight', 1, NULL, NULL, 'old-2', now(), NULL, now())""")
    conn, ledger = open_ledger(path)
    kinds = dict(
        conn.execute("SELECT table_schema || '.' || table_name, table_type FROM information_schema.tables").fetchall()
    )
    assert kinds["main." + LEDGER_TABLE] == "VIEW" and kinds["forwarding." + FOLDED_TABLE] == "BASE TABLE"
    assert ledger.recover() == 1
    assert {k: col(r, "status") for k, r in view(conn).items()} == {"e1": "sent", "e2": "pending"}
    conn.close()


def test_internals_of_the_previous_layout_move_out_of_the_public_schema(warehouse):
    """A warehouse whose folded table and journal sit in ``main`` (the layout before the schema
    ``forwarding``): they move there with their rows, unfolded journal rows included; ``main`` keeps
    only the queue and the view, which carries its table and column comments."""
    path, ids = warehouse
    with duckdb.connect(str(path)) as conn:
        old = DeliveryLedger(conn, internal_schema="main")
        old.ensure()
        old.recover()
        old.enqueue(QUEUE)
        old.transition(None, ("b1", ids[:10]))
        old.transition(Outcome.uniform("b1", ids[:10], "sent", 0, None, 1), None)  # journaled, not folded
        before = rows_of(conn, LEDGER_TABLE)
    conn, ledger = open_ledger(path)
    public = {
        r[0]
        for r in conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()
    }
    assert public == {"events_to_forward", LEDGER_TABLE}
    assert view(conn) == before and ledger.counts()["sent"] == 10 and ledger.journal_entries() == 2
    comments = dict(
        conn.execute(
            "SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = ?",
            [LEDGER_TABLE],
        ).fetchall()
    )
    assert set(comments) == set(LEDGER_COLUMNS) and all(comments.values())
    ((table_comment,),) = conn.execute(
        "SELECT comment FROM duckdb_views() WHERE schema_name = 'main' AND view_name = ?", [LEDGER_TABLE]
    ).fetchall()
    assert table_comment
    conn.close()


def test_event_ids_holding_the_journal_separator_stay_intact(tmp_path):
    """Ids are journaled as one joined string; an id containing the separator must not be split."""
    path = tmp_path / "odd.duckdb"
    odd = ["evt\x1fa", "evt\x1fb\x1f", "evt c"]
    rows = synthetic_queue(3, ["PIXEL_A"], FIXED_ANCHOR)
    write_queue_file(path, rows.set_column(rows.schema.get_field_index("event_id"), "event_id", pa.array(odd)))
    conn, ledger = open_ledger(path)
    ledger.recover()
    assert ledger.enqueue(QUEUE) == 3
    ledger.transition(None, ("b1", odd))
    assert {k: col(r, "status") for k, r in view(conn).items()} == dict.fromkeys(odd, "in_flight")
    ledger.transition(Outcome("b1", odd, ["sent", "dead", "sent"], [0, 40002, 0], [None, "bad", None], [1, 2, 1]), None)
    expected = {odd[0]: ("sent", 1), odd[1]: ("dead", 2), odd[2]: ("sent", 1)}
    assert {k: (col(r, "status"), col(r, "attempts")) for k, r in view(conn).items()} == expected
    ledger.fold()
    assert {k: (col(r, "status"), col(r, "attempts")) for k, r in view(conn).items()} == expected
    conn.close()


def test_a_journal_of_the_older_layout_left_by_a_crash_is_upgraded_and_recovered(warehouse):
    """A journal written before the ids became JSON text (``event_ids VARCHAR[]``), left with a
    committed outcome and an in-flight batch by a crash: the next run reads both."""
    path, ids = warehouse
    conn, ledger = open_ledger(path)
    ledger.recover()
    ledger.enqueue(QUEUE)
    journal = f"forwarding.{JOURNAL_TABLE}"
    conn.execute(f"DROP TABLE {journal}")
    conn.execute(
        f"CREATE TABLE {journal} (entry_id BIGINT NOT NULL, batch_id VARCHAR NOT NULL, state VARCHAR NOT NULL, "
        "event_ids VARCHAR[], code INTEGER, message VARCHAR, attempts INTEGER, recorded_at TIMESTAMPTZ NOT NULL)"
    )
    insert = f"INSERT INTO {journal} VALUES (?, ?, ?, ?, ?, ?, ?, now())"
    conn.execute(insert, [1, "b1", "in_flight", ids[:1000], None, None, None])
    conn.execute(insert, [2, "b1", "sent", None, 0, None, 1])
    conn.execute(insert, [3, "b2", "in_flight", ids[1000:2000], None, None, None])
    conn.close()

    conn, ledger = open_ledger(path)  # what the next run does first
    assert ledger.counts() == {"pending": 1000, "in_flight": 1000, "sent": 1000, "dead": 0}
    assert ledger.recover() == 1000
    assert ledger.counts() == {"pending": 2000, "in_flight": 0, "sent": 1000, "dead": 0}
    assert col(view(conn)[ids[0]], "batch_id") == "b1" and ledger.journal_entries() == 0
    conn.close()
