"""AppSprint attribution data (Signal links, clicks, installs, in-app events) with dlt into the
``appsprint`` raw dataset, incremental on ``updated_at``. Connection and export token: dlt config
``sources.appsprint.*``.

The load writes five tables: one per resource, and ``quarantine``, where every resource puts the
rows it cannot type; :func:`appsprint_load` makes that table an asset of the same load
(:func:`dagster_project.defs.raw_tables.with_quarantine_table`)."""

from typing import Any

from dagster import AssetExecutionContext
from dagster_dlt import DagsterDltResource, dlt_assets
from dlt.extract import DltSource

from dagster_project.defs.raw_tables import RawTableTranslator, with_quarantine_table
from dagster_project.warehouse import WAREHOUSE_POOL, WarehouseResource
from dlt_sources.appsprint import appsprint, raise_for_paging_stops
from dlt_sources.appsprint.settings import QUARANTINE_COLUMNS


def appsprint_load(**source_args: Any) -> DltSource:
    """The AppSprint source with its quarantine table in the resource list (``source_args``:
    :func:`dlt_sources.appsprint.appsprint`'s; dlt config otherwise)."""
    return with_quarantine_table(appsprint(**source_args), dict(QUARANTINE_COLUMNS))


@dlt_assets(
    dlt_source=appsprint_load(base_url="http://unset", app_id="unset", export_token="set-at-run-time"),
    dlt_pipeline=WarehouseResource().dlt_pipeline("appsprint"),
    name="appsprint",
    dagster_dlt_translator=RawTableTranslator(),
    pool=WAREHOUSE_POOL,
)
def appsprint_assets(context: AssetExecutionContext, dlt: DagsterDltResource, warehouse: WarehouseResource):
    pipeline = warehouse.dlt_pipeline("appsprint")
    with warehouse.landing(context.log):  # DuckDB: dlt's own open shares this process's hold on the file
        yield from dlt.run(context=context, dlt_source=appsprint_load(), dlt_pipeline=pipeline, **warehouse.load_args())
    # paging that would never end stopped a walk: its rows are loaded and materialised, the step fails
    raise_for_paging_stops(pipeline)
