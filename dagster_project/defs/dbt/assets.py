"""The dbt project (``dbt/``): seeds and models as assets in groups by layer, every dbt test as an
asset check (``translator.py``), and each built model's columns with their types in its
materialisation's metadata.

Dagster passes the selected models to ``dbt build``, so the forwarding job rebuilds only the
models between the AppSprint sources and the forwarding queue (the large staging table
``stg_appsprint__events`` is incremental on dlt loads)."""

import json
import shutil
from typing import Any

from dagster import AssetExecutionContext, AssetSelection, Config
from dagster_dbt import DbtCliResource, build_dbt_asset_selection, dbt_assets

from dagster_project.defs.dbt.columns import with_column_types
from dagster_project.defs.dbt.resources import DBT_PROJECT
from dagster_project.defs.dbt.translator import LayeredDbtTranslator
from dagster_project.warehouse import WAREHOUSE_POOL, WarehouseResource
from signal_campaigns.warehouse import NO_JSON_ARTIFACTS, SYNC_EXCLUDE

# The models between the AppSprint sources and the forwarding queue and its skips: what new AppSprint
# data changes. Seeds and TikTok staging (upstream too) change only with the scheduled syncs.
FORWARDING_MODELS = "source:appsprint+,+events_to_forward source:appsprint+,+forwarding_skips"


class DbtBuildConfig(Config):
    """Run config of a dbt build (all optional)."""

    forwarding_now: str | None = None  # "now" for forwarding eligibility, ISO-8601 (a sandbox clock)
    full_refresh: bool = False  # rebuild incremental models from scratch


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    dagster_dbt_translator=LayeredDbtTranslator(),
    pool=WAREHOUSE_POOL,
)
def dbt_models(
    context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource, config: DbtBuildConfig
):
    if not warehouse.on_spark():  # on Spark, dbt writes Spark's tables, not the DuckDB file
        warehouse.claim(context.log)
    dbt_vars: dict[str, Any] = warehouse.dbt_vars()
    if config.forwarding_now:
        dbt_vars["forwarding_now"] = config.forwarding_now
    args = ["build", NO_JSON_ARTIFACTS, "--vars", json.dumps(dbt_vars)]
    if config.full_refresh:
        args.append("--full-refresh")
    invocation = dbt.cli(args, context=context)
    if warehouse.on_spark():  # the column types are read from DuckDB's catalog: not there on Spark
        yield from invocation.stream()
    else:
        yield from with_column_types(invocation.stream(), invocation.manifest, warehouse.file(), context.log)
    # Each step gets a target folder of its own under dbt/target/ (compiled SQL, dbt.log, a copy of
    # the parse cache: about 2 MB). The forwarding sensor can start a run every few seconds, so a
    # successful step's folder goes; a failed step's stays for debugging (stream() raised above).
    shutil.rmtree(invocation.target_path, ignore_errors=True)


def sync_models_selection(source: str) -> AssetSelection:
    """What a scheduled sync of one dlt source runs in dbt: the tables and incremental models
    downstream of it, with their tests, and the tests of the views downstream of it, without
    rebuilding those views (SYNC_EXCLUDE: a view reads the new data when queried; its tests
    still check that data)."""
    downstream = build_dbt_asset_selection([dbt_models], dbt_select=f"source:{source}+")
    views = build_dbt_asset_selection([dbt_models], dbt_select=f"source:{source}+,{SYNC_EXCLUDE}")
    return downstream - views.without_checks()  # the views go, their checks stay


def forwarding_models_selection():
    """The dbt assets the forwarding queue needs (and its skips), without the rest of the marts."""
    return build_dbt_asset_selection([dbt_models], dbt_select=FORWARDING_MODELS)
