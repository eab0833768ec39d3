"""One writer and a published copy for readers (docs/decisions/0008-one-writer-and-bi-copy.md): signal_campaigns.warehouse's
wait_for_write_access and publish_read_only_copy with real DuckDB files and real other processes
(older DuckDB clients on the copy: tests/bi)."""

from __future__ import annotations

import logging
import time

import duckdb
import pytest

from signal_campaigns.warehouse import WarehouseLockedError, bi_copy_path, publish_read_only_copy, wait_for_write_access
from signal_campaigns.warehouse.location import STORAGE_VERSION_NUMBER, create_warehouse_file, storage_version_number

from .readers import HeldOpenReader


@pytest.fixture(params=["created by the project", "created in DuckDB 2.0's own format"])
def db(tmp_path, request):
    """A warehouse created as every writer of the project creates it (in the storage version old
    clients read: the copy is a byte copy), or by DuckDB's defaults (the copy is rewritten)."""
    path = tmp_path / "warehouse.duckdb"
    if request.param == "created by the project":
        create_warehouse_file(path)
        assert storage_version_number(path) == STORAGE_VERSION_NUMBER
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


def test_the_published_copy_is_replaced_atomically_under_an_open_reader(db):
    target = publish_read_only_copy(db)
    assert target == bi_copy_path(db) == db.with_name("warehouse_bi.duckdb")
    # older clients open the copy (64: the format DuckDB 0.10 to 1.x read), whatever the file's format
    assert storage_version_number(target) == STORAGE_VERSION_NUMBER == 64
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


def test_a_dlt_step_holds_the_file_from_the_wait_to_the_end_of_its_load(tmp_path):
    """The dlt steps hold what they waited for (WarehouseResource.held): dlt's own open in the same
    process shares the hold, and another process cannot take the file in between."""
    import subprocess
    import sys

    import dlt

    from dagster_project.warehouse import WarehouseResource
    from signal_campaigns.pipeline import warehouse_pipeline
    from signal_campaigns.warehouse import duckdb_destination

    resource = WarehouseResource(path=str(tmp_path / "warehouse.duckdb"))
    pipeline = warehouse_pipeline("tiktok_ads", duckdb_destination(resource.file()), tmp_path / "pipelines")
    other = [sys.executable, "-c", f"import duckdb; duckdb.connect({str(resource.file())!r})"]
    with resource.held(logging.getLogger("test")):
        assert subprocess.run(other, capture_output=True, check=False).returncode != 0  # held
        pipeline.run(dlt.resource([{"advertiser_id": "1"}], name="advertisers"))
        assert subprocess.run(other, capture_output=True, check=False).returncode != 0  # still held after the load
    assert subprocess.run(other, capture_output=True, check=False).returncode == 0  # released
    with duckdb.connect(str(resource.file()), read_only=True) as con:
        assert con.execute("select advertiser_id from tiktok_ads.advertisers").fetchall() == [("1",)]
