"""How dlt resources become assets: keyed as the dbt source table they land in, grouped by source."""

from __future__ import annotations

from dagster import AssetKey, AssetSpec
from dagster_dlt import DagsterDltTranslator
from dagster_dlt.translator import DltResourceTranslatorData


def raw_group(source_name: str) -> str:
    """The Dagster group of a dlt source's raw tables: ``raw_<source>`` (``raw_appsprint``)."""
    return f"raw_{source_name}"


class RawTableTranslator(DagsterDltTranslator):
    """A dlt resource's asset key = the dbt source table it lands in: ``[dataset, table]``
    (``["appsprint", "events"]``), so dbt's staging models hang under the dlt assets in one
    lineage graph; its group is the raw layer of its source (``raw_appsprint``). The columns and
    their types come with each materialisation, from dlt's schema after the load (dagster-dlt's
    ``dagster/column_schema``)."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> AssetSpec:
        spec = super().get_asset_spec(data)
        source = data.resource.source_name
        return spec.replace_attributes(
            key=AssetKey([source, data.resource.name]), deps=[], group_name=raw_group(source)
        )
