"""A programmatic entry to the dbt project (``dbt/``).

:func:`run_dbt`: run a dbt command in-process with dbt's ``dbtRunner`` against the ``duckdb``
(default), ``postgres`` or ``spark`` target, with ``--vars``; returns the :class:`DbtRun` (raises
:class:`DbtError` on failure unless ``check=False``).

Example::

    from signal_campaigns.warehouse import run_dbt
    run_dbt(["build"], vars={"forwarding_now": "2026-06-15T12:00:00Z"})
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .location import DBT_PROJECT_DIR, REPO_ROOT, create_warehouse_file, warehouse_path
from .spark import spark_dbt_vars


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


def release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after an invocation, so the
    file can be opened by others (read-only readers, the next writer: docs/orchestration.md).

    dbt-duckdb keeps one database per process for its connections (also after ``dbtRunner``
    returns); its connection manager's public ``close_all_connections`` drops it, which closes
    the file."""
    # dbt-duckdb is imported by the dbt invocation that came before: no cost here, and none for
    # importers of this module that never run dbt (the CLI)
    from dbt.adapters.duckdb import DuckDBConnectionManager  # noqa: PLC0415

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

# The dbt var dbt/profiles.yml reads the DuckDB file from (before env SIGNAL_WAREHOUSE_PATH).
WAREHOUSE_VAR = "warehouse_path"

# The dbt var of the on-run-end hook publish_bi_copy (dbt/macros/publish_bi_copy.sql): true (its
# default) republishes the BI copy after a dbt command that wrote the DuckDB warehouse, so that a
# `dbt build` run by hand does. Callers that publish once at the end of their own run (Dagster's
# warehouse_bi_copy, the demo) or never (benchmarks, tests) pass false: run_dbt does by default.
BI_COPY_VAR = "publish_bi_copy"

# The user's event mapping (`signal-campaigns mapping set`) is kept out of the tracked seed
# dbt/seeds/event_mapping.csv: a git-ignored CSV of `sdk_event,tiktok_event` rows ("" disables),
# passed to dbt as the var int_event_mapping applies over the seed (the override wins).
MAPPING_OVERRIDES_VAR = "event_mapping_overrides"
MAPPING_OVERRIDE_ENV = "SIGNAL_EVENT_MAPPING_OVERRIDE"
DEFAULT_MAPPING_OVERRIDE = Path("data") / "event_mapping.local.csv"


def mapping_override_path() -> Path:
    """The local mapping override: env ``SIGNAL_EVENT_MAPPING_OVERRIDE``, else
    ``data/event_mapping.local.csv``; relative paths are resolved against the repository root (as
    the warehouse's are), so the CLI, ``make demo`` and Dagster read the same file from any directory."""
    raw = Path(os.environ.get(MAPPING_OVERRIDE_ENV) or DEFAULT_MAPPING_OVERRIDE).expanduser()
    return raw if raw.is_absolute() else (REPO_ROOT / raw).resolve()


def mapping_overrides(path: Path | None = None) -> dict[str, str]:
    """``sdk_event -> tiktok_event`` of the local override file (empty when there is none)."""
    try:
        text = (path or mapping_override_path()).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    rows = csv.DictReader(io.StringIO(text))
    return {
        (r.get("sdk_event") or "").strip().lower(): (r.get("tiktok_event") or "").strip()
        for r in rows
        if (r.get("sdk_event") or "").strip()
    }


def run_dbt(
    args: Sequence[str],
    *,
    target: str = "duckdb",
    vars: Mapping[str, Any] | None = None,
    warehouse: str | os.PathLike[str] | None = None,
    threads: int | None = None,
    check: bool = True,
    quiet: bool = True,
    publish_bi_copy: bool = False,
) -> DbtRun:
    """Run ``dbt <args>`` on the project in ``dbt/`` in this process.

        ``target``: ``duckdb`` (the file from :func:`warehouse_path`, passed to dbt/profiles.yml as the
        var ``warehouse_path``) or ``postgres`` (the connection from the vars ``pg_host``, ``pg_port``,
        ``pg_user``, ``pg_dbname``, ``pg_schema`` given in ``vars``, else the ``SIGNAL_PG_*`` env vars;
        the password from ``SIGNAL_PG_PASSWORD`` only) or ``spark`` (:func:`.spark.spark_dbt_vars`: the lake,
        the marts' database and the session's settings). Configuration reaches dbt as arguments: the
        process environment is left as it is; the user's mapping override (:func:`mapping_overrides`)
    goes in as the var ``event_mapping_overrides`` unless ``vars`` set it. ``publish_bi_copy``: let dbt's on-run-end hook republish
        the BI copy after a writing command (off: the callers publish at the end of their run).
    """
    # dbt's runner takes 1.7 s to import: only callers that run dbt pay it (not the CLI's reads)
    from dbt.cli.main import dbtRunner  # noqa: PLC0415

    full = [
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target",
        target,
    ]
    all_vars = dict(vars or {})
    if MAPPING_OVERRIDES_VAR not in all_vars and (overrides := mapping_overrides()):
        all_vars[MAPPING_OVERRIDES_VAR] = overrides
    if target == "duckdb":
        all_vars.setdefault(WAREHOUSE_VAR, str(warehouse_path(warehouse)))
        all_vars.setdefault(BI_COPY_VAR, publish_bi_copy)
        create_warehouse_file(all_vars[WAREHOUSE_VAR])  # in the storage version BI clients read
    if target == "spark":
        all_vars = {**spark_dbt_vars(), **all_vars}
    if all_vars:
        full += ["--vars", json.dumps(all_vars, default=str)]
    if threads:
        full += ["--threads", str(threads)]
    if quiet:
        full = ["--quiet", "--no-use-colors", *full]
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
