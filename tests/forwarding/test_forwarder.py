"""The forwarder against the sandbox TikTok server over real HTTP."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math

import duckdb
import httpx
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from sandbox.synthetic_queue import synthetic_queue
from signal_campaigns.forwarding import (
    AUTH_ADVICE,
    EventsApiAuthError,
    EventsApiUnavailableError,
    ForwarderConfig,
    PayloadError,
    RetryPolicy,
    forward_events,
)
from tests.conftest import FIXED_ANCHOR

FAST = RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=0.05)


def received(ep, pixel: str | None = None) -> dict:
    params = {"pixel_code": pixel} if pixel else {}
    return httpx.get(f"{ep.tiktok_url}/_sandbox/events/received", params=params, timeout=30).json()


def stored(ep, pixel: str | None = None, kind: str = "production") -> list[dict]:
    out: list[dict] = []
    while True:
        params: dict[str, str | int] = {"payloads": "true", "limit": 10000, "offset": len(out), "kind": kind}
        if pixel:
            params["pixel_code"] = pixel
        page = httpx.get(f"{ep.tiktok_url}/_sandbox/events/received", params=params, timeout=60).json()["payloads"]
        out.extend(page["events"])
        if len(out) >= page["total"] or not page["events"]:
            return out


def arm(ep, **fault) -> None:
    httpx.post(
        f"{ep.tiktok_url}/_sandbox/faults", json={"endpoint": "event/track", **fault}, timeout=10
    ).raise_for_status()


def forward(path, ep, token=None, **kw):
    retry = kw.pop("retry", FAST)
    timeout = kw.pop("timeout", 10.0)
    return forward_events(
        path,
        base_url=ep.tiktok_url,
        token=token if token is not None else ep.credentials.events_api_token,
        config=ForwarderConfig(**kw),
        retry=retry,
        timeout=timeout,
    )


def ledger(path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return dict(conn.execute("SELECT status, count(*) FROM main.event_delivery_ledger GROUP BY 1").fetchall())


def ledger_rows(path, where: str = "true") -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.execute(
            f"SELECT event_id, status, attempts, last_code, last_message, batch_id "
            f"FROM main.event_delivery_ledger WHERE {where} ORDER BY event_id"
        ).fetchall()


def warehouse_text(path) -> str:
    """Every string value in the warehouse, concatenated (to look for secrets)."""
    parts: list[str] = []
    with duckdb.connect(str(path), read_only=True) as conn:
        tables = conn.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
        for schema, table in tables:
            parts.append(str(conn.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall()))
    return "\n".join(parts)


@pytest.mark.parametrize("background", [False, True], ids=["inline", "background"])
def test_payload_shape_per_event_type(sandbox, make_warehouse, background):
    path, rows = make_warehouse(60)
    summary = forward(path, sandbox, build_in_background=background)
    assert summary.sent == 60 and summary.dead == 0 and summary.pending == 0
    assert {"prepare", "build", "journal", "post", "fold"} <= set(summary.phases)  # the bench's breakdown
    by_id = {r["event_id"]: r for r in rows.to_pylist()}
    events = stored(sandbox)
    assert len(events) == 60
    seen_types = set()
    for item in events:
        ev = item["event"]
        src = by_id[ev["event_id"]]
        seen_types.add(ev["event"])
        assert ev["event"] == src["tiktok_event"]
        assert isinstance(ev["event_time"], int) and ev["event_time"] == src["event_time"]
        assert ev["user"]["ttclid"] == src["ttclid"] and ev["user"]["ip"] == src["ip"]
        assert ev["user"]["user_agent"] == src["user_agent"]
        assert ev["page"] == {"url": src["page_url"]}
        ext = src["external_id_source"]
        if ext is None:
            assert "external_id" not in ev["user"]
        elif len(ext) == 64:  # pre-hashed (upper-case) in the queue: lower-cased, not re-hashed
            assert ev["user"]["external_id"] == ext.lower()
        else:
            assert ev["user"]["external_id"] == hashlib.sha256(ext.strip().encode()).hexdigest()
        if src["tiktok_event"] in ("Purchase", "Subscribe"):
            assert ev["properties"] == {"value": float(src["value"]), "currency": "USD"}
        else:
            assert "properties" not in ev
    assert {"Purchase", "Download", "Subscribe"} <= seen_types


def test_purchase_without_revenue_still_has_value_and_currency(sandbox, make_warehouse, pixel_codes):
    rows = synthetic_queue(5, pixel_codes, FIXED_ANCHOR)
    rows = rows.set_column(rows.schema.get_field_index("tiktok_event"), "tiktok_event", pa.array(["Purchase"] * 5))
    rows = rows.set_column(rows.schema.get_field_index("value"), "value", pa.array([0] * 5, pa.decimal128(18, 6)))
    rows = rows.set_column(rows.schema.get_field_index("currency"), "currency", pa.array(["EUR"] * 5))
    path, _ = make_warehouse(rows=rows)
    forward(path, sandbox)
    for item in stored(sandbox):
        assert item["event"]["properties"] == {"value": 0.0, "currency": "EUR"}


def test_batches_per_pixel_of_at_most_1000_and_test_events_alone(sandbox, make_warehouse, pixel_codes):
    rows = synthetic_queue(2503, pixel_codes, FIXED_ANCHOR)
    is_test = [i in (5, 700, 1900) for i in range(rows.num_rows)]
    rows = rows.set_column(rows.schema.get_field_index("is_test"), "is_test", pa.array(is_test))
    path, _ = make_warehouse(rows=rows)
    summary = forward(path, sandbox, test_event_code="TEST123")
    assert summary.sent == 2503
    total_requests = 0
    for pixel in pixel_codes:
        mask = pc.and_(pc.equal(rows["pixel_code"], pixel), pc.invert(rows["is_test"]))
        n_prod = pc.sum(pc.cast(mask, pa.int64())).as_py()
        n_test = sum(1 for p, t in zip(rows["pixel_code"].to_pylist(), is_test) if t and p == pixel)
        c = received(sandbox, pixel)
        assert c["unique_events"] == n_prod and c["test_events"] == n_test
        assert c["test_requests"] == n_test  # each test event alone
        assert c["requests"] - c["test_requests"] == math.ceil(n_prod / 1000)  # full batches of <= 1000
        total_requests += c["requests"]
        for item in stored(sandbox, pixel, kind="test"):
            assert item["test_event_code"] == "TEST123"
    assert summary.batches == total_requests == summary.requests


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "code", "code": 40100},
        {"kind": "code", "code": 40133},
        {"kind": "code", "code": 40132},
        {"kind": "code", "code": 50000},
        {"kind": "http", "status": 502},
        {"kind": "timeout", "seconds": 6.0},
    ],
    ids=["40100", "40133", "40132", "50000", "http502", "timeout"],
)
def test_retryable_faults_are_retried_until_all_sent(sandbox, make_warehouse, fault):
    path, _rows = make_warehouse(2500)
    arm(sandbox, count=3, **fault)
    # The client timeout sits well above a normal 1,000-event POST on a loaded 2-core CI machine
    # (0.5 s once timed out a healthy request) and well below the fault's 6 s hold.
    summary = forward(path, sandbox, timeout=2.0 if fault["kind"] == "timeout" else 10.0)
    assert summary.sent == 2500 and summary.pending == 0 and summary.dead == 0
    assert sum(summary.retries.values()) == 3
    reason = {"http": "http_502", "timeout": "timeout"}.get(fault["kind"], f"code_{fault.get('code')}")
    assert summary.retries == {reason: 3}
    assert received(sandbox)["unique_events"] == 2500
    assert ledger(path) == {"sent": 2500}


def test_retries_are_bounded_and_events_stay_pending(sandbox, make_warehouse):
    path, _ = make_warehouse(1500)
    arm(sandbox, kind="code", code=50000, count=None)
    with pytest.raises(EventsApiUnavailableError) as info:
        forward(path, sandbox, retry=RetryPolicy(max_attempts=3, base_delay=0.001))
    assert info.value.summary.retries == {"code_50000": 3}
    assert ledger(path) == {"pending": 1500}
    httpx.delete(f"{sandbox.tiktok_url}/_sandbox/faults", timeout=10)
    assert forward(path, sandbox).sent == 1500
    assert ledger(path) == {"sent": 1500}


def test_partial_success_20001_counts_as_sent(sandbox, make_warehouse, caplog):
    path, _ = make_warehouse(10)
    arm(sandbox, kind="code", code=20001, count=1)
    with caplog.at_level(logging.WARNING):
        summary = forward(path, sandbox)
    assert summary.sent == 10 and summary.partial_success_batches == 1
    assert {r[3] for r in ledger_rows(path)} == {0, 20001}  # one batch (one pixel) partially successful
    assert "partial success" in caplog.text


def test_revoked_token_stops_with_advice_and_loses_nothing(sandbox, make_warehouse, caplog):
    path, _ = make_warehouse(2500)
    token = sandbox.credentials.events_api_token
    assert forward(path, sandbox, max_events=1000).sent == 1000
    httpx.post(f"{sandbox.tiktok_url}/_sandbox/tokens/revoke", json={"token": token}, timeout=10).raise_for_status()
    with caplog.at_level(logging.DEBUG), pytest.raises(EventsApiAuthError) as info:
        forward(path, sandbox)
    err = info.value
    assert err.code == 40105 and AUTH_ADVICE in str(err) and "40105" in str(err)
    assert token not in str(err) and token not in repr(err.args)
    assert ledger(path) == {"sent": 1000, "pending": 1500}
    assert err.summary.pending == 1500 and err.summary.in_flight == 0
    # reconnect with a new token: the rest goes, nothing lost, nothing twice
    new = httpx.post(f"{sandbox.tiktok_url}/_sandbox/tokens", json={"kind": "events"}, timeout=10).json()["token"]
    assert forward(path, sandbox, token=new).sent == 1500
    c = received(sandbox)
    assert c["unique_events"] == 2500 and c["duplicates_dropped"] == 0
    assert token not in caplog.text and new not in caplog.text
    text = warehouse_text(path)
    assert token not in text and new not in text


def test_token_without_pixel_permission_is_an_auth_error(sandbox, make_warehouse):
    path, _ = make_warehouse(10)
    with pytest.raises(EventsApiAuthError) as info:
        forward(path, sandbox, token=sandbox.credentials.standard_access_token)
    assert info.value.code == 40001
    assert ledger(path) == {"pending": 10}


def test_invalid_events_are_bisected_and_dead_lettered(sandbox, make_warehouse, pixel_codes):
    rows = synthetic_queue(1800, pixel_codes, FIXED_ANCHOR)
    bad = {17, 444, 1203}
    old = int((FIXED_ANCHOR - dt.timedelta(days=40)).timestamp())
    times = [old if i in bad else t for i, t in enumerate(rows["event_time"].to_pylist())]
    rows = rows.set_column(rows.schema.get_field_index("event_time"), "event_time", pa.array(times, pa.int64()))
    path, _ = make_warehouse(rows=rows)
    summary = forward(path, sandbox)
    bad_ids = {rows["event_id"][i].as_py() for i in bad}
    assert summary.dead == 3 and summary.sent == 1797 and summary.pending == 0
    dead = ledger_rows(path, "status = 'dead'")
    assert {r[0] for r in dead} == bad_ids
    for r in dead:
        assert r[3] == 40002 and "event_time" in r[4] and "older than" in r[4]
    assert received(sandbox)["unique_events"] == 1797
    assert summary.retries.get("bisect_40002", 0) >= 3


def test_a_row_that_cannot_become_a_payload_stops_the_run_clearly_and_loses_nothing(
    sandbox, make_warehouse, pixel_codes
):
    rows = synthetic_queue(2400, pixel_codes[:1], FIXED_ANCHOR)
    times = rows["event_time"].to_pylist()
    times[2100] = None  # sorted last: in the 3rd batch, built ahead while the first two are sent
    rows = rows.set_column(rows.schema.get_field_index("event_time"), "event_time", pa.array(times, pa.int64()))
    path, _ = make_warehouse(rows=rows)
    bad = rows["event_id"][2100].as_py()
    with pytest.raises(PayloadError) as info:
        forward(path, sandbox)
    assert info.value.event_id == bad and f"event_id={bad!r}" in str(info.value)
    assert "fix or exclude it in the events_to_forward model" in str(info.value)
    assert info.value.summary.sent == 2000
    assert ledger(path) == {"sent": 2000, "pending": 400}
    assert received(sandbox)["unique_events"] == 2000


def test_dry_run_writes_payloads_and_sends_nothing(sandbox, make_warehouse):
    path, _rows = make_warehouse(1200)
    summary = forward_events(path, config=ForwarderConfig(dry_run=True))
    assert summary.dry_run_payloads == 1200 and summary.sent == 0
    assert received(sandbox)["requests"] == 0
    with duckdb.connect(str(path), read_only=True) as conn:
        n, _batches, max_per = conn.execute(
            "SELECT count(*), count(DISTINCT batch_id), max(c) FROM forwarding.event_payloads_dry_run, "
            "(SELECT batch_id b, count(*) c FROM forwarding.event_payloads_dry_run GROUP BY 1) WHERE b = batch_id"
        ).fetchall()[0]
        assert n == 1200 and max_per <= 1000
        payload = conn.execute(
            "SELECT payload::VARCHAR FROM forwarding.event_payloads_dry_run WHERE event_id = 'evt_00000001'"
        ).fetchall()[0][0]
        tables = {r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert "event_delivery_ledger" not in tables
    import orjson

    ev = orjson.loads(payload)
    assert ev["event_id"] == "evt_00000001" and len(ev["user"]["external_id"]) == 64
