"""How dlt resources become assets: keyed as the dbt source table they land in."""

from __future__ import annotations

from dagster import AssetKey, AssetSpec
from dagster_dlt import DagsterDltTranslator
from dagster_dlt.translator import DltResourceTranslatorData


class RawTableTranslator(DagsterDltTranslator):
    """A dlt resource's asset key = the dbt source table it lands in: ``[dataset, table]``
    (``["appsprint", "events"]``), so dbt's staging models hang under the dlt assets in one
    lineage graph."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> AssetSpec:
        spec = super().get_asset_spec(data)
        return spec.replace_attributes(key=AssetKey([data.resource.source_name, data.resource.name]), deps=[])
