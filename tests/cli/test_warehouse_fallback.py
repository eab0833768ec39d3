"""Reads while a run holds the warehouse fall back to the BI copy and say how fresh it is; the
user's mapping override wins in the build and the tracked seed stays clean."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from signal_campaigns.cli.warehouse_reads import open_marts_for_reading
from signal_campaigns.warehouse import REPO_ROOT, bi_copy_path, run_dbt

HOLD = "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('holding', flush=True); time.sleep(120)"


@pytest.fixture
def held_warehouse(cli_warehouse, tmp_path) -> Iterator[Path]:
    """A copy of the warehouse with its BI copy, held by a writing process (as a run holds it)."""
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(cli_warehouse, db)
    shutil.copyfile(cli_warehouse, bi_copy_path(db))
    writer = subprocess.Popen([sys.executable, "-c", HOLD, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "holding"
        yield db
    finally:
        writer.kill()
        writer.wait(timeout=30)


def test_reads_fall_back_to_the_bi_copy_and_say_how_fresh(held_warehouse, run_cli, connected):
    with pytest.raises(duckdb.IOException):
        duckdb.connect(str(held_warehouse), read_only=True)  # the run really holds it

    con, note = open_marts_for_reading(held_warehouse)
    try:
        assert con.execute("select count(*) from main.signal_campaign_daily").fetchall()[0][0] > 0
    finally:
        con.close()
    assert note and str(bi_copy_path(held_warehouse)) in note and "minute" in note and "published" in note

    human = run_cli("report", "--days", "7", warehouse=held_warehouse)
    assert human.exit_code == 0, human.output
    assert "BI copy" in human.stderr and "ago" in human.stderr and "SPEND" in human.stdout
    scripted = run_cli("--json", "report", "--days", "7", warehouse=held_warehouse)
    data = json.loads(scripted.stdout)
    assert data["rows"] and "BI copy" in data["data_note"] and scripted.stderr == ""
    doctor = json.loads(run_cli("--json", "doctor", warehouse=held_warehouse).stdout)
    assert "BI copy" in doctor["data_note"]
    assert {c["id"]: c["status"] for c in doctor["checks"]}["reporting_differences"] != "skip"


def test_without_a_bi_copy_the_error_says_to_wait(held_warehouse, run_cli):
    bi_copy_path(held_warehouse).unlink()
    result = run_cli("report", warehouse=held_warehouse)
    assert result.exit_code == 1 and "writing it" in result.stderr and "try again" in result.stderr


def test_the_local_override_wins_in_the_build_and_the_seed_stays_clean(run_cli, project, cli_warehouse, tmp_path):
    assert run_cli("mapping", "set", "purchase", "CompletePayment").exit_code == 0
    assert run_cli("mapping", "set", "login", "Login").exit_code == 0
    assert run_cli("mapping", "disable", "session_start").exit_code == 0
    db = tmp_path / "build.duckdb"
    shutil.copyfile(cli_warehouse, db)
    run_dbt(["build", "--select", "int_event_mapping"], warehouse=db)  # the builds' one way into dbt
    with duckdb.connect(str(db), read_only=True) as con:
        schema = con.execute(
            "select table_schema from information_schema.tables where table_name = 'int_event_mapping'"
        ).fetchall()[0][0]
        rows = {
            r[0]: (r[1], r[2])
            for r in con.execute(
                f"select sdk_event, tiktok_event, is_override from {schema}.int_event_mapping"
            ).fetchall()
        }
    assert rows["purchase"] == ("CompletePayment", True)
    assert rows["login"] == ("Login", True)
    assert rows["session_start"] == (None, True)
    assert rows["install"] == ("Download", False)
    tracked = subprocess.run(
        ["git", "status", "--porcelain", "--", "dbt/seeds/event_mapping.csv"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert tracked.stdout == "", "the tracked seed must stay clean"
    ignored = subprocess.run(["git", "check-ignore", "-q", "data/event_mapping.local.csv"], cwd=REPO_ROOT, check=False)
    assert ignored.returncode == 0, "the default override path is git-ignored"
