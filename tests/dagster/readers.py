"""A separate process holding a DuckDB file open read-only, as a BI tool or SQL client does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
query = sys.argv[2]
print(con.execute(query).fetchone()[0], flush=True)
sys.stdin.readline()  # hold the file open until told to go on
print(con.execute(query).fetchone()[0], flush=True)
"""


class HeldOpenReader:
    """``with HeldOpenReader(path, "select count(*) from t") as reader:`` the file stays open in
    another process; ``reader.first`` is the query's answer at open time, ``reader.again()``
    asks again on the same connection."""

    def __init__(self, path: Path, query: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", READER, str(path), query],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None and self.proc.stderr is not None
        self.stdin, self.stdout = self.proc.stdin, self.proc.stdout
        line = self.stdout.readline()
        if not line:
            raise RuntimeError(f"reader failed: {self.proc.stderr.read()}")
        self.first = int(line)

    def again(self) -> int:
        self.stdin.write("\n")
        self.stdin.flush()
        return int(self.stdout.readline())

    def __enter__(self) -> HeldOpenReader:
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
