"""The dbt-duckdb plugin that republishes the BI copy at the end of a dbt command that wrote the
warehouse, so that a ``dbt build`` run by hand republishes it as the Dagster runs and ``make demo``
do (:mod:`.bi_copy`).

dbt/profiles.yml declares it for the ``duckdb`` target (``plugins: [{module: ..., alias: bi_copy}]``);
the on-run-end hook ``publish_bi_copy()`` (dbt/macros/publish_bi_copy.sql) calls it through
dbt-duckdb's ``adapter.store_relation('bi_copy', ...)``. It writes the copy with the connection dbt
itself holds on the warehouse (a second connection from this process could not open the file),
through a cursor of its own, after every node of the run has committed.

It also makes dbt wait for the file like every writer of the project: just before dbt-duckdb opens
the database, the plugin opens it with the same settings (:func:`.access.open_for_writing`, waiting
while another process holds it, with dbt log lines saying who and for how long) and keeps that
connection until dbt's own is open. DuckDB gives a second connection of one process with the same
settings the same open database, so dbt opens the file this process already holds: nothing can take
it in between, and a second run queues behind the first instead of failing. The wait is bounded by
the plugin setting ``lock_wait_seconds`` (default :data:`.access.LOCK_WAIT_SECONDS`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin
from dbt.adapters.events.logging import AdapterLogger

from .access import LOCK_WAIT_SECONDS, open_for_writing
from .bi_copy import write_bi_copy
from .location import bi_copy_path, create_warehouse_file

logger = AdapterLogger("DuckDB")


class Plugin(BasePlugin):
    """``store``: write the BI copy of the database the relation lives in (its catalog) beside the
    database file, as ``<stem>_bi.duckdb``."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self._conn: Any = None
        self._held: Any = None
        self._lock_wait = float(plugin_config.get("lock_wait_seconds", LOCK_WAIT_SECONDS))
        # dbt-duckdb loads its plugins before it opens the database: a warehouse dbt is the first to
        # write is created here, in the storage version BI clients read (its settings would be
        # applied after the file exists, too late)
        path = getattr(self.creds, "path", None)
        local = bool(path) and path != ":memory:" and not str(path).startswith(("md:", "motherduck:"))
        self._file = Path(str(path)).resolve() if local else None  # relative to dbt's working directory
        if self._file is not None:
            create_warehouse_file(self._file)

    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        # called just before dbt-duckdb opens the database with ``config``: wait for the file and
        # hold it, so that dbt's open gets this process's database instead of a lock conflict
        if self._file is not None and self._held is None:
            self._held = open_for_writing(self._file, config=config, timeout=self._lock_wait, log=logger)

    def configure_connection(self, conn: Any) -> None:
        # dbt-duckdb opens one database per process and reopens it after closing it: keep the latest
        self._conn = conn
        if self._held is not None:  # dbt's connection holds the file now
            self._held.close()
            self._held = None

    def store(self, target_config: Any) -> None:
        if self._conn is None:
            raise RuntimeError("the bi_copy plugin has no DuckDB connection to publish from")
        catalog = target_config.relation.database
        cursor = self._conn.cursor()
        try:
            found = cursor.execute("select path from duckdb_databases() where database_name = ?", [catalog]).fetchone()
            if found is None or not found[0]:
                raise RuntimeError(f"the database {catalog!r} has no file to publish a BI copy of")
            database_file = Path(found[0]).resolve()  # relative to the working directory dbt opened it from
            write_bi_copy(cursor, catalog, bi_copy_path(database_file))
        finally:
            cursor.close()
