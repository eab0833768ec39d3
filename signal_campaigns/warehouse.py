"""The warehouse location and a programmatic entry to the dbt project (``dbt/``).

- :func:`warehouse_path`: the DuckDB file, env ``SIGNAL_WAREHOUSE_PATH`` (default
  ``data/warehouse.duckdb``), relative paths resolved against the repository root.
- :func:`duckdb_destination`: dlt's DuckDB destination for that file, with the raw layer's load
  settings.
- :func:`run_dbt`: run a dbt command in-process with dbt's ``dbtRunner`` against the ``duckdb``
  (default) or ``postgres`` target, with ``--vars``; returns the :class:`DbtRun` (raises
  :class:`DbtError` on failure unless ``check=False``).
- One writer, readers on a copy (DESIGN.md D8): :func:`wait_for_write_access` (a writer waits,
  bounded, for another process to let go of the file), :func:`publish_read_only_copy` (the
  atomically replaced ``<stem>_bi.duckdb`` for BI tools), :func:`bi_copy_path`.

Example::

    from signal_campaigns.warehouse import run_dbt
    run_dbt(["build"], vars={"forwarding_now": "2026-06-15T12:00:00Z"})
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt"
DEFAULT_WAREHOUSE = Path("data") / "warehouse.duckdb"
WAREHOUSE_ENV = "SIGNAL_WAREHOUSE_PATH"


def warehouse_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The DuckDB warehouse file: ``path``, else env ``SIGNAL_WAREHOUSE_PATH``, else
    ``data/warehouse.duckdb``; relative paths are resolved against the repository root."""
    raw = Path(path) if path is not None else Path(os.environ.get(WAREHOUSE_ENV) or DEFAULT_WAREHOUSE)
    return raw if raw.is_absolute() else (REPO_ROOT / raw).resolve()


class DbtError(RuntimeError):
    """A dbt invocation failed (compile error, failed model or failed error-severity test)."""


