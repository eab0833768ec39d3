"""Who writes the dashboard: `signal-campaigns dashboard` (options, errors, exit codes) and the
Dagster asset `dashboard`, which every job that writes the warehouse runs after the BI copy."""

from __future__ import annotations

import re
import shutil

import pytest
from dagster import AssetKey, materialize
from typer.testing import CliRunner

from dagster_project.warehouse import WarehouseResource
from signal_campaigns.cli.app import app

DASHBOARD = AssetKey(["dashboard"])


def articles(html: str) -> list[str]:
    return re.findall(r'<article class="advertiser" data-advertiser="([^"]+)"', html)


def test_the_command_writes_one_advertiser_with_the_window_asked_for(dashboard_warehouse, tmp_path):
    import duckdb

    with duckdb.connect(str(dashboard_warehouse["db"]), read_only=True) as con:
        ids = [
            r[0] for r in con.execute("select distinct advertiser_id from signal_campaign_daily order by 1").fetchall()
        ]
    out = tmp_path / "one.html"
    result = CliRunner().invoke(
        app,
        ["--warehouse", str(dashboard_warehouse["bi_copy"]), "dashboard", "--days", "21", "--advertiser", ids[0],
         "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert str(out) in result.output
    html = out.read_text()
    assert articles(html) == [ids[0]]
    assert re.search(r'data-days="21" aria-pressed="true"', html)  # 21 days shown first, beside 7, 14, 28
    assert [int(d) for d in re.findall(r'<button type="button" data-days="(\d+)"', html)] == [7, 14, 21, 28]
    assert "<script src=" not in html and "Plotly.newPlot" in html  # plotly.js is inlined

    every = tmp_path / "all.html"
    result = CliRunner().invoke(
        app, ["--warehouse", str(dashboard_warehouse["bi_copy"]), "--json", "dashboard", "--out", str(every)]
    )
    assert result.exit_code == 0, result.output
    assert articles(every.read_text()) == ids


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--advertiser", "404"], "advertiser 404 has no data"),
        (["--days", "0"], "--days 0 is out of range"),
    ],
)
def test_the_command_explains_a_wrong_option(dashboard_warehouse, tmp_path, args, message):
    out = tmp_path / "never.html"
    result = CliRunner().invoke(
        app, ["--warehouse", str(dashboard_warehouse["bi_copy"]), "dashboard", *args, "--out", str(out)]
    )
    assert result.exit_code == 1
    assert message in result.output and "What to do" in result.output
    assert not out.exists()


def test_the_command_says_what_to_do_without_a_warehouse(tmp_path):
    result = CliRunner().invoke(app, ["--warehouse", str(tmp_path / "none.duckdb"), "dashboard"])
    assert result.exit_code == 1
    assert "does not exist yet" in result.output and "make demo" in result.output


@pytest.fixture(scope="module")
def code_location():
    """The Dagster definitions (after preparing the dbt manifest they read, as tests/dagster does)."""
    from dagster_project.defs.dbt.resources import prepare_manifest

    prepare_manifest()
    from dagster_project.definitions import defs

    return defs


def test_every_writing_job_writes_the_dashboard_after_the_bi_copy(code_location):
    """Every scheduled job writes the dashboard after the BI copy; the latency-bound forwarding job
    leaves it to them (each forwarding run would make the next wait for it)."""
    defs = code_location

    graph = defs.resolve_asset_graph()
    assert AssetKey(["warehouse_bi_copy"]) in graph.get(DASHBOARD).parent_keys
    assert AssetKey(["signal_campaign_daily"]) in graph.get(DASHBOARD).parent_keys
    for job in ("tiktok_ads_sync", "appsprint_sync", "daily_refresh"):
        assert DASHBOARD in defs.resolve_job_def(job).asset_layer.selected_asset_keys, job
    forwarding = defs.resolve_job_def("forward_new_events").asset_layer.selected_asset_keys
    assert DASHBOARD not in forwarding and AssetKey(["warehouse_bi_copy"]) in forwarding


def test_the_asset_writes_the_page_beside_the_warehouse_from_its_bi_copy(code_location, dashboard_warehouse, tmp_path):
    from dagster_project.defs.dashboard.assets import dashboard

    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(dashboard_warehouse["db"], db)
    shutil.copyfile(dashboard_warehouse["bi_copy"], tmp_path / "warehouse_bi.duckdb")
    result = materialize([dashboard], resources={"warehouse": WarehouseResource(path=str(db))})
    assert result.success
    page = tmp_path / "dashboard.html"
    (materialization,) = result.asset_materializations_for_node("dashboard")
    assert materialization.metadata["path"].value == str(page)
    html = page.read_text()
    assert "warehouse_bi.duckdb" in html  # read from the copy: no writer is waited for or blocked
    assert articles(html)
