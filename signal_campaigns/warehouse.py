"""The warehouse location and a programmatic entry to the dbt project (``dbt/``).

- :func:`warehouse_path`: the DuckDB file, env ``SIGNAL_WAREHOUSE_PATH`` (default
  ``data/warehouse.duckdb``), relative paths resolved against the repository root.
- :func:`run_dbt`: run a dbt command in-process with dbt's ``dbtRunner`` against the ``duckdb``
  (default) or ``postgres`` target, with ``--vars``; returns the :class:`DbtRun` (raises
  :class:`DbtError` on failure unless ``check=False``).

Example::

    from signal_campaigns.warehouse import run_dbt
    run_dbt(["build"], vars={"forwarding_now": "2026-06-15T12:00:00Z"})
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

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
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target", target,
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
