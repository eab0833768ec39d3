"""How dlt resources become assets: keyed as the dbt source table they land in, grouped by source."""

from __future__ import annotations

from typing import Any

import dlt
from dagster import AssetKey, AssetSpec
from dagster_dlt import DagsterDltTranslator
from dagster_dlt.translator import DltResourceTranslatorData
from dlt.extract import DltSource

QUARANTINE_TABLE = "quarantine"  # both sources' table of rows they could not type


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


def with_quarantine_table(source: DltSource, columns: dict[str, Any]) -> DltSource:
    """``source`` with its ``quarantine`` table in the resource list.

    dagster-dlt makes one asset per dlt *resource* and reports a materialisation for each resource
    it ran. The quarantine table is a table variant of every resource (rows they cannot type), not
    a resource of its own, so it would be an asset nothing builds. This adds it as a resource that
    yields no rows itself (the other resources fill the table, append only), so the same load
    materialises ``<source>/quarantine`` with the rows it quarantined and the table's columns from
    dlt's schema (dlt creates the table with its first quarantined row)."""
    source.resources.add(dlt.resource([], name=QUARANTINE_TABLE, write_disposition="append", columns=columns))
    return source
