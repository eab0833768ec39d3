"""The code location: dlt extraction assets and dbt model assets in one lineage graph.

dlt tables get the asset keys of the dbt sources that read them (``["tiktok_ads",
"ad_daily_report"]``...), so the graph runs API → raw table → staging → marts. dbt tests appear as
asset checks. Every asset that writes the warehouse runs in the ``warehouse`` concurrency pool
(DESIGN.md D8: DuckDB allows one writer). Configuration and secrets come from dlt's config
providers (env vars / .dlt/secrets.toml) at run time, never from this file.

Schedules and the forwarding sensor are not wired yet (issue 5).
"""

import os
import sys
from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, AssetSpec, Definitions
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from dlt_sources.appsprint import appsprint
from dlt_sources.tiktok_ads import tiktok_ads
from signal_campaigns.pipeline import warehouse_pipelines
from signal_campaigns.warehouse import DBT_PROJECT_DIR, WAREHOUSE_ENV, run_dbt, warehouse_path

WAREHOUSE_POOL = "warehouse"
# dbt runs in dbt/ as its working directory: give it the warehouse as an absolute path.
os.environ[WAREHOUSE_ENV] = str(warehouse_path())


class RawTableTranslator(DagsterDltTranslator):
    """A dlt resource's asset key = the dbt source table it lands in: [dataset, table]."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> AssetSpec:
        spec = super().get_asset_spec(data)
        return spec.replace_attributes(key=AssetKey([data.resource.source_name, data.resource.name]), deps=[])


TIKTOK_PIPELINE, APPSPRINT_PIPELINE = warehouse_pipelines()


# The sources are built here only to enumerate their resources; the runs build them again from
# dlt config/secrets (placeholders never reach an API).
@dlt_assets(
    dlt_source=tiktok_ads(advertiser_ids=["set-at-run-time"], access_token="set-at-run-time", base_url="http://unset"),
    dlt_pipeline=TIKTOK_PIPELINE,
    name="tiktok_ads",
    group_name="tiktok_ads",
    dagster_dlt_translator=RawTableTranslator(),
    pool=WAREHOUSE_POOL,
)
def tiktok_ads_assets(context: AssetExecutionContext, dlt: DagsterDltResource):
    yield from dlt.run(context=context, dlt_source=tiktok_ads(), loader_file_format="parquet")


@dlt_assets(
    dlt_source=appsprint(base_url="http://unset", app_id="unset", export_token="set-at-run-time"),
    dlt_pipeline=APPSPRINT_PIPELINE,
    name="appsprint",
    group_name="appsprint",
    dagster_dlt_translator=RawTableTranslator(),
    pool=WAREHOUSE_POOL,
)
def appsprint_assets(context: AssetExecutionContext, dlt: DagsterDltResource):
    yield from dlt.run(context=context, dlt_source=appsprint())


DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
if not DBT_PROJECT.manifest_path.exists():  # a fresh checkout: parse once to get the manifest
    run_dbt(["parse", "--target-path", str(DBT_PROJECT.manifest_path.parent)])


@dbt_assets(manifest=DBT_PROJECT.manifest_path, project=DBT_PROJECT, pool=WAREHOUSE_POOL)
def dbt_models(context: AssetExecutionContext, dbt: DbtCliResource):
    yield from dbt.cli(["build"], context=context).stream()


defs = Definitions(
    assets=[tiktok_ads_assets, appsprint_assets, dbt_models],
    resources={
        "dlt": DagsterDltResource(),
        "dbt": DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=str(Path(sys.executable).parent / "dbt")),
    },
)
