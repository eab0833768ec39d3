"""Crash recovery: the forwarder CLI is SIGKILLed at random points and restarted until done; every
eligible event ends accepted by the sandbox exactly once after dedup, the ledger all ``sent``."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from .test_forwarder import received, stored

REPO = Path(__file__).resolve().parents[2]


def run_with_kills(path, ep, *, kills: int, batch_size: int, seed: int, window: tuple[float, float],
                   log_path: Path) -> tuple[int, int]:
    """Start the CLI, SIGKILL it ``kills`` times at random moments, then let it finish.
    Returns (processes killed mid-run, runs)."""
    rng = random.Random(seed)
    env = {**os.environ, "TIKTOK_EVENTS_API_TOKEN": ep.credentials.events_api_token}
    cmd = [sys.executable, "-m", "signal_campaigns.forwarding", "--warehouse", str(path), "--base-url",
           ep.tiktok_url, "--batch-size", str(batch_size), "--base-delay", "0.01"]
    killed = runs = 0
    with open(log_path, "ab") as log:
        while True:
            runs += 1
            proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=log)
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
    n = rows.num_rows
    c = received(ep)
    assert c["unique_events"] == n, c
    ids = {item["event"]["event_id"] for item in stored(ep) if not item["duplicate"]}
    assert ids == set(rows["event_id"].to_pylist())  # none missing, none extra
    with duckdb.connect(str(path), read_only=True) as conn:
        counts = dict(conn.execute("SELECT status, count(*) FROM main.event_delivery_ledger GROUP BY 1").fetchall())
        assert counts == {"sent": n}
        assert conn.execute("SELECT count(DISTINCT event_id) FROM main.event_delivery_ledger").fetchall()[0][0] == n


def check_no_secret(path, ep, log_path: Path) -> None:
    token = ep.credentials.events_api_token
    assert token not in log_path.read_text()
    with duckdb.connect(str(path), read_only=True) as conn:
        text = str(conn.execute("SELECT * FROM main.event_delivery_ledger").fetchall())
    assert token not in text


def test_sigkill_at_random_points_loses_nothing(sandbox, make_warehouse, tmp_path):
    path, rows = make_warehouse(20_000)
    log_path = tmp_path / "forwarder.log"
    killed, runs = run_with_kills(path, sandbox, kills=6, batch_size=250, seed=3, window=(0.8, 2.2),
                                  log_path=log_path)
    assert killed >= 1
    check_exactly_once(path, sandbox, rows)
    check_no_secret(path, sandbox, log_path)


@pytest.mark.slow
def test_sigkill_100k_events(sandbox, make_warehouse, tmp_path):
    path, rows = make_warehouse(100_000)
    log_path = tmp_path / "forwarder.log"
    started = time.monotonic()
    killed, runs = run_with_kills(path, sandbox, kills=5, batch_size=1000, seed=5, window=(1.0, 4.0),
                                  log_path=log_path)
    assert killed >= 1
    check_exactly_once(path, sandbox, rows)
    check_no_secret(path, sandbox, log_path)
    assert time.monotonic() - started < 120
