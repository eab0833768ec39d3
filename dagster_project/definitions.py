"""The code location (``workspace.yaml``): wiring only.

- assets (``defs/``, one folder per integration): dlt (``tiktok_ads``, ``appsprint``) keyed as the
  dbt sources they feed, dbt (``dbt``, tests as asset checks), the forwarder's
  ``event_delivery_ledger`` (``forwarding``), and ``warehouse_bi_copy`` (``bi_copy``), published last
  in every job: one lineage graph, every writer in the ``warehouse`` pool (one DuckDB writer);
- jobs (``jobs.py``), schedules (``schedules.py``), the forwarding sensor
  (``defs/forwarding/sensors.py``), configured from the environment (``settings.py``);
- resources: warehouse (``warehouse.py``), dlt, dbt (``defs/dbt/resources.py``), Events API and
  AppSprint probe (``defs/forwarding/resources.py``).

Runs execute in one process (``in_process_executor``): the steps of a run are sequential anyway
(one warehouse writer), and a run then loads the code location once instead of once per step,
which is most of the forwarding loop's latency.
"""

from dagster import Definitions, in_process_executor
from dagster_dlt import DagsterDltResource

from dagster_project.defs.appsprint.assets import appsprint_assets
from dagster_project.defs.bi_copy.assets import warehouse_bi_copy
from dagster_project.defs.dashboard.assets import dashboard
from dagster_project.defs.dbt.assets import dbt_models
from dagster_project.defs.dbt.resources import dbt_resource
from dagster_project.defs.forwarding.assets import event_delivery_ledger
from dagster_project.defs.forwarding.resources import AppSprintApiResource, EventsApiResource
from dagster_project.defs.forwarding.sensors import build_forwarding_sensor
from dagster_project.defs.tiktok_ads.assets import tiktok_ads_assets
from dagster_project.jobs import ALL_JOBS
from dagster_project.schedules import build_schedules
from dagster_project.settings import AutomationSettings
from dagster_project.warehouse import WAREHOUSE_POOL, WarehouseResource

__all__ = ["ALL_ASSETS", "WAREHOUSE_POOL", "default_resources", "defs"]

ALL_ASSETS = [tiktok_ads_assets, appsprint_assets, dbt_models, event_delivery_ledger, warehouse_bi_copy, dashboard]


def default_resources() -> dict[str, object]:
    return {
        "warehouse": WarehouseResource(),
        "dlt": DagsterDltResource(),
        "dbt": dbt_resource(),
        "events_api": EventsApiResource(),
        "appsprint_api": AppSprintApiResource(),
    }


SETTINGS = AutomationSettings.from_env()

defs = Definitions(
    assets=ALL_ASSETS,
    jobs=ALL_JOBS,
    schedules=build_schedules(SETTINGS),
    sensors=[build_forwarding_sensor(SETTINGS)],
    resources=default_resources(),
    executor=in_process_executor,
)
