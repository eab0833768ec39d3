"""The warehouse as Dagster sees it: the ``warehouse`` pool every writer shares and the
:class:`WarehouseResource` (the file, dlt pipelines into it, the lock wait, the BI copy)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dlt
import duckdb
from dagster import ConfigurableResource

from signal_campaigns.pipeline import warehouse_pipeline
from signal_campaigns.warehouse import (
    BI_COPY_VAR,
    LOCK_WAIT_SECONDS,
    MAPPING_OVERRIDES_VAR,
    WAREHOUSE_VAR,
    duckdb_destination,
    mapping_overrides,
    open_for_writing,
    publish_read_only_copy,
    wait_for_write_access,
    warehouse_path,
)

WAREHOUSE_POOL = "warehouse"  # every asset that writes the warehouse (DuckDB has one writer: docs/decisions/0008-one-writer-and-bi-copy.md)


class WarehouseResource(ConfigurableResource):
    """The DuckDB warehouse: the file (default env ``SIGNAL_WAREHOUSE_PATH``, else
    ``data/warehouse.duckdb``), the dlt pipelines' working directory (default ``pipelines/``
    beside the file), how long a writer waits for a foreign lock, and the read-only copy
    published for BI tools at the end of every writing run (``<stem>_bi.duckdb``, asset
    ``warehouse_bi_copy``)."""

    path: str | None = None
    pipelines_dir: str | None = None
    lock_wait_seconds: float = LOCK_WAIT_SECONDS
    publish_bi_copy: bool = True

    def file(self) -> Path:
        return warehouse_path(self.path)

    def dlt_pipeline(self, dataset: str) -> dlt.Pipeline:
        """The dlt pipeline (``tiktok_ads`` or ``appsprint``) into this warehouse."""
        pipelines_dir = Path(self.pipelines_dir) if self.pipelines_dir else self.file().parent / "pipelines"
        return warehouse_pipeline(dataset, duckdb_destination(self.file()), pipelines_dir)

    def dbt_vars(self) -> dict[str, str]:
        """The dbt vars that point a dbt invocation at this warehouse (dbt/profiles.yml reads them);
        dbt's own republishing of the BI copy is off: ``warehouse_bi_copy`` publishes once per run;
        the user's event mapping (``signal-campaigns mapping set``) goes in as the CLI's builds pass it."""
        dbt_vars: dict[str, Any] = {WAREHOUSE_VAR: str(self.file()), BI_COPY_VAR: "false"}
        if overrides := mapping_overrides():
            dbt_vars[MAPPING_OVERRIDES_VAR] = overrides
        return dbt_vars

    def claim(self, log) -> Path:
        """Wait (bounded) until no other process holds the file, then return it (for writers that
        open the file themselves: dlt, the BI copy; dbt's own process waits again as it opens it)."""
        return wait_for_write_access(self.file(), timeout=self.lock_wait_seconds, log=log)

    def hold(self, log) -> duckdb.DuckDBPyConnection:
        """Wait (bounded) like :meth:`claim`, and keep the file: the connection holds its lock until
        it is closed, so no other process can take it between the wait and the writes."""
        return open_for_writing(self.file(), timeout=self.lock_wait_seconds, log=log)

    @contextmanager
    def held(self, log) -> Iterator[Path]:
        """Hold the file (:meth:`hold`) for the block: a writer in this process that opens the file
        itself (dlt) shares the hold (DuckDB gives a process one database per file), and no other
        process can take the file between the wait and the writes."""
        con = self.hold(log)
        try:
            yield self.file()
        finally:
            con.close()

    def publish(self, log) -> Path | None:
        """Publish the read-only BI copy (call after the writes, inside the pool)."""
        if not self.publish_bi_copy or not self.file().exists():
            return None
        target = publish_read_only_copy(self.file())
        log.info(f"published the read-only copy for BI tools: {target}")
        return target
