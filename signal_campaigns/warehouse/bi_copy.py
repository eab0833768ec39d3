"""The read-only copy of the warehouse for BI tools and SQL clients (``<stem>_bi.duckdb``,
docs/decisions/0008-one-writer-and-bi-copy.md), written in an older DuckDB storage version.

DuckDB 1.x clients, the DuckDB CLI and the drivers BI tools bundle, refuse a file in DuckDB 2.0's
own storage format ("database file with version number 69, but we can only read versions between
64 and 68"). So the copy is always in storage version :data:`.location.STORAGE_VERSION`:

- a warehouse created by this project is already in it (:func:`.location.create_warehouse_file`):
  the copy is the file's bytes, checkpointed, copied, synced and renamed over the copy;
- any other (e.g. created by an older version of the project): ``ATTACH`` a temporary file with
  that ``STORAGE_VERSION``, ``COPY FROM DATABASE`` (tables, views, macros and comments),
  checkpoint, detach, and rename it over the copy (18 times slower on the 10M-event warehouse:
  38 s instead of 2.1 s).

- :func:`publish_read_only_copy`: from the warehouse file (Dagster's ``warehouse_bi_copy``, the demo);
- :func:`write_bi_copy`: from a connection that has the warehouse attached (the dbt-duckdb plugin
  :mod:`.dbt_plugin`, which republishes after a ``dbt build`` run by hand).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import duckdb

from .location import STORAGE_VERSION, STORAGE_VERSION_NUMBER, bi_copy_path, storage_version_number, warehouse_path

# The name the copy being written is attached under while it is written.
_ATTACH_ALIAS = "signal_bi_copy_publish"


def _sql_string(value: str | os.PathLike[str]) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _temporary_path(dest: Path) -> Path:
    """Beside ``dest`` (same file system: the rename is atomic), hidden, one per process."""
    return dest.with_name(f".{dest.name}.{os.getpid()}.tmp")


def write_bi_copy(con: duckdb.DuckDBPyConnection, catalog: str, dest: str | os.PathLike[str]) -> Path:
    """Write the database attached to ``con`` as ``catalog`` to ``dest`` in storage version
    :data:`.location.STORAGE_VERSION`, atomically, and return ``dest``.

    The copy is written to a temporary file in ``dest``'s directory and renamed over ``dest``
    once it is checkpointed and detached: a reader never sees a half-written file, and readers
    that still hold the previous copy open keep reading it (POSIX keeps the old file until they
    close it). ``COPY FROM DATABASE`` reads one committed state of ``catalog``: call it after the
    run's writes are committed."""
    dest = Path(dest)
    tmp = _temporary_path(dest)
    wal = tmp.with_name(tmp.name + ".wal")
    for leftover in (tmp, wal):
        leftover.unlink(missing_ok=True)
    attached = False
    try:
        con.execute(f"attach {_sql_string(tmp)} as {_ATTACH_ALIAS} (storage_version {_sql_string(STORAGE_VERSION)})")
        attached = True
        con.execute(f'copy from database "{catalog}" to {_ATTACH_ALIAS}')
        con.execute(f"checkpoint {_ATTACH_ALIAS}")  # everything in the file, nothing left in a WAL
        con.execute(f"detach {_ATTACH_ALIAS}")
        attached = False
        if wal.exists():
            raise RuntimeError(f"the BI copy {tmp} left a write-ahead log behind after its checkpoint")
        with open(tmp, "rb") as written:
            os.fsync(written.fileno())
        os.replace(tmp, dest)
    finally:
        if attached:
            with contextlib.suppress(duckdb.Error):
                con.execute(f"detach {_ATTACH_ALIAS}")
        for leftover in (tmp, wal):
            leftover.unlink(missing_ok=True)
    return dest


def publish_read_only_copy(
    warehouse: str | os.PathLike[str] | None = None, target: str | os.PathLike[str] | None = None
) -> Path:
    """Publish the warehouse (:func:`warehouse_path`) as ``target`` (default :func:`bi_copy_path`)
    in :data:`.location.STORAGE_VERSION`, atomically, and return ``target``.

    Call it as the warehouse's writer (inside the ``warehouse`` pool), after the write
    connections are closed: it opens the file itself (to fold a write-ahead log left behind into
    it), so it must not run beside another writer (DuckDB refuses a second process on a file
    opened for writing)."""
    source = warehouse_path(warehouse)
    dest = Path(target) if target is not None else bi_copy_path(source)
    if not source.exists():
        raise FileNotFoundError(f"no warehouse at {source} to publish")
    if storage_version_number(source) == STORAGE_VERSION_NUMBER:
        return _copy_bytes(source, dest)
    with contextlib.closing(duckdb.connect()) as con:
        con.execute("set enable_progress_bar = false")  # a long copy would draw one into the run's log
        # a WAL left behind by a writer is replayed by the attach: the copy has every committed write
        con.execute(f"attach {_sql_string(source)} as warehouse_source (read_only)")
        write_bi_copy(con, "warehouse_source", dest)
    return dest


def _copy_bytes(source: Path, dest: Path) -> Path:
    """The file in the BI storage version already: checkpoint it (fold its WAL), then copy its bytes
    to a temporary file beside ``dest``, sync and rename it over ``dest``."""
    with contextlib.closing(duckdb.connect(str(source))) as con:
        con.execute("checkpoint")
    tmp = _temporary_path(dest)
    try:
        with open(source, "rb") as src, open(tmp, "wb") as out:
            shutil.copyfileobj(src, out, length=16 * 1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest
