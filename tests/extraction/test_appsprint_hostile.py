"""Hostile AppSprint data that must not stop the pipeline (docs/decisions/0011-hostile-input.md),
against the sandbox export API over real HTTP, its page faults armed with ``/_sandbox/page_faults``:
poison numbers, paging that never ends, events from the future. Each case asserts the clear
outcome and that no good row was lost."""

from __future__ import annotations

import datetime as dt

import httpx
import pyarrow.compute as pc
import pytest

from dlt_sources.appsprint import AppSprintPagingError, appsprint, raise_for_paging_stops, settings
from dlt_sources.appsprint.guards import FUTURE_TOLERANCE, MAX_EMPTY_PAGES_IN_A_ROW
from dlt_sources.appsprint.rows import type_page
from sandbox.appsprint_server import create_appsprint_app
from sandbox.control import SandboxClock, SandboxControl
from sandbox.generate import generate_world
from sandbox.serving import ThreadedServer
from tests.extraction.test_appsprint_source import (
    Run,
    _event,
    clock_now,
    expected_deliveries,
    expected_ids,
    loaded_deliveries,
    loaded_ids,
    make_pipeline,
    run,
    server_stats,
    source_for,
    table_snapshot,
    visible,
)

# the three ways a page is read: Arrow, JSON bodies in bulk (DuckDB), JSON rows one by one (orjson)
WIRE_READERS = (("arrow", True), ("json", True), ("json", False))


def page_fault(sandbox, **fault) -> None:
    httpx.post(f"{sandbox.appsprint_url}/_sandbox/page_faults", json=fault, timeout=10).raise_for_status()


def clear_page_faults(sandbox) -> None:
    httpx.delete(f"{sandbox.appsprint_url}/_sandbox/page_faults", timeout=10).raise_for_status()


