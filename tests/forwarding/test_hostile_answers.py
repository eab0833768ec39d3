"""Events API answers that must not cost good events: a 40002 about the request itself, a 40002 that
arrives mid-bisection, partial success, and web events without a page URL (sandbox over HTTP)."""

from __future__ import annotations

import datetime as dt

import httpx
import pyarrow as pa
import pytest

from sandbox.synthetic_queue import synthetic_queue
from signal_campaigns.forwarding import EventsApiRequestError, PayloadError
from signal_campaigns.forwarding.payload import TEST_EVENT_PAGE_URL
from signal_campaigns.tiktok.events_api import invalid_event_index
from signal_campaigns.tiktok.marketing import send_test_event
from tests.conftest import FIXED_ANCHOR
from tests.forwarding.test_forwarder import arm, forward, ledger, ledger_rows, received, stored, warehouse_text


def disarm(ep) -> None:
    httpx.delete(f"{ep.tiktok_url}/_sandbox/faults", timeout=10).raise_for_status()


def with_column(rows: pa.Table, name: str, values: list, kind: pa.DataType) -> pa.Table:
    return rows.set_column(rows.schema.get_field_index(name), name, pa.array(values, kind))


def test_request_level_40002_stops_with_every_event_pending_then_delivers_each_once(sandbox, make_warehouse):
    path, _ = make_warehouse(8)
    token = sandbox.credentials.events_api_token
    # a refusal of the request itself: its message names no event (and echoes the token, to be scrubbed)
    arm(sandbox, kind="code", code=40002, message=f"event_source_id: Invalid value for token {token}.", count=None)
    with pytest.raises(EventsApiRequestError) as info:
        forward(path, sandbox)
    err = info.value
    text = str(err)
    assert err.code == 40002 and "event_source_id" in text  # what TikTok refused
    assert "names no event" in text and "no event was dead-lettered" in text  # why nothing was bisected
    assert "Check the pixel code (event_source_id)" in text and "stay pending" in text  # what to do
    assert token not in text and token not in warehouse_text(path)
    assert err.summary.dead == 0 and err.summary.pending == 8 and err.summary.in_flight == 0
    assert "bisect_40002" not in err.summary.retries
    assert ledger(path) == {"pending": 8}
    attempted = ledger_rows(path, "attempts > 0")
    assert attempted and all(r[3] == 40002 and "event_source_id" in r[4] for r in attempted)
    assert received(sandbox)["events_received"] == 0
    disarm(sandbox)  # the fault is fixed: the next run delivers all 8, each exactly once
    summary = forward(path, sandbox)
    assert summary.sent == 8 and summary.dead == 0 and ledger(path) == {"sent": 8}
    c = received(sandbox)
    assert c["events_received"] == 8 and c["unique_events"] == 8 and c["duplicates_dropped"] == 0


def test_request_level_40002_during_bisection_dead_letters_nothing(sandbox, make_warehouse, pixel_codes):
    rows = synthetic_queue(8, pixel_codes[:1], FIXED_ANCHOR)
    times = rows["event_time"].to_pylist()
    times[5] = int((FIXED_ANCHOR - dt.timedelta(days=40)).timestamp())  # TikTok refuses it: data.5.event_time
    path, _ = make_warehouse(rows=with_column(rows, "event_time", times, pa.int64()))
    arm(sandbox, kind="delay", seconds=0.0, count=1)  # the first POST is answered normally (data.5 ...)
    arm(sandbox, kind="code", code=40002, count=1)  # the first half's POST: "Parameter error." names no event
    with pytest.raises(EventsApiRequestError) as info:
        forward(path, sandbox)
    assert info.value.summary.dead == 0 and ledger(path) == {"pending": 8}
    summary = forward(path, sandbox)  # no fault now: the bad event alone is dead-lettered
    assert summary.dead == 1 and summary.sent == 7
    dead = ledger_rows(path, "status = 'dead'")
    assert [r[0] for r in dead] == [rows["event_id"][5].as_py()] and "event_time" in dead[0][4]
    assert received(sandbox)["unique_events"] == 7


def test_partial_success_keeps_tiktoks_answer_on_every_event(sandbox, make_warehouse, pixel_codes):
    path, _ = make_warehouse(rows=synthetic_queue(6, pixel_codes[:1], FIXED_ANCHOR))
    arm(sandbox, kind="code", code=20001, count=1)
    summary = forward(path, sandbox)
    assert summary.sent == 6 and summary.partial_success_batches == 1
    # TikTok's 20001 names no event (docs/forwarding.md): each event of the batch records the answer
    assert {(r[1], r[3], r[4]) for r in ledger_rows(path)} == {("sent", 20001, "Partially successful.")}


def test_an_event_without_a_page_url_is_never_sent_without_one(sandbox, make_warehouse, pixel_codes):
    rows = synthetic_queue(3, pixel_codes[:1], FIXED_ANCHOR)
    urls = rows["page_url"].to_pylist()
    urls[1] = "  "
    path, _ = make_warehouse(rows=with_column(rows, "page_url", urls, pa.string()))
    with pytest.raises(PayloadError) as info:
        forward(path, sandbox)
    assert "page_url" in str(info.value) and rows["event_id"][1].as_py() in str(info.value)
    assert ledger(path) == {"pending": 3} and received(sandbox)["events_received"] == 0


def test_test_events_carry_the_signal_link_or_a_placeholder_page_url(sandbox, pixel_codes):
    token, pixel, link = sandbox.credentials.events_api_token, pixel_codes[0], "https://t.example/s/l1"
    assert send_test_event(sandbox.tiktok_url, token, pixel, page_url=link, now=FIXED_ANCHOR)["accepted"]
    assert send_test_event(sandbox.tiktok_url, token, pixel, now=FIXED_ANCHOR)["accepted"]  # no Signal link saved
    urls = [item["event"]["page"]["url"] for item in stored(sandbox, pixel, kind="test")]
    assert urls == [link, TEST_EVENT_PAGE_URL]


@pytest.mark.parametrize(
    ("message", "index"),
    [
        ("data.3.event_time: event_time 1 is older than the accepted maximum of 28 days.", 3),
        ("data[12].user.email: must be SHA-256 hashed", 12),
        ("Invalid value for data.0.event", 0),
        ("data: Length must be between 1 and 1000.", None),
        ("event_source_id: Missing data for required field.", None),
        ("Parameter error.", None),
        ("metadata.3: unknown", None),
    ],
)
def test_which_40002_points_at_an_event(message, index):
    assert invalid_event_index(message) == index
