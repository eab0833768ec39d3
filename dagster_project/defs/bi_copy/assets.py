"""``warehouse_bi_copy``: the read-only copy of the warehouse for BI tools and SQL clients
(``<stem>_bi.duckdb``, docs/decisions/0008-one-writer-and-bi-copy.md), published once at the end of every run that wrote the
warehouse.

It depends on every asset that writes the warehouse, so a job that selects it runs it last, after
all of the run's writes: one copy of the file per run instead of one per writing step (a copy is
the size of the warehouse). When a step fails, the copy is not republished and BI tools keep the
last consistent state; the forwarder, which records deliveries as it goes, publishes itself when
it stops on an error (``assets/forwarding.py``)."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset

from dagster_project.defs.appsprint.assets import appsprint_assets
from dagster_project.defs.dbt.assets import dbt_models
from dagster_project.defs.forwarding.assets import LEDGER_KEY
from dagster_project.defs.tiktok_ads.assets import tiktok_ads_assets
from dagster_project.warehouse import WAREHOUSE_POOL, WarehouseResource

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
    warehouse.claim(context.log)
    target = warehouse.publish(context.log)
    if target is None:
        context.log.info("no copy published (publish_bi_copy is off, or there is no warehouse yet)")
        return MaterializeResult(metadata={"published": False})
    return MaterializeResult(
        metadata={"published": True, "path": str(target), "size_mb": round(target.stat().st_size / 2**20, 1)}
    )
