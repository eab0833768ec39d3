"""Read-only access to the warehouse marts for doctor, report, status and link: the CLI never opens
the DuckDB file for writing, the pipelines are its one writer (docs/decisions/0008-one-writer-and-bi-copy.md).

While a run holds the warehouse (DuckDB lets no other process open a file being written), reads
fall back to the read-only copy published for BI tools (``data/warehouse_bi.duckdb``), with a note
saying how fresh it is. :func:`open_marts_for_reading` is that rule for any reader (the dashboard):
a connection and the note (``None`` when it reads the warehouse itself).

The selected advertisers scope the reads (:func:`advertiser_scope`), as the API checks are scoped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from signal_campaigns.errors import ActionableError
from signal_campaigns.warehouse import bi_copy_path, warehouse_path

MARTS_SCHEMA = "main"
STAGING_SCHEMA = "staging"


def freshness_note(copy: Path, now: dt.datetime | None = None) -> str:
    """``"... the BI copy published 2026-06-01 10:15 UTC (12 minutes ago)"`` for a fallback read."""
    published = dt.datetime.fromtimestamp(copy.stat().st_mtime, dt.UTC)
    minutes = max(0, int(((now or dt.datetime.now(dt.UTC)) - published).total_seconds() // 60))
    age = "less than a minute ago" if minutes == 0 else f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    return (
        f"a run is writing the warehouse: showing the BI copy {copy}, published "
        f"{published:%Y-%m-%d %H:%M} UTC ({age}); run again after the run for the latest data"
    )


def open_marts_for_reading(path: str | Path | None = None) -> tuple[duckdb.DuckDBPyConnection, str | None]:
    """A read-only connection to the warehouse (``path``, else ``SIGNAL_WAREHOUSE_PATH``, else
    ``data/warehouse.duckdb``) and ``None``; while a run holds the warehouse, one to its BI copy and
    a note on how fresh that copy is. :class:`ActionableError` when neither can be read."""
    wh = warehouse_path(path)
    if not wh.exists():
        raise ActionableError(
            f"the warehouse {wh} does not exist yet",
            fix="load and build it first (`make demo`, or the pipelines then `dbt build`), or pass "
            "--warehouse / set SIGNAL_WAREHOUSE_PATH",
        )
    try:
        return duckdb.connect(str(wh), read_only=True), None
    except duckdb.IOException as exc:
        copy = bi_copy_path(wh)
        if not copy.exists():
            raise ActionableError(
                f"cannot open the warehouse {wh} read-only (a run is writing it) and it has no BI copy: {exc}",
                fix="try again when that run finishes (one writer at a time)",
            ) from None
        return duckdb.connect(str(copy), read_only=True), freshness_note(copy)


def advertiser_scope(column: str, advertisers: Sequence[str]) -> tuple[str, list[Any]]:
    """``("<column> in (?, ?)", ids)`` for the selected advertisers; ``("true", [])`` for all (``[]``)."""
    if not advertisers:
        return "true", []
    return f"{column} in ({', '.join('?' for _ in advertisers)})", list(advertisers)


class Warehouse:
    """A read-only connection to the marts (:func:`open_marts_for_reading`); use as a context
    manager. ``note``: how fresh the data is when it comes from the BI copy, else ``None``."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = warehouse_path(path)
        self.note: str | None = None
        self._con: duckdb.DuckDBPyConnection | None = None

    def __enter__(self) -> Warehouse:
        self._con, self.note = open_marts_for_reading(self.path)
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
