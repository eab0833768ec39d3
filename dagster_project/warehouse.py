"""The warehouse as Dagster sees it: the ``warehouse`` pool every writer shares and the
:class:`WarehouseResource` (the file, dlt pipelines into it, the lock wait, the BI copy).

On the Spark target (``SIGNAL_DBT_TARGET=spark``, docs/targets.md) the same resource lands the raw
layer in the lake (dlt's filesystem destination), and the DuckDB file is the activation and serving
store: the forwarder's ledger, the queue read from the Spark build, and the marts copied from it for
the BI copy and the dashboard. The pool also keeps Spark's metastore to one process: every step
that opens it (dbt-spark, the forwarding step's and the BI-copy step's Spark reader, each a process
that ends with its step) is in it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
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
from signal_campaigns.warehouse.spark import lake_destination, selected_target

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
    target: str | None = None  # duckdb | postgres | spark; default env SIGNAL_DBT_TARGET

    def file(self) -> Path:
        return warehouse_path(self.path)

    def target_name(self) -> str:
        return self.target or selected_target()

    def on_spark(self) -> bool:
        return self.target_name() == "spark"

    def dlt_pipeline(self, dataset: str) -> dlt.Pipeline:
        """The dlt pipeline (``tiktok_ads`` or ``appsprint``) into this warehouse, or into the lake
        on the Spark target (its own pipeline name: dlt keeps one state per destination)."""
        pipelines_dir = Path(self.pipelines_dir) if self.pipelines_dir else self.file().parent / "pipelines"
        if self.on_spark():
            return warehouse_pipeline(dataset, lake_destination(), pipelines_dir, suffix="_lake")
        return warehouse_pipeline(dataset, duckdb_destination(self.file()), pipelines_dir)

    def load_args(self) -> dict[str, Any]:
        """Arguments of a dlt load: Parquet files in the lake (Spark reads them natively)."""
        return {"loader_file_format": "parquet"} if self.on_spark() else {}

    def landing(self, log):
        """The block a dlt load runs in: :meth:`held` on DuckDB; nothing to hold on the lake (the
        pool keeps the other writers and Spark's readers out)."""
        return nullcontext(self.file()) if self.on_spark() else self.held(log)

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
