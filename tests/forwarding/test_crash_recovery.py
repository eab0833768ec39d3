"""Crash recovery: the forwarder CLI is SIGKILLed (at random points, while a batch is being posted,
in the middle of folding the ledger journal) and restarted; every eligible event ends accepted by
the sandbox exactly once after dedup, the ledger all ``sent``, its journal folded."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import httpx
import pytest

from sandbox.chaos import check_delivery, ledger_state, start_forwarder
from signal_campaigns.forwarding.ledger import JOURNAL_TABLE

from .test_forwarder import arm, received


def run_cli(path, ep, *args: str) -> dict:
    """One run to completion; its summary."""
    proc = start_forwarder(path, ep, *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()[-2000:]
    return json.loads(out.decode().strip().splitlines()[-1])


def kill_when_logged(proc: subprocess.Popen, marker: bytes, delay: float = 0.0) -> list[bytes]:
    """SIGKILL ``proc`` ``delay`` seconds after its log (stderr) shows ``marker``; its log lines."""
    lines: list[bytes] = []
    assert proc.stderr is not None
    for line in proc.stderr:
        lines.append(line)
        if marker in line:
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, b"".join(lines).decode()[-2000:]
    return lines


def run_with_kills(
    path, ep, *args: str, kills: int, seed: int, window: tuple[float, float], log_path: Path
) -> tuple[int, int]:
    """Start the CLI, SIGKILL it ``kills`` times at random moments, then let it finish.
    Returns (processes killed mid-run, runs)."""
    rng = random.Random(seed)
    killed = runs = 0
    with open(log_path, "ab") as log:
        while True:
            runs += 1
            proc = start_forwarder(path, ep, *args, stdout=log, stderr=log)
            if killed < kills:
                try:
                    proc.wait(timeout=rng.uniform(*window))
                except subprocess.TimeoutExpired:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    killed += 1
                    continue
            else:
                proc.wait(timeout=300)
            assert proc.returncode == 0, log_path.read_text()[-2000:]
            if killed >= kills or runs > kills + 20:
                return killed, runs


def check_exactly_once(path, ep, rows) -> None:
    check = check_delivery(path, ep, rows["event_id"].to_pylist())
    assert check.exactly_once, check  # none missing, none extra, none twice; the ledger all sent and folded


def check_no_secret(path, ep, log_path: Path) -> None:
    token = ep.credentials.events_api_token
    assert token not in log_path.read_text()
    with duckdb.connect(str(path), read_only=True) as conn:
        text = str(conn.execute("SELECT * FROM main.event_delivery_ledger").fetchall())
        text += str(conn.execute(f"SELECT * FROM forwarding.{JOURNAL_TABLE}").fetchall())
    assert token not in text


def test_sigkill_at_random_points_loses_nothing(sandbox, make_warehouse, tmp_path):
    path, rows = make_warehouse(20_000)
    log_path = tmp_path / "forwarder.log"
    killed, _runs = run_with_kills(
        path,
        sandbox,
        "--batch-size",
        "100",
        "--fold-every-batches",
        "7",
        kills=6,
        seed=3,
        window=(0.8, 2.2),
        log_path=log_path,
    )
    assert killed >= 1
    check_exactly_once(path, sandbox, rows)
    check_no_secret(path, sandbox, log_path)


def test_a_run_killed_while_a_batch_is_posted_resends_that_batch_only(sandbox, make_warehouse):
    path, rows = make_warehouse(3000)
    arm(sandbox, kind="delay", seconds=4.0, count=1)  # the first POST hangs until the process is dead
    proc = start_forwarder(path, sandbox, "--batch-size", "1000", stderr=subprocess.PIPE)
    assert proc.stderr is not None
    for line in proc.stderr:  # wait until the run has started posting
        if b"pending events" in line:
            break
    deadline = time.monotonic() + 60
    while (
        httpx.get(f"{sandbox.tiktok_url}/_sandbox/stats", timeout=10).json()["requests"].get("event/track|fault", 0)
        == 0
    ):
        assert time.monotonic() < deadline, "the forwarder never posted"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    counts, _ = ledger_state(path)
    assert counts == {"in_flight": 1000, "pending": 2000}  # marked before its POST, durably
    summary = run_cli(path, sandbox, "--batch-size", "1000")
    assert summary["recovered_in_flight"] == 1000 and summary["sent"] == 3000
    time.sleep(4.5)  # the hung request completes server-side (or not): either way TikTok dedups it
    c = received(sandbox)
    assert c["unique_events"] == 3000 and c["duplicates_dropped"] in (0, 1000)
    check_exactly_once(path, sandbox, rows)


def test_a_run_killed_while_folding_loses_nothing_and_resends_nothing(sandbox, make_warehouse):
    path, rows = make_warehouse(40_000)
    # 40 batches, folded once at the end of the run: killed the moment that fold starts
    proc = start_forwarder(path, sandbox, "--batch-size", "1000", "--log-level", "INFO", stderr=subprocess.PIPE)
    kill_when_logged(proc, b"folding")

    counts, journal = ledger_state(path)
    assert journal > 0  # the fold did not commit: the table alone would be stale...
    assert counts == {"sent": 40_000}  # ...but the ledger, read through the journal, is complete
    assert received(sandbox)["unique_events"] == 40_000

    summary = run_cli(path, sandbox, "--batch-size", "1000")
    assert summary["recovered_in_flight"] == 0 and summary["sent"] == 0 and summary["batches"] == 0
    assert received(sandbox)["duplicates_dropped"] == 0  # nothing sent twice
    check_exactly_once(path, sandbox, rows)


@pytest.mark.slow
def test_sigkill_100k_events(sandbox, make_warehouse, tmp_path):
    path, rows = make_warehouse(100_000)
    log_path = tmp_path / "forwarder.log"
    started = time.monotonic()
    killed, _runs = run_with_kills(
        path,
        sandbox,
        "--batch-size",
        "1000",
        "--fold-every-batches",
        "10",
        kills=5,
        seed=5,
        window=(1.0, 4.0),
        log_path=log_path,
    )
    assert killed >= 1
    check_exactly_once(path, sandbox, rows)
    check_no_secret(path, sandbox, log_path)
    assert time.monotonic() - started < 120


def test_the_command_line_republishes_the_bi_copy_after_its_run(sandbox, make_warehouse):
    path, _rows = make_warehouse(50)
    bi = path.with_name("warehouse_bi.duckdb")
    run_cli(path, sandbox, "--no-bi-copy")
    assert not bi.exists()  # asked not to
    summary = run_cli(path, sandbox)  # nothing new to send: still a write (the ledger), so it publishes
    assert summary["sent"] == 0
    with duckdb.connect(str(bi), read_only=True) as con:  # what BI tools open: every event sent
        assert con.execute("select status, count(*) from event_delivery_ledger group by 1").fetchall() == [("sent", 50)]