@dataclasses.dataclass
class DbtRun:
    args: list[str]
    success: bool
    result: Any  # dbt's RunExecutionResult (or other command result)
    exception: BaseException | None

    def statuses(self) -> dict[str, str]:
        """unique_id -> status for every node the command ran ("success", "pass", "warn", ...)."""
        out: dict[str, str] = {}
        for r in getattr(self.result, "results", None) or []:
            out[r.node.unique_id] = str(r.status)
        return out

    def failures(self) -> dict[str, str]:
        """Nodes that errored or failed, with dbt's message."""
        out: dict[str, str] = {}
        for r in getattr(self.result, "results", None) or []:
            if str(r.status) in ("error", "fail", "runtime error"):
                out[r.node.unique_id] = str(r.message)
        return out

    def warnings(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for r in getattr(self.result, "results", None) or []:
            if str(r.status) == "warn":
                out[r.node.unique_id] = str(r.message)
        return out


# DuckDB settings of dlt's loads: raw tables have no row order (staging orders versions by
# updated_at and load id), so DuckDB may write a load file's rows in parallel: DuckDB's insert of
# the 1M-event AppSprint load file took 1.65 s instead of 2.25 s (measured on the 2-core machine).
DLT_DUCKDB_SETTINGS = {"preserve_insertion_order": False}
# dlt's load files for the local DuckDB file are written, read once by DuckDB on the same machine
# and deleted: compressing them only costs time (snappy: ~0.35 s per million events).
DLT_LOAD_FILE_COMPRESSION = "none"


def duckdb_destination(path: str | os.PathLike[str] | None = None) -> Any:
    """dlt's DuckDB destination for the warehouse file (:func:`warehouse_path`), loading with
    :data:`DLT_DUCKDB_SETTINGS` from uncompressed Parquet files. Every dlt pipeline into the
    warehouse uses it."""
    import dlt
    from dlt.common.destination.configuration import ParquetFormatConfiguration
    from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

    target = warehouse_path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    return dlt.destinations.duckdb(
        DuckDbCredentials(str(target), global_config=dict(DLT_DUCKDB_SETTINGS)),
        parquet_format=ParquetFormatConfiguration(compression=DLT_LOAD_FILE_COMPRESSION),
    )


@contextlib.contextmanager
def temporary_env(updates: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of a ``with`` block, then restore them."""
    saved = {k: os.environ.get(k) for k in updates}
    os.environ.update(updates)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after an invocation, so
    the file can be opened by others (read-only readers, the next writer; DESIGN.md D8)."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover - dbt-duckdb is a dependency
        return
    env = DuckDBConnectionManager._ENV
    if env is not None:
        with contextlib.suppress(Exception):
            env.close()
    DuckDBConnectionManager.close_all_connections()


# What the scheduled syncs leave out: a view reads its inputs when queried, so new data never makes
# it stale; only a change of its SQL does, and the full builds (daily_refresh, deploys) recreate
# every view. Skipping them saves dbt's fixed cost per node (about a quarter of a sync's dbt time).
# A sync on a warehouse never built in full stops at once with what to run (on-run-start hook
# require_unselected_parents).
SYNC_EXCLUDE = "config.materialized:view"

# Automated builds (Dagster's, `make demo`'s, the benchmark's) write no JSON artifacts: dbt would
# serialise the ~1,500-node manifest.json twice and run_results.json once per invocation, about
# 0.3 s of a 2 s sync with nothing new (measured on the 10M-event warehouse). Dagster reads results
# from dbt's event stream, the Python callers from the dbtRunner result. `dbt parse` (the manifest
# Dagster's definitions load) and builds run by hand still write them.
NO_JSON_ARTIFACTS = "--no-write-json"


def run_dbt(
    args: Sequence[str],
    *,
    target: str = "duckdb",
    vars: Mapping[str, Any] | None = None,
    warehouse: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    threads: int | None = None,
    check: bool = True,
    quiet: bool = True,
) -> DbtRun:
    """Run ``dbt <args>`` on the project in ``dbt/`` in this process.

    ``target``: ``duckdb`` (the file from :func:`warehouse_path`) or ``postgres`` (connection from
    the ``SIGNAL_PG_*`` env vars, see dbt/profiles.yml). ``env`` adds environment variables for
    the duration of the call (e.g. the PostgreSQL connection).
    """
    from dbt.cli.main import dbtRunner

    full = list(args) + [
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target",
        target,
    ]
    if vars:
        full += ["--vars", json.dumps(dict(vars), default=str)]
    if threads:
        full += ["--threads", str(threads)]
    if quiet:
        full = ["--quiet", "--no-use-colors"] + full
    updates = {WAREHOUSE_ENV: str(warehouse_path(warehouse))}
    if env:
        updates.update(env)
    with temporary_env(updates):
        try:
            res = dbtRunner().invoke(full)
        finally:
            if target == "duckdb":
                release_duckdb()
    run = DbtRun(args=full, success=bool(res.success), result=res.result, exception=res.exception)
    if check and not run.success:
        detail = run.failures()
        msg = "; ".join(f"{k}: {v}" for k, v in detail.items()) or repr(res.exception)
        raise DbtError(f"dbt {' '.join(args)} failed: {msg}")
    return run


# --- one writer, and a published copy for readers (DESIGN.md D8) ---------------------------------
# DuckDB locks the file for the process that opens it: a BI tool holding data/warehouse.duckdb
# open (even read-only) blocks every writer. Readers should open the published copy instead
# (:func:`publish_read_only_copy`); writers wait a bounded time for a foreign lock to go
# (:func:`wait_for_write_access`). docs/orchestration.md explains both.

BI_COPY_SUFFIX = "_bi"
LOCK_WAIT_SECONDS = 300.0


class WarehouseLockedError(RuntimeError):
    """Another process kept the warehouse file locked for longer than the writer would wait."""


def bi_copy_path(warehouse: str | os.PathLike[str] | None = None) -> Path:
    """Where the read-only copy for BI tools is published: ``<warehouse stem>_bi.duckdb`` beside
    the warehouse (``data/warehouse_bi.duckdb`` by default)."""
    path = warehouse_path(warehouse)
    return path.with_name(f"{path.stem}{BI_COPY_SUFFIX}{path.suffix}")


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
    ``timeout`` seconds. A file that does not exist yet is writable (DuckDB creates it)."""
    import duckdb

    path = warehouse_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
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


def publish_read_only_copy(
    warehouse: str | os.PathLike[str] | None = None, target: str | os.PathLike[str] | None = None
) -> Path:
    """Copy the warehouse to ``target`` (default :func:`bi_copy_path`) atomically and return it.

    Call it as the warehouse's writer (inside the ``warehouse`` pool), after the write
    connections are closed, so the file is checkpointed and nobody changes it during the copy.
    The copy is written to a temporary file in the same directory and renamed over ``target``:
    a reader never sees a half-written file, and readers that still have the previous copy open
    keep reading it (POSIX keeps the old file until they close it)."""
    source = warehouse_path(warehouse)
    dest = Path(target) if target is not None else bi_copy_path(source)
    if not source.exists():
        raise FileNotFoundError(f"no warehouse at {source} to publish")
    import duckdb

    with contextlib.closing(duckdb.connect(str(source))) as con:
        con.execute("checkpoint")  # fold a write-ahead log left behind into the file being copied
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        with open(source, "rb") as src, open(tmp, "wb") as out:
            shutil.copyfileobj(src, out, length=16 * 1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest
