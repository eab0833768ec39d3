"""Any write to the warehouse republishes the BI copy, and a BI tool holding the copy open never
makes a writing run fail: a ``dbt build`` run by hand (dbt's on-run-end hook and the dbt-duckdb
plugin), and the publishing every other writer calls (Dagster's ``warehouse_bi_copy``, the demo;
the Dagster runs themselves: tests/dagster/test_forwarding_job.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from signal_campaigns.warehouse import BI_COPY_VAR, DBT_PROJECT_DIR, REPO_ROOT, bi_copy_path, publish_read_only_copy

from .conftest import OLD_CLIENTS, duckdb_client

# a BI tool with a DuckDB 1.x driver: opens the copy read-only and keeps it open between queries
READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute(sys.argv[2]).fetchone()[0], flush=True)
while sys.stdin.readline():
    print(con.execute(sys.argv[2]).fetchone()[0], flush=True)
"""
RUNS = "select count(*) from bi_probe.runs"


class BiReader:
    """``with BiReader(python, path) as reader:`` an old client holding ``path`` open; ``first`` is
    the number of probe rows it saw on opening, ``again()`` asks on the same connection."""

    def __init__(self, python: Path, path: Path) -> None:
        self.proc = subprocess.Popen(
            [str(python), "-c", READER, str(path), RUNS],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None and self.proc.stderr is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"reader failed: {self.proc.stderr.read()}")
        self.first = int(line)

    def again(self) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def __enter__(self) -> BiReader:
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def record_a_write(db: Path) -> int:
    """A write to the main warehouse the copy must then show: one more probe row; the count."""
    with duckdb.connect(str(db)) as con:
        con.execute("create schema if not exists bi_probe")
        con.execute("create table if not exists bi_probe.runs (n integer)")
        con.execute("insert into bi_probe.runs select count(*) + 1 from bi_probe.runs")
        (count,) = con.execute(RUNS).fetchall()[0]
        return count


def copy_state(bi: Path) -> tuple[int, int]:
    """(inode, probe rows) of the published copy: a republished copy is a new file."""
    with duckdb.connect(str(bi), read_only=True) as con:
        (count,) = con.execute(RUNS).fetchall()[0]
        return bi.stat().st_ino, count


def dbt_by_hand(*args: str, db: Path, extra_vars: dict | None = None) -> subprocess.CompletedProcess:
    """``dbt <args>`` as an analyst runs it from the repository root: the CLI in a process of its
    own, this checkout's code first on its path (the hook's plugin is imported from it)."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    dbt = Path(sys.executable).with_name("dbt")
    return subprocess.run(
        [
            str(dbt),
            *args,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--vars",
            json.dumps({"warehouse_path": str(db), **(extra_vars or {})}),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.fixture
def warehouse(built_warehouse, tmp_path) -> Path:
    """A copy of the built warehouse for one test, with its BI copy published."""
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_warehouse["db"], db)
    record_a_write(db)
    publish_read_only_copy(db)
    return db


def test_a_manual_dbt_build_republishes_the_copy_while_a_bi_tool_holds_it_open(warehouse):
    db, bi = warehouse, bi_copy_path(warehouse)
    python = duckdb_client(OLD_CLIENTS[-1])
    with BiReader(python, bi) as reader:
        assert reader.first == 1
        before = copy_state(bi)
        assert record_a_write(db) == 2
        done = dbt_by_hand("build", "--select", "event_mapping_coverage", db=db)
        assert done.returncode == 0, done.stdout[-4000:]
        after = copy_state(bi)
        assert after[0] != before[0] and after[1] == 2  # a new copy with the build's state
        assert reader.again() == 1  # the tool keeps reading the copy it opened, undisturbed
        # the next writing command republishes again; the reader is still there
        assert record_a_write(db) == 3
        done = dbt_by_hand("run", "--select", "event_mapping_coverage", db=db)
        assert done.returncode == 0, done.stdout[-4000:]
        assert copy_state(bi)[1] == 3
        assert reader.again() == 1
    assert not [p.name for p in bi.parent.iterdir() if p.name.endswith((".tmp", ".tmp.wal"))]


def test_commands_that_do_not_write_and_callers_that_publish_themselves_leave_the_copy(warehouse):
    db, bi = warehouse, bi_copy_path(warehouse)
    before = copy_state(bi)
    record_a_write(db)
    # dbt test writes nothing; Dagster's dbt step and run_dbt turn the hook off (they publish once
    # at the end of their run)
    assert dbt_by_hand("test", "--select", "event_mapping_coverage", db=db).returncode == 0
    done = dbt_by_hand("run", "--select", "event_mapping_coverage", db=db, extra_vars={BI_COPY_VAR: "false"})
    assert done.returncode == 0, done.stdout[-4000:]
    assert copy_state(bi) == before
    # the publishing of every other writer, under an open reader
    with BiReader(duckdb_client(OLD_CLIENTS[-1]), bi) as reader:
        publish_read_only_copy(db)
        assert copy_state(bi)[1] == before[1] + 1
        assert reader.again() == before[1]
