"""The forwarder on the Spark target, over real HTTP to the sandbox Events API: its queue read from
the Spark build (a Spark view ``signal_campaigns.events_to_forward``), its ledger in the DuckDB
file with its guarantees (docs/forwarding.md, "On the Spark target"), a SIGKILL mid-POST and a
restart losing nothing, and the refusals (no Java, no PySpark, the metastore held by another
process) with what to do and exit 3."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx

from sandbox.chaos import check_delivery, ledger_state, start_forwarder
from tests.forwarding.test_forwarder import arm

from .conftest import REPO, public_relations, serving_file

# a process that opens the metastore and keeps it until its stdin closes
HOLD_METASTORE = (
    "from signal_campaigns.warehouse.spark import spark_session; s = spark_session(); "
    "s.sql('show databases').collect(); print('open', flush=True); input()"
)


def run_cli(path: Path, ep, *args: str) -> tuple[int, dict | None, str]:
    """One forwarder run on the Spark target: (exit code, summary, stderr)."""
    proc = start_forwarder(path, ep, "--lock-wait", "2", *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=600)
    lines = out.decode().strip().splitlines()
    return proc.returncode, json.loads(lines[-1]) if lines else None, err.decode()


def wait_for_first_post(ep) -> None:
    deadline = time.monotonic() + 120
    stats = f"{ep.tiktok_url}/_sandbox/stats"
    while httpx.get(stats, timeout=10).json()["requests"].get("event/track|fault", 0) == 0:
        assert time.monotonic() < deadline, "the forwarder never posted"
        time.sleep(0.05)


def test_the_spark_queue_is_forwarded_exactly_once_across_a_kill(sandbox, spark_queue, spark_env, built_duckdb):
    path = serving_file(spark_env)
    ids = spark_queue["event_id"].to_pylist()
    n = len(ids)
    # run 1: killed while its first batch is posted (the POST hangs)
    arm(sandbox, kind="delay", seconds=4.0, count=1)
    proc = start_forwarder(path, sandbox, "--batch-size", "50", stderr=subprocess.DEVNULL)
    wait_for_first_post(sandbox)
    proc.kill()
    proc.wait(timeout=30)
    counts, _ = ledger_state(path)
    in_flight = counts.get("in_flight", 0)  # the first batch (of one pixel), marked before its POST
    assert 0 < in_flight <= 50 and counts == {"in_flight": in_flight, "pending": n - in_flight}

    # run 2: recovers the in-flight batch and sends everything
    code, summary, err = run_cli(path, sandbox, "--batch-size", "50")
    assert code == 0, err[-2000:]
    assert summary is not None and summary["recovered_in_flight"] == in_flight and summary["sent"] == n
    time.sleep(4.5)  # the hung request completes server-side (or not): TikTok dedups it either way
    check = check_delivery(path, sandbox, ids)
    assert check.exactly_once, check  # TikTok kept the queue's events once each; the ledger all sent

    # the queue in the DuckDB file is the Spark build's, typed as it was built
    with duckdb.connect(str(path), read_only=True) as con:
        staged = con.sql("SELECT * FROM main.events_to_forward ORDER BY event_id").to_arrow_table()
        types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE main.events_to_forward)").fetchall())
        comment = con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = 'events_to_forward'").fetchall()
    assert staged.to_pylist() == spark_queue.to_pylist()
    assert types["occurred_at"] == "TIMESTAMP WITH TIME ZONE" and types["value"] == "DECIMAL(18,6)"
    built = {name: text for name, _, text in public_relations(built_duckdb["db"])}
    assert comment == [(built["events_to_forward"],)] and comment[0][0]  # the mart's description

    # run 3: nothing new, nothing sent
    code, summary, err = run_cli(path, sandbox)
    assert code == 0, err[-2000:]
    assert summary is not None and (summary["sent"], summary["enqueued"], summary["batches"]) == (0, 0, 0)

    # the ledger's snapshot in the lake, for Spark: one row per event, all sent
    ledger = spark_env / "lake" / "forwarding" / "event_delivery_ledger" / "ledger.parquet"
    with duckdb.connect() as con:
        rows = con.execute(f"SELECT status, count(*), count(DISTINCT event_id) FROM '{ledger}' GROUP BY 1").fetchall()
    assert rows == [("sent", n, n)]


def test_a_metastore_held_by_another_process_is_refused_naming_it(sandbox, spark_env):
    """Derby lets one process open the metastore: a second one is told who holds it and what to do
    (exit 3), and nothing is written."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_METASTORE],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"open"
        path = serving_file(spark_env)
        code, summary, err = run_cli(path, sandbox)
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert code == 3 and summary is None
    assert "forwarding stopped: The Spark metastore" in err and f"pid {holder.pid}" in err
    assert str(spark_env / "spark" / "metastore_db") in err
    assert "what to do: Wait until that process ends" in err
    with duckdb.connect(str(path), read_only=True) as con:  # the ledger was never touched
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'forwarding'").fetchall() == [(0,)]


def test_spark_without_java_is_refused_with_the_install_step(sandbox, spark_env, monkeypatch):
    monkeypatch.setenv("JAVA_HOME", str(spark_env / "no-java"))
    code, summary, err = run_cli(serving_file(spark_env), sandbox)
    assert code == 3 and summary is None
    assert "forwarding stopped: Spark could not start its JVM" in err
    assert "what to do: Install the Spark target's extras with `make spark-setup`" in err


def test_spark_without_pyspark_is_refused_with_the_install_step(sandbox, spark_env, monkeypatch, tmp_path):
    fake = tmp_path / "site" / "pyspark"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('pyspark is not installed here')\n")
    monkeypatch.setenv("PYTHONPATH", f"{fake.parent}:{REPO}")
    code, summary, err = run_cli(serving_file(spark_env), sandbox)
    assert code == 3 and summary is None
    assert "forwarding stopped: PySpark is not installed in this virtualenv." in err
    assert "what to do: Install the Spark target's extras with `make spark-setup`" in err
