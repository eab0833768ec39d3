"""Read-only access to the warehouse marts for doctor, report and status: the CLI never opens the
DuckDB file for writing, the pipelines are its one writer (docs/decisions/0008-one-writer-and-bi-copy.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from signal_campaigns.errors import ActionableError
from signal_campaigns.warehouse import warehouse_path

MARTS_SCHEMA = "main"
STAGING_SCHEMA = "staging"


class Warehouse:
    """A read-only DuckDB connection; use as a context manager."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = warehouse_path(path)
        self._con: duckdb.DuckDBPyConnection | None = None

    def __enter__(self) -> Warehouse:
        if not self.path.exists():
            raise ActionableError(
                f"the warehouse {self.path} does not exist yet",
                fix="load and build it first (`make demo`, or the pipelines then `dbt build`), or pass "
                "--warehouse / set SIGNAL_WAREHOUSE_PATH",
            )
        try:
            self._con = duckdb.connect(str(self.path), read_only=True)
        except duckdb.IOException as exc:
            raise ActionableError(
                f"cannot open the warehouse {self.path} read-only: {exc}",
                fix="another process is writing it (one writer at a time): try again when that run finishes",
            ) from None
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._con is not None:
            self._con.close()

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        assert self._con is not None
        cur = self._con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        assert self._con is not None
        row = self._con.execute(sql, params or []).fetchone()
        return row[0] if row else None

    def has(self, schema: str, table: str) -> bool:
        return bool(
            self.scalar(
                "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                [schema, table],
            )
        )

    def require(self, schema: str, table: str) -> None:
        if not self.has(schema, table):
            raise ActionableError(
                f"the warehouse {self.path} has no {schema}.{table}",
                fix="build the models first (`dbt build`, or `make demo`)",
            )
