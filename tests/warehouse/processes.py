"""Other processes around the warehouse: one that holds DuckDB's write lock on the file (a second
writer, or a SQL client opened read-write), and the forwarder's command line run as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

HOLDER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("select 1").fetchall()
print("locked", flush=True)
seconds = float(sys.argv[2])
if seconds < 0:
    sys.stdin.readline()  # hold until told to let go
else:
    time.sleep(seconds)
con.close()
"""


class LockHolder:
    """``with LockHolder(path, seconds=3):`` another process holds the file open for writing,
    for ``seconds`` (negative: until the block ends), then closes it."""

    def __init__(self, path: Path, seconds: float = -1) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(path), str(seconds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stderr is not None
        if self.proc.stdout.readline().strip() != "locked":
            raise RuntimeError(f"lock holder failed: {self.proc.stderr.read()}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def __enter__(self) -> LockHolder:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write("\n")
            self.proc.stdin.flush()
        self.proc.wait(30)


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child process that imports this worktree's code."""
    env = {**os.environ, "PYTHONPATH": str(REPO), **extra}
    env.pop("TIKTOK_EVENTS_API_TOKEN", None)
    env.update(extra)
    return env


def run_forwarder(
    warehouse: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python -m signal_campaigns.forwarding --warehouse <warehouse> <args>`` in a new process."""
    return subprocess.run(
        [sys.executable, "-m", "signal_campaigns.forwarding", "--warehouse", str(warehouse), *args],
        capture_output=True,
        text=True,
        env=env or child_env(),
        cwd=REPO,
        timeout=timeout,
        check=False,
    )
