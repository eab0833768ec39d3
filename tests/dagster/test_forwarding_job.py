"""End to end, in process, against the sandbox over HTTP with a temporary warehouse: the daily
refresh (extract, models, forward), then the sensor's forwarding job for late events while a BI
reader holds the published copy open, then a rejected Events API token."""

from __future__ import annotations

import datetime as dt
import threading

import duckdb
import pytest
from dagster import DagsterInstance, Definitions

from dagster_project.definitions import ALL_ASSETS, default_resources
from dagster_project.defs.dbt.resources import DBT_PROJECT
from dagster_project.defs.forwarding.resources import EventsApiResource
from dagster_project.jobs import ALL_JOBS
from dagster_project.warehouse import WarehouseResource
from signal_campaigns.forwarding import AUTH_ADVICE
from signal_campaigns.warehouse import bi_copy_path

from .conftest import control, received, received_event_ids
from .readers import HeldOpenReader


def sandbox_now(sandbox) -> str:
    return control(sandbox.appsprint_url, "clock", method="GET")["now"]


@pytest.fixture
def location(sandbox_env, tmp_path):
    """The code location's jobs with a temporary warehouse and the Events API of the sandbox."""
    warehouse = WarehouseResource(path=str(tmp_path / "warehouse.duckdb"), lock_wait_seconds=20)
    resources = dict(
        default_resources(),
        warehouse=warehouse,
        events_api=EventsApiResource(base_url=sandbox_env.tiktok_url, max_attempts=2),
    )
    defs = Definitions(assets=ALL_ASSETS, jobs=ALL_JOBS, resources=resources)
    instance = DagsterInstance.ephemeral()

    def run(job: str, run_config: dict, **kwargs):
        return defs.resolve_job_def(job).execute_in_process(run_config=run_config, instance=instance, **kwargs)

    return run, warehouse.file(), instance


def publishes(instance, result) -> list[str]:
    """The steps of a run that published the BI copy."""
    return [
        e.step_key for e in instance.all_logs(result.run_id) if "published the read-only copy" in (e.user_message or "")
    ]


def ledger_and_queue(db) -> tuple[dict[str, int], set[str], set[str]]:
    with duckdb.connect(str(db), read_only=True) as con:
        statuses = dict(con.execute("select status, count(*) from event_delivery_ledger group by 1").fetchall())
        sent = {
            r[0] for r in con.execute("select event_id from event_delivery_ledger where status = 'sent'").fetchall()
        }
        queue = {r[0] for r in con.execute("select event_id from events_to_forward").fetchall()}
    return statuses, sent, queue


def assert_columns_typed(result) -> None:
    """Every table the run wrote (dlt raw tables, dbt models and seeds) has its columns with their
    types in the materialisation's metadata; the quarantine table came with the AppSprint load."""
    materialised = {
        e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()
    }
    assert "appsprint/quarantine" in materialised
    assert materialised["appsprint/quarantine"]["rows_loaded"].value > 0  # the tiny world has malformed rows
    for key, metadata in materialised.items():
        if key in ("event_delivery_ledger", "warehouse_bi_copy", "dashboard"):
            continue
        if key == "tiktok_ads/quarantine" and "rows_loaded" not in metadata:
            continue  # nothing quarantined: dlt creates the table with its first row
        columns = metadata["dagster/column_schema"].value.columns
        assert columns and all(c.type and c.type != "?" for c in columns), key


