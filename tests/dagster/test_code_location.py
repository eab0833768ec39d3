"""The whole Dagster code location loads: one lineage graph, one warehouse pool, the asset keys
users and BI tools rely on (snapshot), groups by layer, every dbt test as an asset check, the
AppSprint quarantine table built by the AppSprint load, jobs, schedules and the forwarding sensor.
(Column types in the metadata of a run: tests/dagster/test_column_types.py and the end-to-end run
in test_forwarding_job.py.)"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import dagster
import pytest
from dagster import AssetKey

EXPECTED_KEYS = Path(__file__).with_name("expected_asset_keys.txt")
RAW_TABLES = {
    "tiktok_ads": ["ad_daily_report", "adgroups", "ads", "advertisers", "campaigns", "pixels", "quarantine"],
    "appsprint": ["clicks", "events", "installs", "quarantine", "signal_links"],
}


@pytest.fixture(scope="module")
def defs():
    from dagster_project.definitions import defs

    return defs


@pytest.fixture(scope="module")
def manifest() -> dict:
    from dagster_project.defs.dbt.resources import DBT_PROJECT

    return json.loads(DBT_PROJECT.manifest_path.read_text())


def dbt_key(manifest: dict, unique_id: str) -> AssetKey:
    """The asset key of a dbt node (model, seed or source) in the code location."""
    from dagster_project.defs.dbt.resources import DBT_PROJECT
    from dagster_project.defs.dbt.translator import LayeredDbtTranslator

    return LayeredDbtTranslator().get_asset_spec(manifest, unique_id, DBT_PROJECT).key


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
    # every raw table is materialised by dlt, and dbt staging reads it
    for key in raw:
        assert graph.get(key).is_materializable, key
    assert (
        AssetKey(["tiktok_ads", "ad_daily_report"])
        in graph.get(AssetKey(["staging", "stg_tiktok_ads__ad_daily_report"])).parent_keys
    )
    assert AssetKey(["appsprint", "events"]) in graph.get(AssetKey(["staging", "stg_appsprint__events"])).parent_keys
    # the forwarder's ledger hangs under the dbt queue it reads
    assert graph.get(AssetKey(["event_delivery_ledger"])).parent_keys == {AssetKey(["events_to_forward"])}
    assert len(list(graph.asset_check_keys)) > 50  # dbt tests are asset checks


def test_dbt_models_are_grouped_by_layer_and_raw_tables_by_source(defs, manifest):
    """The Dagster UI shows the warehouse by layer: a model's group is its folder under models/
    (staging, intermediate, marts), seeds are `reference`, dlt's raw tables are `raw_<source>`."""
    graph = defs.resolve_asset_graph()
    layers = set()
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] not in ("model", "seed"):
            continue
        expected = node["fqn"][1] if node["resource_type"] == "model" else "reference"
        assert graph.get(dbt_key(manifest, unique_id)).group_name == expected, unique_id
        layers.add(expected)
    assert layers == {"staging", "intermediate", "marts", "reference"}
    for source, tables in RAW_TABLES.items():
        for table in tables:
            assert graph.get(AssetKey([source, table])).group_name == f"raw_{source}", (source, table)
    groups = {graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert "default" not in groups


def test_every_dbt_test_is_an_asset_check_on_an_asset_it_reads(defs, manifest):
    """Each dbt test of the manifest is a check: generic tests on the model or source they test,
    source tests on the dlt asset of the raw table, and a singular test that reads several models on
    the model named by its `meta.dagster.ref` (a dbt test with no check would run unseen)."""
    checks = {key.name: key for key in defs.resolve_asset_graph().asset_check_keys}
    tests = {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] == "test"}
    missing = sorted(node["name"] for node in tests.values() if node["name"] not in checks)
    assert not missing, (
        "dbt tests that are no asset checks (a singular test reading several models needs "
        f"config(meta={{'dagster': {{'ref': {{'name': <the model it protects>}}}}}})): {missing}"
    )
    assert len(checks) == len(tests)
    for uid, node in tests.items():
        parents = {dbt_key(manifest, parent) for parent in node["depends_on"]["nodes"]}
        assert checks[node["name"]].asset_key in parents, uid
    source_tests = [
        node for node in tests.values() if any(p.startswith("source.") for p in node["depends_on"]["nodes"])
    ]
    on_raw_tables = [n for n in source_tests if checks[n["name"]].asset_key.path[0] in RAW_TABLES]
    assert on_raw_tables, "source tests are checks on the dlt assets of the raw tables"
    multi_model = [n for n in tests.values() if not n.get("attached_node") and len(n["depends_on"]["nodes"]) > 1]
    assert multi_model and all(n["config"]["meta"]["dagster"]["ref"]["name"] for n in multi_model)


@pytest.mark.parametrize(
    ("source", "jobs"),
    [
        ("appsprint", ("appsprint_sync", "forward_new_events", "daily_refresh")),
        ("tiktok_ads", ("tiktok_ads_sync", "daily_refresh")),
    ],
)
def test_each_load_materialises_its_quarantine_table(defs, source, jobs):
    """`<source>/quarantine` (rows the source could not type) is written by that source's load:
    its dlt op materialises it with the source's other tables, in every job that loads it."""
    from dagster_project.defs.appsprint.assets import appsprint_assets, appsprint_load
    from dagster_project.defs.tiktok_ads.assets import tiktok_ads_assets, tiktok_ads_load

    key = AssetKey([source, "quarantine"])
    assets, source_def = {
        "appsprint": (appsprint_assets, appsprint_load(base_url="http://unset", app_id="unset", export_token="x")),
        "tiktok_ads": (
            tiktok_ads_assets,
            tiktok_ads_load(advertiser_ids=["1"], access_token="x", base_url="http://unset"),
        ),
    }[source]
    assert key in assets.keys
    assert "quarantine" in source_def.selected_resources
    assert defs.resolve_asset_graph().get(key).is_materializable
    for job in jobs:
        assert key in defs.resolve_job_def(job).asset_layer.selected_asset_keys, job


def test_dbt_materialisations_carry_each_columns_type(manifest, tmp_path):
    """The dbt step adds each built model's columns, their types from the warehouse and their
    descriptions from dbt, to its materialisation (`dagster/column_schema`); a failed dbt build
    still reports what it built before failing."""
    import duckdb
    from dagster import Output

    from dagster_project.defs.dbt.columns import COLUMN_SCHEMA, with_column_types

    uid, node = next(
        (uid, node)
        for uid, node in sorted(manifest["nodes"].items())
        if node["resource_type"] == "model"
        and node["fqn"][1] == "marts"
        and any(c["description"] for c in node["columns"].values())
    )
    described = next(name for name, column in node["columns"].items() if column["description"])
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(f'create schema if not exists "{node["schema"]}"')
        con.execute(f'create table "{node["schema"]}"."{node["alias"]}" ("{described}" decimal(18, 2), extra date)')

    class Log:
        def warning(self, message: str) -> None:
            raise AssertionError(message)

    def events(fail: bool):
        yield Output(None, output_name="model", metadata={"unique_id": uid})
        if fail:
            raise RuntimeError("dbt failed")

    (event,) = with_column_types(events(False), manifest, path, Log())
    columns = event.metadata[COLUMN_SCHEMA].value.columns
    assert [(c.name, c.type) for c in columns] == [(described, "DECIMAL(18,2)"), ("extra", "DATE")]
    assert columns[0].description == node["columns"][described]["description"]
    reported: list = []
    with pytest.raises(RuntimeError, match="dbt failed"):
        reported.extend(with_column_types(events(True), manifest, path, Log()))
    assert len(reported) == 1 and COLUMN_SCHEMA in reported[0].metadata


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
        assert selected - {bi_copy, AssetKey(["dashboard"])} <= bi_parents, job  # the dashboard reads the copy
    schedules = {s.name: s for s in defs.schedules}
    assert schedules["tiktok_ads_sync_schedule"].cron_schedule == "0 * * * *"
    assert schedules["appsprint_sync_schedule"].cron_schedule == "*/15 * * * *"
    refresh = schedules["daily_refresh_schedule"]
    assert refresh.job_name == "daily_refresh"
    (sensor,) = defs.sensors
    assert sensor.minimum_interval_seconds == 5
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
