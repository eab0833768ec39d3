"""One writer, readers on a copy (docs/decisions/0008-one-writer-and-bi-copy.md).

- :func:`open_for_writing`: a writer opens the file, waiting (bounded, with progress) for another
  process to let go of it, and keeps the connection: the lock it acquired is held until it closes;
- :func:`wait_for_write_access`: the same wait, for a writer that opens the file itself later;
- :func:`warehouse_error`: what is wrong with the file and what to do, for every DuckDB refusal
  (locked, not a database, truncated, missing, not writable);
- the atomically replaced ``<stem>_bi.duckdb`` for BI tools is published by :mod:`.bi_copy`.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

from signal_campaigns.errors import ActionableError

from .location import bi_copy_path, create_warehouse_file, warehouse_path

# DuckDB locks the file for the process that opens it: a BI tool holding data/warehouse.duckdb
# open (even read-only) blocks every writer. Readers should open the published copy instead
# (:func:`publish_read_only_copy`); writers wait a bounded time for a foreign lock to go
# (:func:`open_for_writing`). docs/orchestration.md explains both.

LOCK_WAIT_SECONDS = 300.0
PROGRESS_EVERY_SECONDS = 30.0  # how often a waiting writer says it is still waiting

BUILD = "`make demo`, or the Dagster job daily_refresh"


class WarehouseFileError(ActionableError):
    """The warehouse file cannot be used: ``message`` names the file and what is wrong with it,
    ``fix`` what to do. ``str()`` gives both (Dagster's failure shows it whole)."""

    def __init__(self, path: Path, message: str, fix: str) -> None:
        super().__init__(message, fix=fix, data={"warehouse": str(path)})
        self.path = path

    def __str__(self) -> str:
        return f"{self.message}. {self.fix}"


class WarehouseLockedError(WarehouseFileError, RuntimeError):
    """Another process kept the warehouse file locked for longer than the writer would wait."""


def _lock_holder(message: str) -> str:
    """'python3.11 (PID 1234)' from DuckDB's 'Conflicting lock is held in /path/python3.11 (PID 1234)'."""
    found = re.search(r"Conflicting lock is held in (.+?) \(PID (\d+)\)", message)
    return f"{Path(found.group(1)).name} (PID {found.group(2)})" if found else "another process"


def _is_lock_conflict(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


def _restore_advice(path: Path) -> str:
    copy = bi_copy_path(path)
    if copy.exists():
        return (
            f"Restore it from a backup, or copy the last published read-only copy {copy} over it (it holds "
            "every table as of the last run, the delivery ledger included); otherwise move it aside and "
            f"rebuild it ({BUILD})"
        )
    return f"Restore it from a backup, or move it aside and rebuild it ({BUILD})"


def warehouse_error(path: str | os.PathLike[str], exc: BaseException) -> WarehouseFileError:
    """What a failure to open, read or write the warehouse ``path`` means, and what to do about it.
    Unrecognised errors still name the file and keep DuckDB's own words."""
    target = Path(path)
    text = str(exc)
    if _is_lock_conflict(exc):
        return WarehouseLockedError(
            target,
            f"the warehouse {target} is locked by {_lock_holder(text)}",
            f"If that is a BI tool or a SQL client, point it at the published read-only copy "
            f"{bi_copy_path(target)} instead (or close it)",
        )
    if "not a valid DuckDB database file" in text:
        return WarehouseFileError(
            target,
            f"the warehouse {target} is not a DuckDB database file (damaged or overwritten)",
            _restore_advice(target),
        )
    if "Could not read enough bytes" in text:
        return WarehouseFileError(
            target,
            f"the warehouse {target} is truncated: it is shorter than DuckDB's own record of it (an interrupted "
            "copy, or a disk that filled up)",
            _restore_advice(target),
        )
    if isinstance(exc, PermissionError) or "Permission denied" in text or "Read-only file system" in text:
        return WarehouseFileError(
            target,
            f"cannot write the warehouse {target}: permission denied",
            f"Give the user running this write access to the file and to its directory {target.parent} "
            "(DuckDB writes a .wal file beside it), or move the warehouse somewhere writable",
        )
    return WarehouseFileError(
        target,
        f"cannot use the warehouse {target}: {text}",
        f"Check the file and its directory. If the file is damaged: {_restore_advice(target)}",
    )


def _check_file(path: Path, create: bool) -> Path:
    """The file must exist (or be created), be a file, and sit in a directory this process may write."""
    if path.is_dir():
        raise WarehouseFileError(
            path, f"the warehouse {path} is a directory", "Point it at the DuckDB file (e.g. data/warehouse.duckdb)"
        )
    if not path.exists():
        if not create:
            raise WarehouseFileError(
                path,
                f"there is no warehouse at {path}",
                f"Point to the existing warehouse file, or build one first ({BUILD})",
            )
        try:
            create_warehouse_file(path)
        except (OSError, duckdb.Error) as exc:
            raise warehouse_error(path, exc) from None
    if not os.access(path.parent, os.W_OK) or not os.access(path, os.W_OK):
        raise warehouse_error(path, PermissionError(str(path)))
    return path


def open_for_writing(
    warehouse: str | os.PathLike[str] | None = None,
    *,
    create: bool = True,
    config: Mapping[str, Any] | None = None,
    timeout: float = LOCK_WAIT_SECONDS,
    poll: float = 1.0,
    progress_every: float = PROGRESS_EVERY_SECONDS,
    log: Any = None,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (:func:`.location.warehouse_path`) for writing and return the connection:
    its lock is this process's until the connection (and every other connection of this process
    to the file with the same ``config``) is closed, so nothing can take the file between the wait
    and the write.

    While DuckDB refuses the file because another process holds it (a BI tool on the main file, a
    writer outside the ``warehouse`` pool), tries again every ``poll`` seconds: logs who holds it
    and what to do once, then how long it has waited every ``progress_every`` seconds, and raises
    :class:`WarehouseLockedError` after ``timeout`` seconds. Any other refusal raises
    :class:`WarehouseFileError` at once. A missing file is created (:func:`create_warehouse_file`)
    unless ``create`` is false (then it is an error)."""
    path = _check_file(warehouse_path(warehouse), create)
    started = time.monotonic()
    told_at: float | None = None
    wal = path.with_name(path.name + ".wal")
    while True:
        replays_wal = wal.exists()  # a writer was killed: its changes are in the .wal, not yet in the file
        try:
            con = duckdb.connect(str(path), config=dict(config or {}))
        except duckdb.Error as exc:
            error = warehouse_error(path, exc)
            if not isinstance(error, WarehouseLockedError):
                raise error from None
            waited = time.monotonic() - started
            if waited >= timeout:
                raise WarehouseLockedError(
                    path, f"{error.message}; gave up after waiting {timeout:.0f}s", error.fix or ""
                ) from None
            if log is not None and told_at is None:
                log.warning(f"{error}; waiting up to {timeout:.0f}s for it to be released")
                told_at = waited
            elif log is not None and told_at is not None and waited - told_at >= progress_every:
                log.info(
                    f"still waiting for {_lock_holder(str(exc))} to release {path} ({waited:.0f}s of {timeout:.0f}s)"
                )
                told_at = waited
            time.sleep(poll)
            continue
        if told_at is not None and log is not None:
            log.info(f"warehouse {path} is free again; going on")
        try:
            if not replays_wal:
                _check_not_truncated(con, path)
        except WarehouseFileError:
            con.close()
            raise
        return con


# A DuckDB file is its headers and then its blocks; every used block lies inside the file
FILE_HEADERS_BYTES = 3 * 4096


def _check_not_truncated(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """DuckDB opens a truncated file when the blocks it reads first survived, and fails only at the
    first read of a lost block, possibly after writing: a file shorter than its own block count
    says is refused before anything is written. Not checked when the open replayed a write-ahead
    log (a writer killed before its checkpoint): the replayed blocks are counted but not yet in the
    file, which is how a SIGKILLed forwarder leaves a sound warehouse."""
    found = con.execute(
        "select block_size, used_blocks from pragma_database_size() where database_name = current_database()"
    ).fetchone()
    # used blocks, not total: DuckDB cuts free blocks off the file's end but still counts them
    if found is not None and path.stat().st_size < FILE_HEADERS_BYTES + found[0] * found[1]:
        raise warehouse_error(path, duckdb.IOException(f"Could not read enough bytes from file {path}"))


def wait_for_write_access(
    warehouse: str | os.PathLike[str] | None = None,
    *,
    timeout: float = LOCK_WAIT_SECONDS,
    poll: float = 1.0,
    log: Any = None,
) -> Path:
    """Wait until this process can open the warehouse for writing (:func:`open_for_writing`), let
    go of it again and return its path. For a writer that cannot be handed the connection (dlt's
    loads, the BI copy); another process may take the file in between, so writers that can hold
    the connection (the forwarder, dbt through its plugin) use :func:`open_for_writing`."""
    open_for_writing(warehouse, timeout=timeout, poll=poll, log=log).close()
    return warehouse_path(warehouse)
