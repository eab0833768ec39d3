"""``warehouse_bi_copy``: the read-only copy of the warehouse for BI tools and SQL clients
(``<stem>_bi.duckdb``, docs/decisions/0008-one-writer-and-bi-copy.md), published once at the end of every run that wrote the
warehouse.

It depends on every asset that writes the warehouse, so a job that selects it runs it last, after
all of the run's writes: one copy of the file per run instead of one per writing step (a copy is
the size of the warehouse). When a step fails, the copy is not republished and BI tools keep the
last consistent state; the forwarder, which records deliveries as it goes, publishes itself when
it stops on an error (``assets/forwarding.py``).

On the Spark target it first copies the Spark build's marts into the DuckDB file
(:func:`signal_campaigns.warehouse.spark_serving.refresh_marts_from_spark`), so the copy and the
dashboard show the Spark build."""

from typing import Any

from dagster import AssetExecutionContext, AssetKey, Failure, MaterializeResult, asset

from dagster_project.defs.appsprint.assets import appsprint_assets
from dagster_project.defs.dbt.assets import dbt_models
from dagster_project.defs.forwarding.assets import LEDGER_KEY
from dagster_project.defs.tiktok_ads.assets import tiktok_ads_assets
from dagster_project.warehouse import WAREHOUSE_POOL, WarehouseResource
from signal_campaigns.errors import ActionableError
from signal_campaigns.warehouse.spark_serving import refresh_marts_from_spark

BI_COPY_KEY = AssetKey(["warehouse_bi_copy"])
WAREHOUSE_WRITERS = sorted({*tiktok_ads_assets.keys, *appsprint_assets.keys, *dbt_models.keys, LEDGER_KEY})


@asset(
    key=BI_COPY_KEY,
    deps=WAREHOUSE_WRITERS,
    group_name="warehouse",
    pool=WAREHOUSE_POOL,  # copies a file no other writer is changing
    kinds={"duckdb"},
    description="Read-only copy of the warehouse for BI tools and SQL clients, published at the end of "
    "every run that wrote the warehouse (open this one: a tool holding the main file blocks the "
    "pipeline).",
)
def warehouse_bi_copy(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    marts = None
    if warehouse.on_spark():  # the Spark build's marts into the DuckDB file, which the copy publishes
        try:
            marts = len(refresh_marts_from_spark(warehouse.file(), lock_wait=warehouse.lock_wait_seconds))
        except ActionableError as exc:
            raise Failure(description=f"{exc.message} {exc.fix or ''}".strip()) from None
        context.log.info(f"copied {marts} marts from the Spark build into {warehouse.file()}")
    warehouse.claim(context.log)
    target = warehouse.publish(context.log)
    if target is None:
        context.log.info("no copy published (publish_bi_copy is off, or there is no warehouse yet)")
        return MaterializeResult(metadata={"published": False})
    metadata: dict[str, Any] = {
        "published": True,
        "path": str(target),
        "size_mb": round(target.stat().st_size / 2**20, 1),
    }
    if marts is not None:
        metadata["marts_from_spark"] = marts
    return MaterializeResult(metadata=metadata)
