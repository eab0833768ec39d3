"""Jobs: which assets each kind of run materialises. Every job ends with ``warehouse_bi_copy``
(it depends on every warehouse writer, so it runs after the run's writes): one BI copy per run."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from dagster_project.defs.appsprint.assets import appsprint_assets
from dagster_project.defs.bi_copy.assets import BI_COPY_KEY
from dagster_project.defs.dashboard.assets import DASHBOARD_KEY
from dagster_project.defs.dbt.assets import dbt_models, forwarding_models_selection, sync_models_selection
from dagster_project.defs.forwarding.assets import LEDGER_KEY
from dagster_project.defs.tiktok_ads.assets import tiktok_ads_assets


def warehouse_job(name: str, selection: AssetSelection, description: str, *, dashboard: bool = True):
    """A job that writes the warehouse: its selection plus ``warehouse_bi_copy`` and then (unless
    ``dashboard=False``) ``dashboard``, which run last."""
    last = (BI_COPY_KEY, DASHBOARD_KEY) if dashboard else (BI_COPY_KEY,)
    return define_asset_job(name, selection=selection | AssetSelection.assets(*last), description=description)


# The forwarding loop: load new AppSprint data, rebuild the forwarding models, forward. It is
# latency-bound (p95 < 60 s from AppSprint to TikTok), so it leaves the dbt tests (asset checks) to
# the scheduled syncs, which run them on the same models every 15 minutes, and the dashboard too
# (writing it took 3-9 s, and every forwarding run makes the next one wait).
forwarding_job = warehouse_job(
    "forward_new_events",
    selection=(
        AssetSelection.assets(appsprint_assets) | forwarding_models_selection() | AssetSelection.assets(LEDGER_KEY)
    )
    - AssetSelection.all_asset_checks(),
    description="Load new AppSprint data, rebuild events_to_forward / forwarding_skips, forward to TikTok "
    "(dbt tests and the dashboard run in the scheduled syncs).",
    dashboard=False,
)
tiktok_ads_sync_job = warehouse_job(
    "tiktok_ads_sync",
    selection=AssetSelection.assets(tiktok_ads_assets) | sync_models_selection("tiktok_ads"),
    description="TikTok Ads reporting sync (trailing lookback re-pulled) and the tables that read it (views are current by definition).",
)
appsprint_sync_job = warehouse_job(
    "appsprint_sync",
    selection=AssetSelection.assets(appsprint_assets) | sync_models_selection("appsprint"),
    description="AppSprint attribution sync and the tables that read it (views are current by definition).",
)
daily_refresh_job = warehouse_job(
    "daily_refresh",
    selection=AssetSelection.assets(tiktok_ads_assets, appsprint_assets, dbt_models, LEDGER_KEY),
    description="Everything: TikTok re-pulled over the long lookback, AppSprint, all models and tests, forwarding.",
)

ALL_JOBS = [forwarding_job, tiktok_ads_sync_job, appsprint_sync_job, daily_refresh_job]
