"""The Spark build, read into the DuckDB file that serves it (docs/targets.md, the ``spark`` target).

On the Spark target the dbt models are built on Spark; the DuckDB warehouse file
(:func:`.location.warehouse_path`) stays the *activation and serving store*: it keeps the forwarder's
delivery ledger (row-level transactions, one writer: docs/decisions/0006-forwarding-rules.md) and a
copy of the public marts that the BI copy, the dashboard and the CLI read unchanged.

- :func:`export_tables`: Spark tables or views (``<database>.<name>``) to one Parquet file each in
  a folder, with typed columns (``DataFrame.toArrow()``; timestamps in UTC, the session's time zone)
  and the table and column comments Spark's catalog holds.
- :func:`load_exported`: those files into DuckDB tables, all in ONE transaction (a reader sees the
  previous copy or the new one, never a mix), with their comments.
- :func:`public_marts`: the marts of the Spark build (every table and view of
  :func:`.spark.spark_schema`).

Spark's Hive metastore is a Derby database that ONE process at a time may open, and a JVM keeps it
open until the process ends (``SparkSession.stop()`` does not release it; measured). So by default
the export runs in a child process (``python -m signal_campaigns.warehouse.spark_marts``) that ends
when the files are written: the metastore is free again when :func:`export_tables` returns, also
between the steps of a Dagster run. ``in_process=True`` is for a process that already opened it (the
demo, whose dbt-spark build runs in the same process). A metastore another process holds is refused
at once, naming the process: nothing waits on Derby's lock.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import duckdb

from signal_campaigns.errors import ActionableError

from .location import REPO_ROOT
from .spark import INSTALL_FIX, spark_dir, spark_schema, spark_session

MANIFEST: Final = "export.json"
EXIT_REFUSED: Final = 3
BUILD_FIX: Final = (
    "Build the models on Spark first (SIGNAL_DBT_TARGET=spark: `make demo-spark`, Dagster's daily_refresh, "
    "or `dbt build --target spark`), with the same SIGNAL_SPARK_DIR."
)
# dbt-spark's intermediate relations, never part of a build's result
DBT_TEMPORARY_SUFFIX: Final = "__dbt_tmp"


@dataclasses.dataclass(frozen=True)
class ExportedTable:
    """One Spark relation written to ``file``; ``name`` is the DuckDB table it becomes."""

    spark_name: str
    name: str
    file: Path
    rows: int
    comment: str | None
    column_comments: dict[str, str]


def metastore_path() -> Path:
    return spark_dir() / "metastore_db"


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])  # the field after the state: the parent's pid


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()[:200]
    except OSError:
        return "?"


def _is_own(pid: int) -> bool:
    """``pid`` is this process or one it started (PySpark's JVM is a child process)."""
    current: int | None = pid
    for _ in range(64):
        if current == os.getpid():
            return True
        if current is None or current <= 1:
            return False
        current = _parent(current)
    return False


def metastore_holder() -> str | None:
    """The process that holds the Derby metastore open, or ``None``: ``pid <n>`` of the JVM and the
    process that started it (PySpark's JVM is a child of the Python process that opened Spark).

    Derby locks ``dbex.lck`` with a POSIX lock while the database is booted (measured with Java
    17); Linux lists those locks with the holder's pid in ``/proc/locks`` (elsewhere this returns
    ``None`` and Spark's own error is translated instead, see :func:`spark_error`)."""
    try:
        inodes = {str((metastore_path() / name).stat().st_ino) for name in ("dbex.lck", "db.lck")}
        locks = Path("/proc/locks").read_text()
    except OSError:
        return None
    for line in locks.splitlines():
        fields = line.split()
        # "12: POSIX  ADVISORY  WRITE 22811 fe:00:2203684 0 EOF"
        if len(fields) >= 6 and fields[1] == "POSIX" and fields[5].rsplit(":", 1)[-1] in inodes:
            pid = int(fields[4])
            if _is_own(pid):
                return None  # this process's own JVM (a session it opened, e.g. dbt-spark's in the demo)
            parent = _parent(pid)
            started_by = f", started by pid {parent}: {_command(parent)}" if parent and parent > 1 else ""
            return f"pid {pid}: {_command(pid)[:60]}...{started_by}"
    return None


def locked_error(holder: str) -> ActionableError:
    return ActionableError(
        f"The Spark metastore {metastore_path()} is open in another process ({holder}); Derby, the "
        "local metastore, lets one process at a time open it.",
        fix="Wait until that process ends (a dbt build on Spark, a forwarding or BI-copy step) and run "
        "again; Dagster runs these steps one at a time in the `warehouse` pool. A second pipeline "
        "needs its own SIGNAL_SPARK_DIR.",
    )


def spark_error(exc: Exception, relation: str) -> ActionableError | None:
    """Spark's error as what to do, or ``None`` for an error that is not one of these."""
    text = str(exc)
    if "Another instance of Derby" in text or "SessionHiveMetaStoreClient" in text:
        return locked_error(metastore_holder() or "another process")
    if "TABLE_OR_VIEW_NOT_FOUND" in text or "SCHEMA_NOT_FOUND" in text:
        return ActionableError(f"{relation} is not in the Spark build (metastore {metastore_path()}).", fix=BUILD_FIX)
    return None


def public_marts(spark: Any, schema: str | None = None) -> list[str]:
    """Every table and view of the marts' database (``<schema>.<name>``), sorted."""
    schema = schema or spark_schema()
    names = [t.name for t in spark.catalog.listTables(schema) if not t.isTemporary]
    return sorted(f"{schema}.{n}" for n in names if not n.endswith(DBT_TEMPORARY_SUFFIX))


def _export_here(relations: Sequence[str], folder: Path, all_marts: bool) -> list[ExportedTable]:
    """The export, in this process."""
    import pyarrow.parquet as pq  # noqa: PLC0415 - pyarrow comes with duckdb's Arrow support

    holder = metastore_holder()
    if holder:
        raise locked_error(holder)
    spark = spark_session()
    spark.sparkContext.setLogLevel("ERROR")
    out: list[ExportedTable] = []
    current = f"{spark_schema()}.*"
    try:
        names = [*relations, *(public_marts(spark) if all_marts else [])]
        for i, relation in enumerate(dict.fromkeys(names)):
            current = relation
            name = relation.split(".", 1)[1]
            arrow = spark.table(relation).toArrow()
            path = folder / f"{i:03d}_{name}.parquet"
            pq.write_table(arrow, path)
            table = spark.catalog.getTable(relation)
            columns = {c.name: c.description for c in spark.catalog.listColumns(relation) if c.description}
            out.append(ExportedTable(relation, name, path, arrow.num_rows, table.description or None, columns))
    except Exception as exc:
        error = spark_error(exc, current)
        if error is None:
            raise
        raise error from exc
    return out


def wait_for_metastore(timeout: float, log: Any = None) -> None:
    """Wait (at most ``timeout`` seconds) until no other process holds the metastore; refused
    with the holder named after that."""
    deadline = time.monotonic() + timeout
    holder = metastore_holder()
    if holder and log is not None:
        log.info(f"the Spark metastore is held by {holder}: waiting up to {timeout:.0f} s")
    while holder:
        if time.monotonic() >= deadline:
            raise locked_error(holder)
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        holder = metastore_holder()


def export_tables(
    relations: Sequence[str],
    folder: str | os.PathLike[str],
    *,
    all_marts: bool = False,
    in_process: bool = False,
    lock_wait: float = 0.0,
    log: Any = None,
) -> list[ExportedTable]:
    """Write each Spark relation (``<database>.<name>``; with ``all_marts`` also every mart of
    :func:`public_marts`) to a Parquet file in ``folder``. A metastore another process holds is
    waited for up to ``lock_wait`` seconds. Refused with what to do (:class:`ActionableError`) when
    PySpark or Java is missing, the metastore stays held or a relation is not built."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    wait_for_metastore(lock_wait, log)
    if in_process:
        return _export_here(relations, folder, all_marts)
    cmd = [sys.executable, "-m", "signal_campaigns.warehouse.spark_marts", "--out", str(folder), *relations]
    if all_marts:
        cmd.append("--all-marts")
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    manifest = folder / MANIFEST
    result = json.loads(manifest.read_text()) if manifest.exists() else {}
    if proc.returncode == 0 and "tables" in result:
        return [ExportedTable(**{**t, "file": Path(t["file"])}) for t in result["tables"]]
    if "error" in result:
        raise ActionableError(result["error"]["message"], fix=result["error"]["fix"])
    tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
    raise ActionableError(
        f"Reading the Spark build (metastore {metastore_path()}) failed (exit {proc.returncode}): {tail}",
        fix=INSTALL_FIX if "java" in tail.lower() else "See the Spark error above; docs/targets.md.",
    )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def load_exported(con: duckdb.DuckDBPyConnection, tables: Sequence[ExportedTable], schema: str = "main") -> None:
    """Create or replace ``schema.<name>`` from each exported file, with its comments, in one
    transaction on ``con`` (the warehouse's writer)."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote(schema)}")
        for t in tables:
            fqn = f"{_quote(schema)}.{_quote(t.name)}"
            kind = con.execute(
                "SELECT table_type FROM information_schema.tables WHERE table_catalog = current_database() "
                "AND table_schema = ? AND table_name = ?",
                [schema, t.name],
            ).fetchall()
            if kind == [("VIEW",)]:  # the DuckDB build's view of the same name (the target changed)
                con.execute(f"DROP VIEW {fqn}")
            con.execute(f"CREATE OR REPLACE TABLE {fqn} AS SELECT * FROM read_parquet({_literal(str(t.file))})")
            if t.comment:
                con.execute(f"COMMENT ON TABLE {fqn} IS {_literal(t.comment)}")
            for column, text in t.column_comments.items():
                con.execute(f"COMMENT ON COLUMN {fqn}.{_quote(column)} IS {_literal(text)}")
        con.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise


def main(argv: list[str] | None = None) -> int:
    """The child process of :func:`export_tables`: writes the files and ``export.json`` (the
    tables, or the error as message and fix), exit 0 or 3."""
    p = argparse.ArgumentParser(prog="python -m signal_campaigns.warehouse.spark_marts", description=__doc__)
    p.add_argument("--out", required=True)
    p.add_argument("--all-marts", action="store_true")
    p.add_argument("relations", nargs="*")
    args = p.parse_args(argv)
    folder = Path(args.out)
    try:
        tables = _export_here(args.relations, folder, args.all_marts)
    except ActionableError as exc:
        (folder / MANIFEST).write_text(json.dumps({"error": {"message": exc.message, "fix": exc.fix}}))
        sys.stderr.write(f"{exc.message}\nwhat to do: {exc.fix}\n")
        return EXIT_REFUSED
    rows = [{**dataclasses.asdict(t), "file": str(t.file)} for t in tables]
    (folder / MANIFEST).write_text(json.dumps({"tables": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
