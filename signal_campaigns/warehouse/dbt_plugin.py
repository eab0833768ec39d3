"""The dbt-duckdb plugin that republishes the BI copy at the end of a dbt command that wrote the
warehouse, so that a ``dbt build`` run by hand republishes it as the Dagster runs and ``make demo``
do (:mod:`.bi_copy`).

dbt/profiles.yml declares it for the ``duckdb`` target (``plugins: [{module: ..., alias: bi_copy}]``);
the on-run-end hook ``publish_bi_copy()`` (dbt/macros/publish_bi_copy.sql) calls it through
dbt-duckdb's ``adapter.store_relation('bi_copy', ...)``. It writes the copy with the connection dbt
itself holds on the warehouse (a second connection from this process could not open the file),
through a cursor of its own, after every node of the run has committed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from .bi_copy import write_bi_copy
from .location import bi_copy_path, create_warehouse_file


class Plugin(BasePlugin):
    """``store``: write the BI copy of the database the relation lives in (its catalog) beside the
    database file, as ``<stem>_bi.duckdb``."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self._conn: Any = None
        # dbt-duckdb loads its plugins before it opens the database: a warehouse dbt is the first to
        # write is created here, in the storage version BI clients read (its settings would be
        # applied after the file exists, too late)
        path = getattr(self.creds, "path", None)
        if path and path != ":memory:" and not str(path).startswith(("md:", "motherduck:")):
            create_warehouse_file(Path(path).resolve())  # relative to dbt's working directory

    def configure_connection(self, conn: Any) -> None:
        # dbt-duckdb opens one database per process and reopens it after closing it: keep the latest
        self._conn = conn

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
