"""The scheduled syncs' dbt selection (signal_campaigns.warehouse.SYNC_EXCLUDE: views are not
rebuilt, they read the new data when queried) and its guard, the on-run-start hook
require_unselected_parents."""

from __future__ import annotations

import shutil

from signal_campaigns.warehouse import SYNC_EXCLUDE

from .conftest import dbt, query

SYNC = [
    "build",
    "--select",
    "source:appsprint+ source:tiktok_ads+",
    "--exclude",
    SYNC_EXCLUDE,
    "--resource-type",
    "model",
]


def relations(db) -> set[str]:
    return {
        f"{s}.{t}"
        for s, t in query(
            db,
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('main', 'staging', 'intermediate', 'reference')",
        )
    }


def test_a_sync_on_a_warehouse_never_built_stops_with_what_to_run(raw_warehouse, tmp_path, dbt_target_paths):
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(raw_warehouse["db"], db)
    run = dbt(SYNC, warehouse=db, target_path=dbt_target_paths["duckdb"], check=False)
    assert not run.success
    message = str(run.exception)
    assert "does not have yet" in message and "daily_refresh" in message
    # what is missing is named: a seed-only table and the views the selected tables read
    assert "intermediate.int_event_mapping (model int_event_mapping, table)" in message
    assert "staging.stg_tiktok_ads__advertisers (model stg_tiktok_ads__advertisers, view)" in message
    assert relations(db) == set()  # it stopped before building anything


def test_a_sync_after_a_full_build_rebuilds_tables_and_keeps_views(built_duckdb, tmp_path, dbt_target_paths):
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_duckdb["db"], db)
    views_before = query(db, "select schema_name, view_name, sql from duckdb_views() where not internal order by 1, 2")
    run = dbt(SYNC, warehouse=db, target_path=dbt_target_paths["duckdb"])
    built = {r.node.name for r in run.result.results}
    assert {"stg_appsprint__events", "int_appsprint__installs_attributed", "signal_campaign_daily"} <= built
    assert not built & {"events_to_forward", "forwarding_skips", "stg_tiktok_ads__ads", "int_tiktok_ads__ad_dimensions"}
    assert (
        query(db, "select schema_name, view_name, sql from duckdb_views() where not internal order by 1, 2")
        == views_before
    )
    assert query(db, "select count(*) from events_to_forward")[0][0] > 0  # the views still answer
