"""The forwarder's command line against a warehouse file that is locked, damaged, truncated,
missing or not writable: it waits for a lock like the Dagster steps do, and answers everything else
with what file, what is wrong and what to do, exit code 3 and no traceback, leaving the ledger and
the published copy as they were (docs/forwarding.md, docs/decisions/0008-one-writer-and-bi-copy.md)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from sandbox.synthetic_queue import synthetic_queue, write_queue_file
from signal_campaigns.warehouse import bi_copy_path
from tests.conftest import FIXED_ANCHOR

from .processes import LockHolder, child_env, run_forwarder

EVENTS = 60


def ledger(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return dict(con.execute("select status, count(*) from event_delivery_ledger group by all").fetchall())


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_clear_stop(result, *phrases: str) -> None:
    """Exit 3, the message's phrases on stderr, no traceback."""
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "forwarding stopped:" in result.stderr and "what to do:" in result.stderr, result.stderr
    for phrase in phrases:
        assert phrase in result.stderr, (phrase, result.stderr)


def queue_file(path: Path, tiny_world) -> Path:
    pixels = sorted(tiny_world.notes["pixel_codes"].values())
    write_queue_file(path, synthetic_queue(EVENTS, pixels, FIXED_ANCHOR))
    return path


@pytest.fixture
def send(sandbox):
    """``send(path, *args)``: the command line sending the file's queue to the sandbox's Events API."""
    env = child_env(TIKTOK_EVENTS_API_TOKEN=sandbox.credentials.events_api_token)

    def run(path: Path, *args: str):
        return run_forwarder(path, "--base-url", sandbox.tiktok_url, "--base-delay", "0.01", *args, env=env)

    return run


@pytest.fixture
def forwarded(tmp_path, tiny_world, send) -> Path:
    """A warehouse whose events the command line sent once (its BI copy published)."""
    path = queue_file(tmp_path / "warehouse.duckdb", tiny_world)
    result = send(path)
    assert result.returncode == 0, result.stderr
    assert ledger(path) == {"sent": EVENTS} == ledger(bi_copy_path(path))
    return path


def test_it_waits_for_a_writer_in_another_process_then_sends(tmp_path, tiny_world, send):
    path = queue_file(tmp_path / "warehouse.duckdb", tiny_world)
    started = time.monotonic()
    with LockHolder(path, seconds=3) as holder:
        result = send(path, "--lock-wait", "60")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started >= 2.5  # it waited for the holder
    assert "is locked by python" in result.stderr and f"(PID {holder.pid})" in result.stderr
    assert "waiting up to 60s" in result.stderr and "free again" in result.stderr
    assert ledger(path) == {"sent": EVENTS}


def test_a_lock_that_is_never_released_stops_with_who_holds_it(forwarded, send):
    copy = bi_copy_path(forwarded)
    before = digest(copy)
    with LockHolder(forwarded) as holder:
        result = send(forwarded, "--lock-wait", "2")
    assert_clear_stop(result, f"{forwarded} is locked by", f"(PID {holder.pid})", "gave up after waiting 2s", str(copy))
    assert ledger(forwarded) == {"sent": EVENTS}  # nothing lost, nothing re-sent
    assert digest(copy) == before


@pytest.mark.parametrize(
    ("damage", "phrase"),
    [
        ("garbage", "is not a DuckDB database file"),
        ("truncated", "is truncated"),
    ],
)
def test_a_damaged_warehouse_stops_with_how_to_restore_it(forwarded, send, damage, phrase):
    copy = bi_copy_path(forwarded)
    before = digest(copy)
    if damage == "garbage":
        forwarded.write_bytes(os.urandom(50_000))
    else:
        with open(forwarded, "r+b") as f:
            f.truncate(forwarded.stat().st_size // 2)
    damaged = digest(forwarded)
    result = send(forwarded)
    assert_clear_stop(result, str(forwarded), phrase, f"copy the last published read-only copy {copy}")
    assert digest(forwarded) == damaged and digest(copy) == before  # the good copy was not overwritten
    # the advice works: the copy holds the ledger, so nothing is sent twice
    shutil.copyfile(copy, forwarded)
    again = send(forwarded)
    assert again.returncode == 0, again.stderr
    assert ledger(forwarded) == {"sent": EVENTS} and '"sent": 0' in again.stdout


def test_a_missing_warehouse_is_named_and_not_created(tmp_path, send):
    path = tmp_path / "nowhere" / "warehouse.duckdb"
    result = send(path)
    assert_clear_stop(result, f"there is no warehouse at {path}", "make demo")
    assert not path.exists() and not path.parent.exists()


@pytest.fixture
def read_only_dir(tmp_path, tiny_world) -> Iterator[Path]:
    """A warehouse in a directory its user may not write. Root ignores permissions: as root the
    directory is also made immutable (``chattr +i``), which stops root too."""
    folder = tmp_path / "data"
    folder.mkdir()
    path = queue_file(folder / "warehouse.duckdb", tiny_world)
    os.chmod(folder, 0o555)
    immutable = os.geteuid() == 0
    if immutable and subprocess.run(["chattr", "+i", str(folder)], check=False).returncode != 0:
        os.chmod(folder, 0o755)
        pytest.skip("running as root without chattr: a directory cannot be made read-only for this user")
    try:
        yield path
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        os.chmod(folder, 0o755)


def test_a_warehouse_in_a_read_only_directory_says_what_to_change(read_only_dir):
    before = digest(read_only_dir)
    result = run_forwarder(read_only_dir, "--dry-run")
    assert_clear_stop(
        result, f"cannot write the warehouse {read_only_dir}: permission denied", str(read_only_dir.parent)
    )
    assert digest(read_only_dir) == before
    assert sorted(p.name for p in read_only_dir.parent.iterdir()) == ["warehouse.duckdb"]  # no WAL, no copy
