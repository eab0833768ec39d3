"""The code location (``workspace.yaml``): wiring only.

- assets: dlt (``assets/tiktok_ads.py``, ``assets/appsprint.py``) keyed as the dbt sources they
  feed, dbt (``assets/dbt.py``, tests as asset checks), the forwarder's ``event_delivery_ledger``
  (``assets/forwarding.py``), and ``warehouse_bi_copy`` (``assets/bi_copy.py``), published last in
  every job: one lineage graph, every writer in the ``warehouse`` pool (D8);
- jobs (``jobs.py``), schedules (``schedules.py``), the forwarding sensor (``sensors.py``),
  configured from the environment (``settings.py``);
- resources (``resources.py``): warehouse, dlt, dbt, Events API, AppSprint probe.

Runs execute in one process (``in_process_executor``): the steps of a run are sequential anyway
(one warehouse writer), and a run then loads the code location once instead of once per step,
which is most of the forwarding loop's latency.
"""

from dagster import Definitions, in_process_executor

from .assets import ALL_ASSETS
from .jobs import ALL_JOBS
from .resources import WAREHOUSE_POOL, default_resources
from .schedules import build_schedules
from .sensors import build_forwarding_sensor
from .settings import AutomationSettings

__all__ = ["WAREHOUSE_POOL", "defs"]

SETTINGS = AutomationSettings.from_env()

defs = Definitions(
    assets=ALL_ASSETS,
    jobs=ALL_JOBS,
    schedules=build_schedules(SETTINGS),
    sensors=[build_forwarding_sensor(SETTINGS)],
    resources=default_resources(),
    executor=in_process_executor,
)
