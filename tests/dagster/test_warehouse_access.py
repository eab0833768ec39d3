"""One writer and a published copy for readers (docs/decisions/0008-one-writer-and-bi-copy.md): signal_campaigns.warehouse's
wait_for_write_access and publish_read_only_copy with real DuckDB files and real other processes
(older DuckDB clients on the copy: tests/bi)."""

from __future__ import annotations

import logging
import struct
import time

import duckdb
import pytest

from signal_campaigns.warehouse import WarehouseLockedError, bi_copy_path, publish_read_only_copy, wait_for_write_access

from .readers import HeldOpenReader


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table t as select range as i from range(1000)")
    return path


def test_a_writer_waits_for_a_foreign_lock_and_says_who_holds_it(db, caplog):
    log = logging.getLogger("test")
    with HeldOpenReader(db, "select count(*) from t") as reader:
        with caplog.at_level(logging.WARNING), pytest.raises(WarehouseLockedError) as info:
            wait_for_write_access(db, timeout=0.5, poll=0.1, log=log)
        message = str(info.value)
        assert f"(PID {reader.proc.pid})" in message and str(bi_copy_path(db)) in message and "gave up" in message
        assert "waiting up to" in caplog.text
        # released while the writer waits -> the writer goes on
        started = time.monotonic()
        reader.again()  # the reader ends after answering
        reader.proc.wait(10)
        assert wait_for_write_access(db, timeout=10, poll=0.1, log=log) == db
        assert time.monotonic() - started < 10


def storage_number(path) -> int:
    """The storage version number in a DuckDB file's header (64: written for DuckDB 0.10 to 1.1,
    which every DuckDB from 0.10 on reads)."""
    with open(path, "rb") as file:
        header = file.read(20)
    assert header[8:12] == b"DUCK"
    return struct.unpack_from("<Q", header, 12)[0]


def test_the_published_copy_is_replaced_atomically_under_an_open_reader(db):
    target = publish_read_only_copy(db)
    assert target == bi_copy_path(db) == db.with_name("warehouse_bi.duckdb")
    assert storage_number(target) == 64 != storage_number(db)  # older clients open the copy, not the file
    with HeldOpenReader(target, "select count(*) from t") as reader:
        with duckdb.connect(str(db)) as con:  # the writer goes on while BI reads the copy
            con.execute("insert into t select range from range(500)")
        publish_read_only_copy(db)
        assert reader.again() == 1000  # the open reader keeps the copy it opened
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("select count(*) from t").fetchall()[0][0] == 1500
    assert not list(target.parent.glob(".*.tmp"))


def test_publishing_a_missing_warehouse_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="no warehouse at"):
        publish_read_only_copy(tmp_path / "nothing.duckdb")
