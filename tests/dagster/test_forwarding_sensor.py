"""The forwarding sensor tick by tick, against the sandbox AppSprint export API over HTTP."""

from __future__ import annotations

import httpx
import pytest
from dagster import (
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    RunRequest,
    SensorResult,
    SkipReason,
    build_sensor_context,
)

from dagster_project.defs.forwarding.resources import AppSprintApiResource
from dagster_project.defs.forwarding.sensors import build_forwarding_sensor
from dagster_project.settings import AutomationSettings

from .conftest import control


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as instance:
        yield instance


@pytest.fixture
def tick(sandbox_env, instance):
    sensor = build_forwarding_sensor(AutomationSettings.from_env())
    resource = AppSprintApiResource(timeout_seconds=2)  # connection and token from the dlt environment

    def run(cursor: str | None):
        return sensor(build_sensor_context(cursor=cursor, resources={"appsprint_api": resource}, instance=instance))

    return run


def newest_visible_event(sandbox) -> str | None:
    """The largest updated_at the events endpoint serves now (a full walk, as a reference)."""
    creds = sandbox.credentials
    url = f"{sandbox.appsprint_api_url}/apps/{creds.appsprint_app_id}/events"
    headers = {"Authorization": f"Bearer {creds.appsprint_export_token}"}
    params: dict = {"limit": 1000}
    newest = None
    while True:
        body = httpx.get(url, params=params, headers=headers, timeout=30).json()
        if body["data"]:
            newest = body["data"][-1]["updated_at"]
        if not body["meta"]["next_cursor"]:
            return newest
        params = {"limit": 1000, "cursor": body["meta"]["next_cursor"]}


def only_run(result) -> tuple[RunRequest, str]:
    assert isinstance(result, SensorResult), result
    assert result.run_requests is not None and len(result.run_requests) == 1, result.run_requests
    assert result.cursor is not None
    return result.run_requests[0], result.cursor


def test_sensor_requests_one_run_per_new_batch_of_events(sandbox_env, tick):
    # first tick: nothing seen yet -> one full refresh (TikTok too), cursor = the newest event
    first_run, cursor = only_run(tick(None))
    assert cursor == newest_visible_event(sandbox_env)
    assert first_run.run_key == f"appsprint-events-through-{cursor}" and first_run.job_name == "daily_refresh"

    # no new events -> no run
    result = tick(cursor)
    assert isinstance(result, SkipReason) and "no new AppSprint events" in str(result.skip_message)

    # late events become visible as the AppSprint clock moves on a day -> exactly one run
    control(sandbox_env.appsprint_url, "clock", {"advance_seconds": 86400})
    second_run, newer = only_run(tick(cursor))
    assert newer > cursor and newer == newest_visible_event(sandbox_env)
    assert second_run.run_key != first_run.run_key and newer in str(second_run.run_key)
    assert second_run.job_name == "forward_new_events"

    # the same events again -> no second run; a repeated tick from the old cursor (its cursor
    # update lost) asks for the same run key, which Dagster runs only once
    assert isinstance(tick(newer), SkipReason)
    repeat, _ = only_run(tick(cursor))
    assert repeat.run_key == second_run.run_key


def test_new_events_are_left_to_a_run_still_waiting_in_the_queue(sandbox_env, tick, instance):
    cursor = only_run(tick(None))[1]
    control(sandbox_env.appsprint_url, "clock", {"advance_seconds": 86400})
    queued = DagsterRun(
        job_name="forward_new_events", run_id="0" * 8 + "-waiting-run", status=DagsterRunStatus.NOT_STARTED
    )
    instance.add_run(queued)
    result = tick(cursor)
    assert isinstance(result, SkipReason) and queued.run_id in str(result.skip_message)
    instance.delete_run(queued.run_id)  # it started (and loaded what was new then), or went away
    _run, newer = only_run(tick(cursor))  # the cursor stayed: nothing is lost
    assert newer > cursor


def test_sensor_skips_with_the_reason_on_appsprint_errors(sandbox_env, tick, monkeypatch):
    cursor = only_run(tick(None))[1]
    control(sandbox_env.appsprint_url, "clock", {"advance_seconds": 86400})

    control(sandbox_env.appsprint_url, "faults", {"endpoint": "events", "kind": "http", "status": 502})
    result = tick(cursor)
    assert isinstance(result, SkipReason)
    assert "AppSprint export API check failed" in str(result.skip_message) and "502" in str(result.skip_message)

    control(sandbox_env.appsprint_url, "faults", {"endpoint": "events", "kind": "timeout", "seconds": 5})
    result = tick(cursor)
    assert isinstance(result, SkipReason) and "timed out" in str(result.skip_message)

    wrong = "not-the-export-token-123"
    with monkeypatch.context() as patch:
        patch.setenv("SOURCES__APPSPRINT__EXPORT_TOKEN", wrong)
        result = tick(cursor)
    assert isinstance(result, SkipReason) and "export token was rejected" in str(result.skip_message)
    assert wrong not in str(result.skip_message)
    assert sandbox_env.credentials.appsprint_export_token not in str(result.skip_message)

    # once the API answers again, the events of the failed ticks are requested (nothing lost)
    control(sandbox_env.appsprint_url, "faults", method="DELETE")
    _run, newer = only_run(tick(cursor))
    assert newer > cursor


def test_sensor_rejects_a_cursor_that_is_not_a_timestamp_with_a_message(sandbox_env, tick):
    result = tick("not-a-timestamp")
    assert isinstance(result, SkipReason) and "updated_since" in str(result.skip_message)
