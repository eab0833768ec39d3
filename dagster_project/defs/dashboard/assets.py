"""``dashboard``: the marketer's HTML dashboard (:mod:`signal_campaigns.dashboard`,
docs/dashboard.md), written after every run that wrote the warehouse.

It reads the public marts from the read-only BI copy that ``warehouse_bi_copy`` has just published
in the same run (the main file when no copy is published), so no foreign process holding the main
file stops it. It depends on the marts and on the BI copy, so a job that selects it runs it last;
it is in the ``warehouse`` pool with every step of those jobs (a few seconds)."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset

from dagster_project.defs.bi_copy.assets import BI_COPY_KEY
from dagster_project.defs.dbt.assets import dbt_models
from dagster_project.defs.forwarding.assets import LEDGER_KEY
from dagster_project.warehouse import WAREHOUSE_POOL, WarehouseResource
from signal_campaigns.dashboard import dashboard_path, write_dashboard
from signal_campaigns.warehouse import bi_copy_path

DASHBOARD_KEY = AssetKey(["dashboard"])
MARTS = [key for key, group in dbt_models.group_names_by_key.items() if group == "marts"]


@asset(
    key=DASHBOARD_KEY,
    deps=[*MARTS, LEDGER_KEY, BI_COPY_KEY],
    pool=WAREHOUSE_POOL,  # after the run's writes, and no run replaces the BI copy while it is read
    group_name="warehouse",
    kinds={"html", "plotly"},
    description="The marketer's dashboard (one self-contained HTML file beside the warehouse): daily trends "
    "per campaign, the 12 metrics with TikTok's fallback marked, value-optimisation readiness, forwarding "
    "health and AppSprint vs TikTok reconciliation, per advertiser (docs/dashboard.md).",
)
def dashboard(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    copy = bi_copy_path(warehouse.file())
    source = copy if warehouse.publish_bi_copy and copy.exists() else warehouse.file()
    if not source.exists():
        context.log.info("no dashboard written: there is no warehouse yet")
        return MaterializeResult(metadata={"written": False})
    path = write_dashboard(source, dashboard_path(warehouse.file()))
    context.log.info(f"dashboard written: {path}")
    return MaterializeResult(
        metadata={"written": True, "path": str(path), "size_mb": round(path.stat().st_size / 2**20, 1)}
    )