def test_forwarding_end_to_end_with_a_bi_reader_and_a_rejected_token(sandbox_env, location):
    run, db, instance = location
    anchor = sandbox_env.anchor

    # 1. the daily refresh: TikTok + AppSprint extraction, every model and test, forwarding
    result = run(
        "daily_refresh",
        {
            "ops": {
                "tiktok_ads": {
                    "config": {
                        "now": anchor.isoformat(),
                        "start_date": str((anchor - dt.timedelta(days=40)).date()),
                        "lookback_days": 28,
                    }
                },
                "dbt_models": {"config": {"forwarding_now": sandbox_now(sandbox_env)}},
            }
        },
    )
    assert result.success
    statuses, sent, queue = ledger_and_queue(db)
    assert queue and statuses == {"sent": len(queue)} and sent == queue
    assert set(received_event_ids(sandbox_env)) == queue
    assert received(sandbox_env)["unique_events"] == len(queue)
    bi = bi_copy_path(db)
    assert bi.exists()
    assert publishes(instance, result) == ["warehouse_bi_copy"]  # once, after every write of the run
    assert_columns_typed(result)
    # the dbt step's own target folder (~2 MB, one per run) is removed once the step succeeded
    target = DBT_PROJECT.project_dir / DBT_PROJECT.target_path
    assert not list(target.glob(f"dbt_models-{result.run_id[:7]}-*"))

    # 1b. a scheduled AppSprint sync: tables rebuilt, views left as they are (current by
    #     definition), yet the views' dbt tests run on the new data
    sync = run("appsprint_sync", {})
    assert sync.success
    rebuilt = {e.asset_key.to_user_string() for e in sync.get_asset_materialization_events()}
    assert "signal_campaign_daily" in rebuilt and "staging/stg_appsprint__events" in rebuilt
    assert not rebuilt & {"events_to_forward", "forwarding_skips", "event_mapping_coverage"}
    checks = sync.get_asset_check_evaluations()
    view_checks = [c for c in checks if c.asset_key.to_user_string() in ("events_to_forward", "forwarding_skips")]
    assert view_checks and all(c.passed for c in view_checks)
    assert "appsprint/quarantine" in rebuilt  # the AppSprint load materialises its quarantine table
    assert publishes(instance, sync) == ["warehouse_bi_copy"]

    # 2. late events appear; the sensor's job forwards them while a BI tool holds the copy open
    #    and a careless client holds the main file for a few seconds (the run waits, then goes on)
    sandbox_env.advance_clock(86400)
    with (
        HeldOpenReader(bi, "select count(*) from event_delivery_ledger") as reader,
        HeldOpenReader(db, "select count(*) from event_delivery_ledger") as careless,
    ):
        threading.Timer(3.0, careless.again).start()
        result = run(
            "forward_new_events", {"ops": {"dbt_models": {"config": {"forwarding_now": sandbox_now(sandbox_env)}}}}
        )
        assert result.success
        assert reader.first == len(queue)
        assert reader.again() == len(queue)  # the reader keeps its consistent (previous) view
    waited = [e.user_message for e in instance.all_logs(result.run_id) if "is locked by" in (e.user_message or "")]
    assert waited and f"PID {careless.proc.pid}" in waited[0] and str(bi) in waited[0]
    statuses, sent_now, queue_now = ledger_and_queue(db)
    new = sent_now - sent
    assert new, "the day's late events were forwarded"
    assert statuses.get("pending", 0) == 0 and queue_now <= sent_now
    ids = received_event_ids(sandbox_env)
    assert set(ids) == sent_now and len(ids) == len(set(ids))  # each eligible event sent once
    with duckdb.connect(str(bi), read_only=True) as con:  # the published copy is the new state
        assert con.execute("select count(*) from event_delivery_ledger where status = 'sent'").fetchall()[0][0] == len(
            sent_now
        )
    assert publishes(instance, result) == ["warehouse_bi_copy"]

    # 3. a revoked Events API token: the run fails with the advice, events stay pending, no secret
    sandbox_env.advance_clock(86400)
    token = sandbox_env.credentials.events_api_token
    control(sandbox_env.tiktok_url, "tokens/revoke", {"token": token})
    result = run(
        "forward_new_events",
        {"ops": {"dbt_models": {"config": {"forwarding_now": sandbox_now(sandbox_env)}}}},
        raise_on_error=False,
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert failure.step_key == "event_delivery_ledger"
    assert AUTH_ADVICE in str(failure.event_specific_data.user_failure_data.description)
    statuses, _, _ = ledger_and_queue(db)
    assert statuses.get("pending", 0) > 0 and statuses["sent"] == len(sent_now)
    # the run stopped before warehouse_bi_copy: the forwarder published what it had recorded
    assert publishes(instance, result) == ["event_delivery_ledger"]
    with duckdb.connect(str(bi), read_only=True) as con:
        assert dict(con.execute("select status, count(*) from event_delivery_ledger group by 1").fetchall()) == statuses
    logged = " ".join(str(e) for e in instance.all_logs(result.run_id))
    assert token not in logged and sandbox_env.credentials.appsprint_export_token not in logged