def a_visible_event(world, clock: dt.datetime, *, with_revenue: bool = False) -> str:
    ev = visible(world, "events", clock)
    ev = ev.filter(pc.is_null(ev["invalid_reason"]))
    if with_revenue:
        ev = ev.filter(pc.greater(ev["revenue"], 0))
    return ev["event_id"][ev.num_rows // 2].as_py()


def quarantined(r: Run, key: str) -> list[str]:
    return [row[0] for row in r.query(f"select reason from appsprint.quarantine where row_key = '{key}'")]


# --- poison numbers ---------------------------------------------------------------------------------
POISON_REVENUE = [
    ("NaN", "bad_revenue: revenue=NaN is not finite"),
    ("Infinity", "bad_revenue: revenue=Infinity is not finite"),
    ("-Infinity", "bad_revenue: revenue=-Infinity is not finite"),
    ('"NaN"', "bad_revenue: revenue="),
    ('"-"', "bad_revenue: revenue="),
    ("true", "bad_revenue: revenue="),
]


@pytest.mark.parametrize(
    ("wire", "bulk_parse", "value", "reason"),
    [
        (wire, bulk, value, reason)
        for wire, bulk in WIRE_READERS
        for value, reason in POISON_REVENUE
        # an Arrow column has one type: text in a number column is text for every row of the page,
        # which the contract quarantines row by row as it does a JSON string
        if wire == "json" or (not value.startswith('"') and value != "true")
    ],
)
def test_poison_revenue_is_quarantined_and_the_rest_loads(
    sandbox, tiny_world, tmp_path, wire, bulk_parse, value, reason
):
    clock = clock_now(sandbox)
    poisoned = a_visible_event(tiny_world, clock, with_revenue=True)
    page_fault(sandbox, kind="value", endpoint="events", row_id=poisoned, field="revenue", value=value)
    r = run(sandbox, tmp_path, resources=["events"], wire=wire, bulk_parse=bulk_parse)
    assert set(loaded_ids(r, "events")) == expected_ids(tiny_world, "events", clock) - {poisoned}
    reasons = quarantined(r, poisoned)
    assert len(reasons) == 1 and reasons[0].startswith(reason), reasons
    # a rerun does not fail on the same row (nor load it)
    r.pipeline.run(source_for(sandbox, resources=["events"], wire=wire, bulk_parse=bulk_parse))
    assert poisoned not in loaded_ids(r, "events")


@pytest.mark.parametrize(
    ("wire", "bulk_parse", "value"),
    [
        *[(wire, bulk, value) for wire, bulk in WIRE_READERS for value in ("NaN", "Infinity")],
        ("json", True, '"0.9"'),  # text: see POISON_REVENUE
        ("json", False, '"0.9"'),
    ],
)
def test_poison_attribution_confidence_is_quarantined(sandbox, tiny_world, tmp_path, wire, bulk_parse, value):
    clock = clock_now(sandbox)
    installs = visible(tiny_world, "installs", clock)
    poisoned = installs["appsprint_id"][installs.num_rows // 2].as_py()
    page_fault(sandbox, kind="value", endpoint="installs", row_id=poisoned, field="attribution.confidence", value=value)
    r = run(sandbox, tmp_path, resources=["installs"], wire=wire, bulk_parse=bulk_parse)
    assert set(loaded_ids(r, "installs")) == expected_ids(tiny_world, "installs", clock) - {poisoned}
    reasons = quarantined(r, poisoned)
    assert len(reasons) == 1 and reasons[0].startswith("bad_number: attribution__confidence="), reasons
    assert r.query("select count(*) from appsprint.installs where isnan(attribution__confidence)") == [(0,)]


# --- paging that never ends -------------------------------------------------------------------------
def assert_loaded_a_complete_prefix(r: Run, world, clock: dt.datetime, at_least: int) -> None:
    """The loaded deliveries are the first ones in served order, none of a half-read instant."""
    expected = expected_deliveries(world, clock)
    got = loaded_deliveries(r)
    assert len(got) >= at_least
    assert len(got) == len(set(got)), "a delivery loaded twice"
    boundary = max(u for _, u in got)
    assert got == sorted(d for d in expected if d[1] <= boundary)


def assert_rerun_equals_clean_run(sandbox, tmp_path, r: Run) -> None:
    clear_page_faults(sandbox)
    src = source_for(sandbox, resources=["events"], page_limit=100)
    r.pipeline.run(src)
    raise_for_paging_stops(r.pipeline)
    assert Run(r.pipeline, src, r.db).metrics("events")["updated_since"] is not None  # resumed, not restarted
    clean = run(sandbox, tmp_path, name="clean", resources=["events"], page_limit=100)
    for table in ("events", "quarantine"):
        snap = table_snapshot(r, table)
        want = table_snapshot(clean, table)
        if table == "quarantine":  # quarantined_at is the run's time
            snap, want = [row[:-1] for row in snap], [row[:-1] for row in want]
        assert snap == want, table


@pytest.mark.parametrize("pages", [2, 4], ids=["cursor-does-not-advance", "A-B-C-A"])
def test_cursor_cycle_stops_with_a_clear_error_and_keeps_the_rows_read(sandbox, tiny_world, tmp_path, pages):
    page_fault(sandbox, kind="cursor_cycle", endpoint="events", after_pages=pages)
    pipeline, db = make_pipeline(tmp_path, "cycle")
    src = source_for(sandbox, resources=["events"], page_limit=100)
    pipeline.run(src)  # the load itself completes: what was read lands
    with pytest.raises(AppSprintPagingError) as exc:
        raise_for_paging_stops(pipeline)
    message = str(exc.value)
    assert f"AppSprint events: paging stopped after page {pages}" in message
    assert "already followed for page 2" in message and "cursor cycle" in message
    assert "request id req_" in message
    fix = exc.value.fix or ""
    assert "next run resumes after them" in fix and "Run the extraction again" in fix
    assert server_stats(sandbox)["events|total"] == pages  # not one request more
    r = Run(pipeline, src, db)
    assert_loaded_a_complete_prefix(r, tiny_world, clock_now(sandbox), at_least=100 * pages - 50)
    assert_rerun_equals_clean_run(sandbox, tmp_path, r)


def test_endless_empty_pages_stop_after_the_documented_limit(sandbox, tiny_world, tmp_path):
    page_fault(sandbox, kind="empty_pages", endpoint="events", after_pages=2)
    pipeline, db = make_pipeline(tmp_path, "empty")
    src = source_for(sandbox, resources=["events"], page_limit=100)
    pipeline.run(src)
    with pytest.raises(AppSprintPagingError) as exc:
        raise_for_paging_stops(pipeline)
    assert f"{MAX_EMPTY_PAGES_IN_A_ROW + 1} empty pages in a row still carried a next_cursor" in str(exc.value)
    assert "last next_cursor 'sandbox-empty-page-" in str(exc.value)
    assert server_stats(sandbox)["events|total"] == 2 + MAX_EMPTY_PAGES_IN_A_ROW + 1
    r = Run(pipeline, src, db)
    assert "paging_stopped" in r.metrics("events")
    assert_loaded_a_complete_prefix(r, tiny_world, clock_now(sandbox), at_least=150)
    assert_rerun_equals_clean_run(sandbox, tmp_path, r)


# --- events from the future -------------------------------------------------------------------------
@pytest.mark.parametrize("wire", ["arrow", "json"])
def test_future_dated_event_is_quarantined_with_its_own_reason(sandbox, tiny_world, tmp_path, wire):
    clock = clock_now(sandbox)
    future = a_visible_event(tiny_world, clock, with_revenue=True)
    page_fault(
        sandbox, kind="value", endpoint="events", row_id=future, field="occurred_at", value='"2999-01-01T00:00:00.000Z"'
    )
    r = run(sandbox, tmp_path, resources=["events"], wire=wire)
    assert set(loaded_ids(r, "events")) == expected_ids(tiny_world, "events", clock) - {future}
    reasons = quarantined(r, future)
    assert len(reasons) == 1
    assert reasons[0].startswith("future_timestamp: occurred_at=2999-01-01T00:00:00+00:00 is more than 5 minutes")
    assert clock.isoformat() in reasons[0]  # measured against the export's clock


def test_the_future_is_measured_on_the_servers_clock_not_this_machines(tmp_path):
    """A sandbox anchored ahead of this machine (its clock moved forward, or a server clock ahead):
    its own present is not the future, so nothing legitimate is quarantined."""
    anchor = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).replace(microsecond=0)
    world = generate_world(seed=7, scale="tiny", anchor=anchor)
    app = create_appsprint_app(world, SandboxControl(SandboxClock(anchor)))
    creds = world.credentials
    with ThreadedServer(app) as server:
        pipeline, db = make_pipeline(tmp_path, "ahead")
        src = source_for_url(f"{server.url}/v1", creds)
        pipeline.run(src)
    r = Run(pipeline, src, db)
    assert set(loaded_ids(r, "events")) == expected_ids(world, "events", anchor)
    assert r.query("select count(*) from appsprint.quarantine where reason like 'future_timestamp%'") == [(0,)]


def source_for_url(base_url: str, creds):
    return appsprint(
        base_url=base_url,
        app_id=creds.appsprint_app_id,
        export_token=creds.appsprint_export_token,
        resources=["events"],
    )


def test_future_tolerance_on_the_loaders_clock_when_the_server_gives_none():
    now = dt.datetime.now(dt.UTC)
    within = now + FUTURE_TOLERANCE - dt.timedelta(seconds=30)
    beyond = now + FUTURE_TOLERANCE + dt.timedelta(minutes=2)
    rows = [
        _event(event_id="ok", occurred_at=within.isoformat()),
        _event(event_id="ahead", occurred_at=beyond.isoformat()),
    ]
    typed = type_page(settings.EVENTS, rows)
    assert typed.table["event_id"].to_pylist() == ["ok"]
    assert typed.quarantine is not None
    assert typed.quarantine["reason"][0].as_py().startswith("future_timestamp: occurred_at=")
    # the server's clock wins when it gives one
    typed = type_page(settings.EVENTS, rows, served_at=beyond)
    assert typed.table["event_id"].to_pylist() == ["ok", "ahead"] and typed.quarantine is None


def test_page_fault_route_rejects_what_it_cannot_do(sandbox):
    for bad in ({"kind": "poison"}, {"kind": "value", "endpoint": "events"}, {"kind": "cursor_cycle", "endpoint": "x"}):
        response = httpx.post(f"{sandbox.appsprint_url}/_sandbox/page_faults", json=bad, timeout=10)
        assert response.status_code == 400 and response.json()["error"] == "bad_fault", bad
