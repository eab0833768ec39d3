"""AppSprint attribution data (Signal links, clicks, installs, in-app events) with dlt into the
``appsprint`` raw dataset, incremental on ``updated_at``. Connection and export token: dlt config
``sources.appsprint.*``."""

from dagster import AssetExecutionContext
from dagster_dlt import DagsterDltResource, dlt_assets

from dagster_project.defs.raw_tables import RawTableTranslator
from dagster_project.warehouse import WAREHOUSE_POOL, WarehouseResource
from dlt_sources.appsprint import appsprint


@dlt_assets(
    dlt_source=appsprint(base_url="http://unset", app_id="unset", export_token="set-at-run-time"),
    dlt_pipeline=WarehouseResource().dlt_pipeline("appsprint"),
    name="appsprint",
    group_name="appsprint",
    dagster_dlt_translator=RawTableTranslator(),
    pool=WAREHOUSE_POOL,
)
def appsprint_assets(context: AssetExecutionContext, dlt: DagsterDltResource, warehouse: WarehouseResource):
    warehouse.claim(context.log)
    yield from dlt.run(context=context, dlt_source=appsprint(), dlt_pipeline=warehouse.dlt_pipeline("appsprint"))
