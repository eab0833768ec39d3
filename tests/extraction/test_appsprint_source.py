"""The AppSprint dlt source against the sandbox export API over real HTTP, loading DuckDB files.

Expected data is derived from the sandbox world itself: a row is visible at clock ``c`` when its
``updated_at`` (served with millisecond precision) is ``<= c`` and, for installs, the version is
not superseded as of ``c`` (sandbox/world.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import traceback
from pathlib import Path

import dlt
import duckdb
import httpx
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from dlt.pipeline.exceptions import PipelineStepFailed
from dlt.sources import DltSource

from dlt_sources.appsprint import (
    LOAD_FILE_MAX_ROWS,
    AppSprintAuthError,
    AppSprintClient,
    AppSprintRequestError,
    AppSprintResponseError,
    AppSprintRetriesExhaustedError,
    appsprint,
    configure_pipeline,
    settings,
)
from dlt_sources.appsprint.pages import DuckDBPageReader
from dlt_sources.appsprint.rows import type_page, type_raw

TABLES = ("signal_links", "clicks", "installs", "events")
KEYS = {"signal_links": "id", "clicks": "click_id", "installs": "appsprint_id", "events": "event_id"}
WORLD_KEYS = {"signal_links": "link_id", "clicks": "click_id", "installs": "appsprint_id", "events": "event_id"}


# --- helpers --------------------------------------------------------------------------------------
@dataclasses.dataclass
class Run:
    pipeline: dlt.Pipeline
    source: DltSource
    db: Path

    def metrics(self, resource: str) -> dict:
        return self.source.resources[resource].custom_metrics

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.db), read_only=True) as con:
            return con.execute(sql).fetchall()


def make_pipeline(tmp_path: Path, name: str = "appsprint") -> tuple[dlt.Pipeline, Path]:
    db = tmp_path / f"warehouse_{name}.duckdb"
    pipeline = dlt.pipeline(
        pipeline_name=name,
        destination=dlt.destinations.duckdb(str(db)),
        dataset_name="appsprint",
        pipelines_dir=str(tmp_path / "pipelines"),
    )
    return configure_pipeline(pipeline), db


def source_for(sandbox, **kwargs):
    creds = sandbox.credentials
    kwargs.setdefault("export_token", creds.appsprint_export_token)
    return appsprint(base_url=sandbox.appsprint_api_url, app_id=creds.appsprint_app_id, **kwargs)


def run(sandbox, tmp_path: Path, name: str = "appsprint", **kwargs) -> Run:
    pipeline, db = make_pipeline(tmp_path, name)
    src = source_for(sandbox, **kwargs)
    pipeline.run(src)
    return Run(pipeline, src, db)


def arm(sandbox, **fault) -> None:
    httpx.post(f"{sandbox.appsprint_url}/_sandbox/faults", json=fault, timeout=10).raise_for_status()


def disarm(sandbox) -> None:
    httpx.delete(f"{sandbox.appsprint_url}/_sandbox/faults", timeout=10).raise_for_status()


def server_stats(sandbox) -> dict:
    return httpx.get(f"{sandbox.appsprint_url}/_sandbox/stats", timeout=10).json()["requests"]


def visible(world, table: str, clock: dt.datetime) -> pa.Table:
    t = world.table(table)
    links = world.table("signal_links")
    app_links = links.filter(pc.equal(links["app_id"], world.credentials.appsprint_app_id))
    if table == "signal_links":
        t = app_links
    if table == "clicks":
        t = t.filter(pc.is_in(t["link_id"], value_set=app_links["link_id"].combine_chunks()))
    upd = pc.floor_temporal(t["updated_at"], unit="millisecond")
    mask = pc.less_equal(upd, pa.scalar(clock, settings.TS))
    if table == "installs":
        sup = pc.floor_temporal(t["superseded_at"], unit="millisecond")
        mask = pc.and_(mask, pc.or_kleene(pc.is_null(sup), pc.greater(sup, pa.scalar(clock, settings.TS))))
    return t.filter(mask)


def expected_ids(world, table: str, clock: dt.datetime) -> set[str]:
    t = visible(world, table, clock)
    if table == "events":
        t = t.filter(pc.is_null(t["invalid_reason"]))
    return set(t[WORLD_KEYS[table]].to_pylist())


def expected_deliveries(world, clock: dt.datetime) -> list[tuple[str, dt.datetime]]:
    """(event_id, updated_at to the served millisecond) of every valid delivery visible at ``clock``."""
    t = visible(world, "events", clock)
    t = t.filter(pc.is_null(t["invalid_reason"]))
    upd = pc.floor_temporal(t["updated_at"], unit="millisecond")
    return sorted(zip(t["event_id"].to_pylist(), upd.to_pylist()))


def loaded_deliveries(r: Run) -> list[tuple[str, dt.datetime]]:
    return sorted(r.query("select event_id, updated_at from appsprint.events"))


def loaded_ids(r: Run, table: str) -> list[str]:
    return [row[0] for row in r.query(f"select {KEYS[table]} from appsprint.{table}")]


def table_snapshot(r: Run, table: str) -> list[tuple]:
    cols = [c[0] for c in r.query(f"describe appsprint.{table}") if not c[0].startswith("_dlt")]
    order = {"events": "event_id, updated_at"}.get(table) or KEYS.get(table, "resource, row_key, reason, updated_at")
    return r.query(f"select {', '.join(cols)} from appsprint.{table} order by {order}")


def clock_now(sandbox) -> dt.datetime:
    body = httpx.get(f"{sandbox.appsprint_url}/_sandbox/clock", timeout=10).json()
    return dt.datetime.fromisoformat(body["now"])


# --- full load ------------------------------------------------------------------------------------
def test_full_load_equals_visible_world(sandbox, tiny_world, tmp_path):
    r = run(sandbox, tmp_path)
    clock = clock_now(sandbox)
    for table in TABLES:
        ids = loaded_ids(r, table)
        if table == "events":  # one row per delivery, as served
            assert loaded_deliveries(r) == expected_deliveries(tiny_world, clock)
        else:
            assert len(ids) == len(set(ids)), f"{table}: an id loaded twice"
        assert set(ids) == expected_ids(tiny_world, table, clock), table
    # hostile events: each planted row is in quarantine with its reason, none in events
    ev = visible(tiny_world, "events", clock)
    hostile = ev.filter(pc.is_valid(ev["invalid_reason"]))
    assert hostile.num_rows > 0
    planted = {(e, reason) for e, reason in zip(hostile["event_id"].to_pylist(), hostile["invalid_reason"].to_pylist())}
    rows = r.query("select row_key, reason, raw, updated_at, resource from appsprint.quarantine")
    assert len(rows) == hostile.num_rows  # one quarantine row per delivery
    got = {(key, reason) for key, reason, *_ in rows}
    for event_id, kind in planted:
        match = [reason for key, reason in got if key == event_id]
        assert match, f"hostile event {event_id} ({kind}) not quarantined"
        assert any(reason.startswith(kind) or f"; {kind}" in reason for reason in match), (kind, match)
    for key, _reason, raw, updated_at, resource in rows:
        assert resource == "events"
        assert orjson.loads(raw)["event_id"] == key
        assert updated_at is not None
    bad_ts = [reason for _, reason in got if reason.startswith("bad_timestamp")]
    assert all("occurred_at=" in reason for reason in bad_ts)
    # the good rows of the pages that held hostile rows are loaded: nothing else is missing
    assert set(loaded_ids(r, "events")).isdisjoint({e for e, _ in planted})
    m = r.metrics("events")
    assert m["quarantined"] == hostile.num_rows
    assert m["rows_received"] == ev.num_rows


def test_types_in_duckdb(sandbox, tmp_path):
    r = run(sandbox, tmp_path)
    types = {(t, c): ty for t in (*TABLES, "quarantine") for c, ty, *_ in r.query(f"describe appsprint.{t}")}
    assert types[("events", "revenue")] == "DECIMAL(18,6)"
    for col in ("occurred_at", "received_at", "updated_at"):
        assert types[("events", col)] == "TIMESTAMP WITH TIME ZONE"
    for table, key in KEYS.items():
        assert types[(table, key)] == "VARCHAR"
        assert types[(table, "updated_at")] == "TIMESTAMP WITH TIME ZONE"
        assert (table, "_dlt_load_id") in types
    for col in ("campaign_id", "adgroup_id", "ad_id", "link_id"):
        assert types[("clicks", col)] == "VARCHAR"
    assert types[("events", "parameters")] == "VARCHAR"
    assert types[("installs", "attribution__confidence")] == "DOUBLE"
    for col in ("status", "network", "match_type", "link_id", "click_id"):
        assert types[("installs", f"attribution__{col}")] == "VARCHAR"
    assert types[("quarantine", "raw")] == "VARCHAR"
    assert types[("quarantine", "quarantined_at")] == "TIMESTAMP WITH TIME ZONE"
    # currency is upper-case 3 letters or NULL, parameters JSON objects, revenue never negative
    assert r.query(
        "select count(*) from appsprint.events where currency is not null and not regexp_full_match(currency, '[A-Z]{3}')"
    ) == [(0,)]
    assert r.query("select count(*) from appsprint.events where revenue < 0") == [(0,)]
    assert r.query(
        "select count(*) from appsprint.events where parameters is not null and json_type(parameters::json) <> 'OBJECT'"
    ) == [(0,)]
    assert r.query("select count(*) from appsprint.events where revenue is not null")[0][0] > 0


def test_config_from_dlt_config_and_secrets(sandbox, tmp_path, monkeypatch):
    creds = sandbox.credentials
    monkeypatch.setenv("SOURCES__APPSPRINT__BASE_URL", sandbox.appsprint_api_url)
    monkeypatch.setenv("SOURCES__APPSPRINT__APP_ID", creds.appsprint_app_id)
    monkeypatch.setenv("SOURCES__APPSPRINT__EXPORT_TOKEN", creds.appsprint_export_token)
    pipeline, db = make_pipeline(tmp_path)
    src = appsprint(resources=["signal_links"])
    pipeline.run(src)
    r = Run(pipeline, src, db)
    assert r.query("select count(*) from appsprint.signal_links")[0][0] > 0


def test_token_never_in_the_warehouse_or_state(sandbox, tmp_path):
    token = sandbox.credentials.appsprint_export_token
    r = run(sandbox, tmp_path)
    with duckdb.connect(str(r.db), read_only=True) as con:
        cols = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns where data_type = 'VARCHAR'"
        ).fetchall()
        for schema, table, col in cols:
            n = con.execute(
                f'select count(*) from "{schema}"."{table}" where "{col}" like ?', [f"%{token}%"]
            ).fetchall()[0][0]
            assert n == 0, f"token found in {schema}.{table}.{col}"
    state = orjson.dumps(r.pipeline.state, default=str).decode()
    assert token not in state


# --- incremental ------------------------------------------------------------------------------------
def test_incremental_second_run_brings_exactly_the_new_rows(sandbox, tiny_world, tmp_path):
    pipeline, db = make_pipeline(tmp_path)
    src1 = source_for(sandbox)
    pipeline.run(src1)
    clock1 = clock_now(sandbox)
    r1 = Run(pipeline, src1, db)
    installs_before = dict(r1.query("select appsprint_id, attribution__status from appsprint.installs"))

    sandbox.advance_clock(2 * 24 * 3600)
    clock2 = clock_now(sandbox)
    src2 = source_for(sandbox)
    pipeline.run(src2)
    r2 = Run(pipeline, src2, db)

    for table in TABLES:
        w = tiny_world.table(table)
        upd = pc.floor_temporal(w["updated_at"], unit="millisecond")
        new = pc.and_(
            pc.greater(upd, pa.scalar(clock1, settings.TS)), pc.less_equal(upd, pa.scalar(clock2, settings.TS))
        )
        if table == "signal_links":
            new = pc.and_(new, pc.equal(w["app_id"], tiny_world.credentials.appsprint_app_id))
        n_new = pc.sum(pc.cast(new, pa.int64())).as_py() or 0
        # second run read only rows updated after the first run's high-water mark
        assert r2.metrics(table)["rows_received"] == n_new, table
        ids = loaded_ids(r2, table)
        if table == "events":  # each delivery once, whichever run it arrived in
            assert loaded_deliveries(r2) == expected_deliveries(tiny_world, clock2)
        else:
            assert len(ids) == len(set(ids)), f"{table}: duplicate key after the second run"
        assert set(ids) == expected_ids(tiny_world, table, clock2), table
    # updated_since of run 2 = the largest updated_at of run 1
    assert r2.metrics("events")["updated_since"] is not None
    since = dt.datetime.fromisoformat(r2.metrics("events")["updated_since"].replace("Z", "+00:00"))
    assert since <= clock1

    # late attribution: an install whose second version became visible now carries it
    inst = tiny_world.table("installs")
    late = inst.filter(
        pc.and_(
            pc.greater(inst["updated_at"], pa.scalar(clock1, settings.TS)),
            pc.less_equal(inst["updated_at"], pa.scalar(clock2, settings.TS)),
        )
    )
    late_ids = set(late["appsprint_id"].to_pylist()) & set(installs_before)
    assert late_ids, "the tiny world should attribute some installs late"
    loaded = {
        k: (status, link)
        for k, status, link in r2.query(
            "select appsprint_id, attribution__status, attribution__link_id from appsprint.installs"
        )
    }
    for row in late.to_pylist():
        if row["appsprint_id"] in late_ids and (row["superseded_at"] is None or row["superseded_at"] > clock2):
            assert loaded[row["appsprint_id"]] == (row["attribution_status"], row["link_id"])
    # a third run with nothing new adds nothing
    src3 = source_for(sandbox)
    pipeline.run(src3)
    assert Run(pipeline, src3, db).metrics("events")["rows_received"] == 0


def test_event_delivered_twice_is_two_raw_rows_and_one_latest(sandbox, tiny_world, tmp_path):
    """Raw events are one row per delivery (append); the latest delivery per event_id is what
    staging keeps (stg_appsprint__events; its dbt tests check one row per event_id). Across runs
    too: a re-delivery arriving in a later run is one more row, not a changed one."""
    pipeline, db = make_pipeline(tmp_path)
    src1 = source_for(sandbox)
    pipeline.run(src1)
    sandbox.advance_clock(3 * 24 * 3600)  # every planned delivery visible
    clock = clock_now(sandbox)
    src2 = source_for(sandbox)
    pipeline.run(src2)
    r = Run(pipeline, src2, db)
    ev = visible(tiny_world, "events", clock).filter(pc.is_null(visible(tiny_world, "events", clock)["invalid_reason"]))
    counts = pc.value_counts(ev["event_id"])
    twice = {c["values"] for c in counts.to_pylist() if c["counts"] == 2}
    assert twice, "the tiny world delivers some events twice"
    assert loaded_deliveries(r) == expected_deliveries(tiny_world, clock)
    loaded = dict(r.query("select event_id, count(*) from appsprint.events group by 1"))
    assert {e for e, n in loaded.items() if n == 2} == twice
    # both deliveries are identical but for updated_at (and the load they came in)
    cols = [c[0] for c in r.query("describe appsprint.events") if c[0] not in ("updated_at", "_dlt_load_id")]
    distinct = r.query(f"select count(*) from (select distinct {', '.join(cols)} from appsprint.events)")[0][0]
    assert distinct == len(set(ev["event_id"].to_pylist()))
    # some re-deliveries arrived in the second run: the raw rows are the same as one clean run's
    assert r.query("select count(distinct _dlt_load_id) from appsprint.events")[0][0] == 2
    clean = run(sandbox, tmp_path, name="clean")
    assert table_snapshot(clean, "events") == table_snapshot(r, "events")


def test_pagination_with_a_small_page_limit(sandbox, tiny_world, tmp_path):
    r_small = run(sandbox, tmp_path, name="small", page_limit=37)
    r_big = run(sandbox, tmp_path, name="big")
    for table in TABLES:
        assert table_snapshot(r_small, table) == table_snapshot(r_big, table), table
        n = r_small.metrics(table)["rows_received"]
        pages = r_small.metrics(table)["pages"]
        assert pages >= -(-n // 37) and pages <= -(-n // 37) + 1, (table, n, pages)
    assert r_small.metrics("events")["pages"] > 50


def test_prefetch_off_gives_the_same_data(sandbox, tmp_path):
    a = run(sandbox, tmp_path, name="nopf", prefetch_pages=0, resources=["events"])
    b = run(sandbox, tmp_path, name="pf", prefetch_pages=4, page_limit=100, resources=["events"])
    assert table_snapshot(a, "events") == table_snapshot(b, "events")


def test_a_big_load_is_split_into_bounded_load_files_and_loses_nothing(sandbox, tmp_path, monkeypatch):
    # the product's pipelines get LOAD_FILE_MAX_ROWS rows per load file, loaded one at a time (a
    # whole backfill in one file was one INSERT filling DuckDB's memory limit)
    make_pipeline(tmp_path, "bounded")
    assert dlt.config.get("bounded.data_writer.file_max_items") == LOAD_FILE_MAX_ROWS
    assert dlt.config.get("bounded.load.workers") == 1
    # a user's own value wins; with a small one (and the source's batches shrunk to the tiny
    # world's scale: dlt rotates a file after the batch that crosses the limit) events span files
    dlt.config["split.data_writer.file_max_items"] = 500
    monkeypatch.setattr(settings, "YIELD_BATCH_ROWS", 200)
    r_split = run(sandbox, tmp_path, name="split", resources=["events"], page_limit=10)
    r_whole = run(sandbox, tmp_path, name="whole", resources=["events"], page_limit=10)
    trace = r_split.pipeline.last_trace
    assert trace is not None and trace.last_load_info is not None
    jobs = trace.last_load_info.load_packages[0].jobs["completed_jobs"]
    files = [j for j in jobs if j.job_file_info.table_name == "events"]
    n = r_split.query("select count(*) from appsprint.events")[0][0]
    assert n > 2000 and len(files) >= n // 1000  # rotated after the batch crossing 500 rows
    assert table_snapshot(r_split, "events") == table_snapshot(r_whole, "events")


# --- failures and resumption ------------------------------------------------------------------------
def test_run_killed_by_401_midway_then_rerun_equals_clean_run(sandbox, tmp_path):
    token = sandbox.credentials.appsprint_export_token
    pipeline, db = make_pipeline(tmp_path, "killed")
    # events fail on every request (a fault that never clears): the run dies after the other
    # resources were read
    arm(sandbox, endpoint="events", kind="code", status=401, code=401, count=None)
    with pytest.raises(PipelineStepFailed) as exc:
        pipeline.run(source_for(sandbox, page_limit=100))
    text = "".join(traceback.format_exception(exc.value))
    assert "create a new export token for app" in text
    assert token not in text
    disarm(sandbox)
    src = source_for(sandbox, page_limit=100)
    pipeline.run(src)
    killed = Run(pipeline, src, db)
    clean = run(sandbox, tmp_path, name="clean")
    for table in (*TABLES, "quarantine"):
        snap_k = table_snapshot(killed, table)
        snap_c = table_snapshot(clean, table)
        if table == "quarantine":  # quarantined_at differs between runs
            snap_k = [row[:-1] for row in snap_k]
            snap_c = [row[:-1] for row in snap_c]
        assert snap_k == snap_c, table


def test_run_killed_after_n_pages_then_rerun_equals_clean_run(sandbox, tmp_path, monkeypatch):
    pipeline, db = make_pipeline(tmp_path, "killed")
    original = AppSprintClient.get_page
    seen = {"pages": 0}

    def crash_after_five_event_pages(self, endpoint, params):
        if endpoint == "events":
            seen["pages"] += 1
            if seen["pages"] > 5:
                raise RuntimeError("simulated crash mid-run")
        return original(self, endpoint, params)

    monkeypatch.setattr(AppSprintClient, "get_page", crash_after_five_event_pages)
    with pytest.raises(PipelineStepFailed, match="simulated crash"):
        pipeline.run(source_for(sandbox, page_limit=100))
    assert seen["pages"] == 6
    monkeypatch.setattr(AppSprintClient, "get_page", original)
    # nothing of the failed run is committed: no incremental state, the run starts over
    src2 = source_for(sandbox, page_limit=100)
    pipeline.run(src2)
    killed = Run(pipeline, src2, db)
    assert killed.metrics("events")["updated_since"] is None
    clean = run(sandbox, tmp_path, name="clean")
    for table in TABLES:
        assert table_snapshot(killed, table) == table_snapshot(clean, table), table


def test_429_honours_retry_after_and_counts_retries(sandbox, tmp_path):
    arm(sandbox, endpoint="events", kind="http", status=429, retry_after=1, count=2)
    started = time.monotonic()
    r = run(sandbox, tmp_path, resources=["events"])
    elapsed = time.monotonic() - started
    m = r.metrics("events")
    assert m["retries_by_reason"] == {"rate_limited": 2}
    assert m["retries"] == 2
    assert m["retry_after_waited_s"] >= 2.0
    assert elapsed >= 2.0
    assert server_stats(sandbox)["events|fault"] == 2
    assert r.query("select count(*) from appsprint.events")[0][0] > 0


def test_502_html_and_timeouts_are_retried(sandbox, tiny_world, tmp_path):
    arm(sandbox, endpoint="events", kind="http", status=502, count=2)
    arm(sandbox, endpoint="clicks", kind="timeout", seconds=6, count=1)
    r = run(sandbox, tmp_path, resources=["events", "clicks"], timeout=2.0)
    assert r.metrics("events")["retries_by_reason"] == {"http_502": 2}
    assert r.metrics("clicks")["retries_by_reason"] == {"timeout": 1}
    clock = clock_now(sandbox)
    assert set(loaded_ids(r, "events")) == expected_ids(tiny_world, "events", clock)
    assert set(loaded_ids(r, "clicks")) == expected_ids(tiny_world, "clicks", clock)


def test_persistent_5xx_gives_up_after_bounded_retries(sandbox, tmp_path):
    arm(sandbox, endpoint="signal-links", kind="http", status=503, count=None)
    pipeline, _ = make_pipeline(tmp_path)
    with pytest.raises(PipelineStepFailed) as exc:
        pipeline.run(source_for(sandbox, resources=["signal_links"], max_retries=2))
    assert isinstance(exc.value.__cause__, Exception)
    assert "giving up after 3 attempts" in str(exc.value)
    assert "signal-links" in str(exc.value)
    assert server_stats(sandbox)["signal-links|fault"] == 3


def test_wrong_token_gives_advice_without_the_token(sandbox, tmp_path):
    wrong = "as_export_wrong_0123456789abcdef"
    pipeline, _ = make_pipeline(tmp_path)
    with pytest.raises(PipelineStepFailed) as exc:
        pipeline.run(source_for(sandbox, export_token=wrong))
    text = "".join(traceback.format_exception(exc.value))
    app_id = sandbox.credentials.appsprint_app_id
    assert f"create a new export token for app {app_id}" in text
    assert "SOURCES__APPSPRINT__EXPORT_TOKEN" in text
    assert wrong not in text
    assert sandbox.credentials.appsprint_export_token not in text


# --- the HTTP client on its own (mock transport) -----------------------------------------------------
def _client(handler, **kwargs) -> AppSprintClient:
    kwargs.setdefault("sleep", lambda s: None)
    return AppSprintClient(
        "https://appsprint.test/v1", "app_1", "tok_secret_123", transport=httpx.MockTransport(handler), **kwargs
    )


def test_body_with_an_unexpected_shape_is_a_clear_error_naming_the_endpoint():
    client = _client(lambda req: httpx.Response(200, json={"items": []}))
    with pytest.raises(AppSprintResponseError) as exc:
        client.get_page("installs", {"limit": 10})
    assert "installs" in str(exc.value) and "unexpected reply shape" in str(exc.value)
    client = _client(lambda req: httpx.Response(200, json=[1, 2]))
    with pytest.raises(AppSprintResponseError):
        client.get_page("events", {})


def test_html_200_bodies_are_retried_then_reported():
    calls = []

    def handler(req):
        calls.append(req)
        if len(calls) < 3:
            return httpx.Response(200, text="<html>captive portal</html>", headers={"content-type": "text/html"})
        return httpx.Response(200, json={"data": [], "meta": {"next_cursor": None, "request_id": "r"}})

    client = _client(handler)
    page = client.get_page("events", {})
    assert page.rows == [] and client.stats.retries_by_reason == {"invalid_body": 2}
    assert calls[0].headers["authorization"] == "Bearer tok_secret_123"

    client = _client(lambda req: httpx.Response(200, text="<html>x</html>"), max_retries=1)
    with pytest.raises(AppSprintRetriesExhaustedError) as exc:
        client.get_page("events", {})
    assert "events" in str(exc.value) and "not JSON" in str(exc.value)


def test_retry_after_is_honoured_and_excessive_waits_stop():
    waits: list[float] = []
    responses = [httpx.Response(429, json={"error": "rate_limited"}, headers={"Retry-After": "7"})]

    def handler(req):
        if responses:
            return responses.pop()
        return httpx.Response(200, json={"data": [{"a": 1}], "meta": {"next_cursor": None}})

    client = _client(handler, sleep=waits.append)
    assert client.get_page("events", {}).rows == [{"a": 1}]
    assert waits == [7.0]
    client = _client(lambda req: httpx.Response(429, headers={"Retry-After": "3600"}), max_retry_after=60)
    with pytest.raises(AppSprintRetriesExhaustedError, match="Retry-After"):
        client.get_page("events", {})


def test_server_echoing_the_token_is_scrubbed():
    client = _client(lambda req: httpx.Response(400, json={"error": "bad", "message": "token tok_secret_123 is odd"}))
    with pytest.raises(AppSprintRequestError) as exc:
        client.get_page("events", {})
    assert "tok_secret_123" not in str(exc.value) and "***" in str(exc.value)


def test_403_is_an_auth_error_with_advice():
    client = _client(lambda req: httpx.Response(403, json={"error": "forbidden", "message": "no"}))
    with pytest.raises(AppSprintAuthError) as exc:
        client.get_page("clicks", {})
    assert "create a new export token for app app_1" in str(exc.value)
    assert "tok_secret_123" not in str(exc.value)


def test_cursor_paging_follows_next_cursor_with_prefetch():
    seen = []

    def handler(req):
        cursor = req.url.params.get("cursor")
        seen.append((cursor, req.url.params.get("updated_since"), req.url.params.get("limit")))
        n = int(cursor or 0)
        nxt = str(n + 1) if n < 4 else None
        return httpx.Response(200, json={"data": [{"i": n}], "meta": {"next_cursor": nxt, "request_id": "r"}})

    client = _client(handler)
    pages = list(client.iter_pages("events", updated_since="2026-06-15T12:00:00.000000Z", limit=5, prefetch=2))
    assert [p.parsed_rows()[0]["i"] for p in pages] == [0, 1, 2, 3, 4]
    assert seen[0] == (None, "2026-06-15T12:00:00.000000Z", "5")
    assert [s[0] for s in seen] == [None, "1", "2", "3", "4"]


# --- typing one page ------------------------------------------------------------------------------
def _event(**kw):
    row = {
        "event_id": "ev_1",
        "appsprint_id": "as_1",
        "event_type": "purchase",
        "event_name": None,
        "occurred_at": "2026-06-15T11:00:00.000Z",
        "received_at": "2026-06-15T11:00:01.000Z",
        "revenue": 9.99,
        "currency": "usd",
        "source": "sdk",
        "environment": "production",
        "ip": "1.2.3.4",
        "user_agent": "UA",
        "customer_user_id": "u1",
        "parameters": {"plan": "pro"},
        "updated_at": "2026-06-15T11:00:02.000Z",
    }
    row.update(kw)
    return row


def type_rows(reader: str, spec, rows):
    """Type rows through one of the two readers: parsed rows (orjson) or page bodies (DuckDB)."""
    if reader == "rows":
        return type_page(spec, rows)
    body = orjson.dumps({"data": rows, "meta": {"next_cursor": None, "request_id": "r"}})
    with DuckDBPageReader(spec) as duck:
        raw = duck.read([body, orjson.dumps({"data": [], "meta": {}})])
    assert raw is not None
    return type_raw(spec, raw)


READERS = pytest.mark.parametrize("reader", ["rows", "duckdb"])


@READERS
@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"occurred_at": "2026-13-45T25:61:00Z"}, "bad_timestamp: occurred_at='2026-13-45T25:61:00Z'"),
        ({"occurred_at": "2026-02-30T10:00:00Z"}, "bad_timestamp: occurred_at='2026-02-30T10:00:00Z'"),
        ({"currency": "usd1"}, "bad_currency: currency='usd1'"),
        ({"currency": "US"}, "bad_currency: currency='US'"),
        ({"revenue": -4.99}, "negative_revenue: revenue=-4.99"),
        ({"revenue": "4.99"}, "bad_revenue"),
        ({"event_id": None}, "missing_id"),
        ({"event_id": ""}, "missing_id"),
        ({"parameters": {"blob": "x" * 17000}}, "event_too_large"),
        ({"parameters": {f"k{i}": i for i in range(65)}}, "event_too_large: parameters has 65 keys"),
        ({"parameters": {"k" * 129: 1}}, "event_too_large: parameter key"),
        ({"parameters": {"k": "v" * 2049}}, "event_too_large: parameter 'k' is a string of 2049 chars"),
        ({"parameters": [1, 2]}, "bad_parameters"),
        ({"updated_at": None}, "bad_timestamp: updated_at=None"),
    ],
)
def test_type_page_quarantines_each_hostile_row_and_keeps_the_rest(reader, change, reason):
    rows = [_event(event_id=f"ev_{i}") for i in range(5)]
    rows.insert(2, _event(**{"event_id": "ev_bad", **change}))
    typed = type_rows(reader, settings.EVENTS, rows)
    assert typed.table.num_rows == 5
    assert typed.table["event_id"].to_pylist() == [f"ev_{i}" for i in range(5)]
    q = typed.quarantine.to_pylist()
    assert len(q) == 1 and q[0]["reason"].startswith(reason), q[0]["reason"]
    assert orjson.loads(q[0]["raw"]) == rows[2]


@READERS
def test_type_page_types_and_normalises(reader):
    rows = [
        _event(),
        _event(event_id=12345, revenue=None, currency=None, parameters=None, ip=None),
        _event(event_id="ev_3", parameters='{"a": 1}'),
    ]
    typed = type_rows(reader, settings.EVENTS, rows)
    t = typed.table
    assert t.schema == settings.EVENTS.arrow_schema
    first = t.slice(0, 1).to_pylist()[0]
    assert str(first["revenue"]) == "9.990000" and first["currency"] == "USD"
    assert first["occurred_at"] == dt.datetime(2026, 6, 15, 11, tzinfo=dt.UTC)
    assert first["parameters"] == '{"plan":"pro"}'
    assert t["event_id"].to_pylist() == ["ev_1", "12345", "ev_3"]
    assert t["parameters"].to_pylist()[2] == '{"a":1}'
    assert typed.quarantine is None


def test_rows_that_are_not_objects_are_quarantined():
    typed = type_page(settings.EVENTS, [_event(), "not a row", 7])
    assert typed.table.num_rows == 1
    assert typed.quarantine is not None
    q = typed.quarantine.to_pylist()
    assert [r["raw"] for r in q] == ['"not a row"', "7"]
    assert all(r["reason"].startswith("not_an_object") for r in q)
    # DuckDB cannot read such a page: the source then types it page by page from orjson
    with DuckDBPageReader(settings.EVENTS) as duck:
        assert duck.read([orjson.dumps({"data": [_event(), "not a row"], "meta": {}})]) is None


def test_bulk_parse_and_row_parse_load_the_same(sandbox, tmp_path):
    # JSON pages (bulk_parse decides how they are parsed; Arrow pages are not JSON)
    a = run(sandbox, tmp_path, name="bulk", bulk_parse=True, page_limit=200, wire="json")
    b = run(sandbox, tmp_path, name="rows", bulk_parse=False, page_limit=200, wire="json")
    assert a.metrics("events")["pages_by_wire"] == {"json": a.metrics("events")["pages"]}
    for table in (*TABLES, "quarantine"):
        snap_a, snap_b = table_snapshot(a, table), table_snapshot(b, table)
        if table == "quarantine":
            snap_a = [row[:3] + row[4:-1] for row in snap_a]  # raw text may differ in formatting
            snap_b = [row[:3] + row[4:-1] for row in snap_b]
        assert snap_a == snap_b, table


@READERS
def test_type_page_flattens_install_attribution(reader):
    rows = [
        {
            "appsprint_id": "as_1",
            "installed_at": "2026-06-15T10:00:00.000Z",
            "platform": "ios",
            "attribution": {
                "status": "attributed",
                "network": "tiktok",
                "match_type": "ttclid",
                "confidence": 0.98,
                "link_id": "lnk_1",
                "click_id": "clk_1",
            },
            "updated_at": "2026-06-15T10:00:05.000Z",
        },
        {"appsprint_id": "as_2", "attribution": None, "updated_at": "2026-06-15T10:00:06.000Z"},
    ]
    t = type_rows(reader, settings.INSTALLS, rows).table.to_pylist()
    assert t[0]["attribution__status"] == "attributed" and t[0]["attribution__confidence"] == 0.98
    assert t[0]["attribution__click_id"] == "clk_1"
    assert t[1]["attribution__status"] is None
