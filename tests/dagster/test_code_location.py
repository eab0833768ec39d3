"""The whole Dagster code location loads: one lineage graph, one warehouse pool, the asset keys
users and BI tools rely on (snapshot), jobs, schedules and the forwarding sensor."""

from __future__ import annotations

import difflib
from pathlib import Path

import dagster
import pytest
from dagster import AssetKey

EXPECTED_KEYS = Path(__file__).with_name("expected_asset_keys.txt")
RAW_TABLES = {
    "tiktok_ads": ["ad_daily_report", "adgroups", "ads", "advertisers", "campaigns", "pixels"],
    "appsprint": ["clicks", "events", "installs", "quarantine", "signal_links"],
}


@pytest.fixture(scope="module")
def defs():
    from dagster_project.definitions import defs

    return defs


def test_asset_keys_match_the_checked_in_snapshot(defs):
    """Renaming, adding or dropping an asset is a visible change: update expected_asset_keys.txt
    on purpose (`python -m tests.dagster.test_code_location` rewrites it)."""
    actual = sorted(k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys())
    expected = [line for line in EXPECTED_KEYS.read_text().splitlines() if line and not line.startswith("#")]
    diff = list(difflib.unified_diff(expected, actual, "expected_asset_keys.txt", "code location", lineterm=""))
    assert not diff, "asset keys changed:\n" + "\n".join(diff)


def test_code_location_loads_with_one_lineage_graph(defs):
    graph = defs.resolve_asset_graph()
    raw = {AssetKey([ds, t]) for ds, tables in RAW_TABLES.items() for t in tables}
    # every raw table is materialised by dlt (appsprint.quarantine is a side table of the AppSprint
    # resources, so a source asset of the graph), and dbt staging reads it
    for key in raw - {AssetKey(["appsprint", "quarantine"])}:
        assert graph.get(key).is_materializable, key
    assert (
        AssetKey(["tiktok_ads", "ad_daily_report"])
        in graph.get(AssetKey(["staging", "stg_tiktok_ads__ad_daily_report"])).parent_keys
    )
    assert AssetKey(["appsprint", "events"]) in graph.get(AssetKey(["staging", "stg_appsprint__events"])).parent_keys
    # the forwarder's ledger hangs under the dbt queue it reads
    assert graph.get(AssetKey(["event_delivery_ledger"])).parent_keys == {AssetKey(["events_to_forward"])}
    assert len(list(graph.asset_check_keys)) > 50  # dbt tests are asset checks


def test_every_warehouse_writer_shares_one_pool(defs):
    from dagster_project.definitions import WAREHOUSE_POOL

    for assets_def in defs.assets:
        assert isinstance(assets_def, dagster.AssetsDefinition)
        assert isinstance(assets_def.node_def, dagster.OpDefinition), assets_def.node_def.name
        assert assets_def.node_def.pool == WAREHOUSE_POOL, assets_def.node_def.name


def test_jobs_schedules_and_the_forwarding_sensor(defs):
    forwarding = defs.resolve_job_def("forward_new_events")
    keys = {k.to_user_string() for k in forwarding.asset_layer.selected_asset_keys}
    assert {
        "appsprint/events",
        "appsprint/installs",
        "events_to_forward",
        "forwarding_skips",
        "staging/stg_appsprint__events",
        "event_delivery_ledger",
    } <= keys
    assert not {k for k in keys if k.startswith("tiktok_ads/")}  # TikTok reporting is not re-pulled
    assert "signal_campaign_daily" not in keys  # nor unrelated marts rebuilt
    # every job publishes the BI copy once, last: it hangs under every warehouse writer of the job
    bi_copy = AssetKey(["warehouse_bi_copy"])
    bi_parents = defs.resolve_asset_graph().get(bi_copy).parent_keys
    for job in ("forward_new_events", "tiktok_ads_sync", "appsprint_sync", "daily_refresh"):
        selected = defs.resolve_job_def(job).asset_layer.selected_asset_keys
        assert bi_copy in selected, job
        assert selected - {bi_copy} <= bi_parents, job
    schedules = {s.name: s for s in defs.schedules}
    assert schedules["tiktok_ads_sync_schedule"].cron_schedule == "0 * * * *"
    assert schedules["appsprint_sync_schedule"].cron_schedule == "*/15 * * * *"
    refresh = schedules["daily_refresh_schedule"]
    assert refresh.job_name == "daily_refresh"
    (sensor,) = defs.sensors
    assert sensor.minimum_interval_seconds == 30
    assert {job.name for job in sensor.jobs} == {"forward_new_events", "daily_refresh"}


def test_automation_settings_come_from_the_environment_with_clear_errors(monkeypatch):
    from dagster_project.settings import AutomationSettings, SettingsError

    with monkeypatch.context() as patch:
        patch.setenv("SIGNAL_APPSPRINT_SYNC_CRON", "*/5 * * * *")
        patch.setenv("SIGNAL_AUTOMATION", "running")
        settings = AutomationSettings.from_env()
    assert settings.appsprint_sync_cron == "*/5 * * * *" and settings.running
    with monkeypatch.context() as patch:
        patch.setenv("SIGNAL_TIKTOK_SYNC_CRON", "every hour")
        with pytest.raises(SettingsError, match="SIGNAL_TIKTOK_SYNC_CRON"):
            AutomationSettings.from_env()
    with monkeypatch.context() as patch:
        patch.setenv("SIGNAL_DAILY_LOOKBACK_DAYS", "90")
        with pytest.raises(SettingsError, match="1 to 28"):
            AutomationSettings.from_env()


def write_snapshot() -> None:
    from dagster_project.definitions import defs

    keys = sorted(k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys())
    EXPECTED_KEYS.write_text(
        "# Asset keys of the code location (tests/dagster/test_code_location.py).\n" + "\n".join(keys) + "\n"
    )


if __name__ == "__main__":
    write_snapshot()
