"""AppSprint attribution data (Signal links, clicks, installs, in-app events) with dlt into the
``appsprint`` raw dataset, incremental on ``updated_at``. Connection and export token: dlt config
``sources.appsprint.*``.

The load writes five tables: one per resource, and ``quarantine``, where every resource puts the
rows it cannot type (a table variant of each resource). dagster-dlt makes one asset per dlt
*resource* and reports a materialisation for each resource it ran, so the quarantine table, which
no resource is named after, was an asset nothing built. :func:`appsprint_load` adds it to the
source's resource list as a resource of its own (it yields no rows itself: the other resources
fill the table), so the same load materialises ``appsprint/quarantine`` with the rows it
quarantined and the table's columns from dlt's schema."""

from typing import Any

import dlt
from dagster import AssetExecutionContext
from dagster_dlt import DagsterDltResource, dlt_assets
from dlt.extract import DltResource, DltSource

from dagster_project.defs.raw_tables import RawTableTranslator
from dagster_project.warehouse import WAREHOUSE_POOL, WarehouseResource
from dlt_sources.appsprint import appsprint, raise_for_paging_stops
from dlt_sources.appsprint.settings import QUARANTINE_COLUMNS, QUARANTINE_TABLE


def quarantine_resource() -> DltResource:
    """The ``quarantine`` table as a resource, with the hints the table variants give it."""
    return dlt.resource([], name=QUARANTINE_TABLE, write_disposition="append", columns=QUARANTINE_COLUMNS)


def appsprint_load(**source_args: Any) -> DltSource:
    """The AppSprint source with its quarantine table in the resource list (``source_args``:
    :func:`dlt_sources.appsprint.appsprint`'s; dlt config otherwise)."""
    source = appsprint(**source_args)
    source.resources.add(quarantine_resource())
    return source


@dlt_assets(
    dlt_source=appsprint_load(base_url="http://unset", app_id="unset", export_token="set-at-run-time"),
    dlt_pipeline=WarehouseResource().dlt_pipeline("appsprint"),
    name="appsprint",
    dagster_dlt_translator=RawTableTranslator(),
    pool=WAREHOUSE_POOL,
)
def appsprint_assets(context: AssetExecutionContext, dlt: DagsterDltResource, warehouse: WarehouseResource):
    warehouse.claim(context.log)
    pipeline = warehouse.dlt_pipeline("appsprint")
    yield from dlt.run(context=context, dlt_source=appsprint_load(), dlt_pipeline=pipeline)
    # paging that would never end stopped a walk: its rows are loaded and materialised, the step fails
    raise_for_paging_stops(pipeline)
