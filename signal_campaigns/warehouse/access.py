"""One writer, readers on a copy (docs/decisions/0008-one-writer-and-bi-copy.md).

- :func:`wait_for_write_access`: a writer waits, bounded, for another process to let go of the file;
- the atomically replaced ``<stem>_bi.duckdb`` for BI tools is published by :mod:`.bi_copy`.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import duckdb

from .location import bi_copy_path, create_warehouse_file

# DuckDB locks the file for the process that opens it: a BI tool holding data/warehouse.duckdb
# open (even read-only) blocks every writer. Readers should open the published copy instead
# (:func:`publish_read_only_copy`); writers wait a bounded time for a foreign lock to go
# (:func:`wait_for_write_access`). docs/orchestration.md explains both.

LOCK_WAIT_SECONDS = 300.0


class WarehouseLockedError(RuntimeError):
    """Another process kept the warehouse file locked for longer than the writer would wait."""


def _lock_holder(message: str) -> str:
    """'python3.11 (PID 1234)' from DuckDB's 'Conflicting lock is held in /path/python3.11 (PID 1234)'."""
    found = re.search(r"Conflicting lock is held in (.+?) \(PID (\d+)\)", message)
    return f"{Path(found.group(1)).name} (PID {found.group(2)})" if found else "another process"


def wait_for_write_access(
    warehouse: str | os.PathLike[str] | None = None,
    *,
    timeout: float = LOCK_WAIT_SECONDS,
    poll: float = 1.0,
    log: Any = None,
) -> Path:
    """Wait until this process can open the warehouse for writing, then return its path.

    Opens and closes the file until DuckDB stops refusing it with a lock conflict (another
    process holds it open: a BI tool on the main file, a writer outside the ``warehouse``
    pool). Logs who holds it once, with what to do; raises :class:`WarehouseLockedError` after
    ``timeout`` seconds. A file that does not exist yet is created (:func:`create_warehouse_file`)."""
    path = create_warehouse_file(warehouse)
    deadline = time.monotonic() + timeout
    told = False
    while True:
        try:
            duckdb.connect(str(path)).close()
            if told and log is not None:
                log.info(f"warehouse {path} is free again; going on")
            return path
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            holder = _lock_holder(str(exc))
            advice = (
                f"the warehouse {path} is locked by {holder}. If that is a BI tool or a SQL client, "
                f"point it at the published read-only copy {bi_copy_path(path)} instead (or close it)"
            )
            if time.monotonic() >= deadline:
                raise WarehouseLockedError(f"{advice}; gave up after waiting {timeout:.0f}s.") from None
            if not told and log is not None:
                log.warning(f"{advice}; waiting up to {timeout:.0f}s for it to be released")
                told = True
            time.sleep(poll)
