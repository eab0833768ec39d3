"""The sandbox Events API 2.0 (web) ``POST /open_api/v1.3/event/track/``: every validation rule, the
permission model, the 48 h dedup store, test events and the read-back routes."""

from __future__ import annotations

import hashlib
import time

import pytest

HASHED_EMAIL = hashlib.sha256(b"alice@example.com").hexdigest()


def event(n: int, now: int, name: str = "Purchase", **extra) -> dict:
    ev = {
        "event": name,
        "event_time": now - 60,
        "event_id": f"evt-{n}",
        "user": {
            "ttclid": "E.C.P.abc",
            "ip": "203.0.113.7",
            "user_agent": "Mozilla/5.0",
            "external_id": hashlib.sha256(f"user-{n}".encode()).hexdigest(),
            "email": HASHED_EMAIL,
        },
        "properties": {"value": 9.99, "currency": "USD"},
        "page": {"url": "https://sandbox.appsprint.link/s/abc"},
    }
    ev.update(extra)
    return ev


def clock(tt) -> int:
    return int(tt.now().timestamp())


def track(tt, events: list[dict] | None, token: str | None = None, pixel: str | None = None, **top) -> dict:
    body = {"event_source": "web", "event_source_id": pixel or tt.pixel_codes()[0], "data": events, **top}
    return tt.post("event/track/", body, token=token or tt.creds.events_api_token)


def test_valid_batch_is_accepted_and_counted(tt):
    now = clock(tt)
    body = track(tt, [event(i, now) for i in range(5)], partner_name="SignalCampaigns")
    assert body == {"code": 0, "message": "OK", "request_id": body["request_id"], "data": {}}
    counts = tt.received(tt.pixel_codes()[0])
    assert counts["requests"] == 1 and counts["events_received"] == 5 and counts["unique_events"] == 5
    assert counts["duplicates_dropped"] == 0 and counts["test_events"] == 0
    assert counts["unique_by_event"] == {"Purchase": 5}
    other = tt.received(tt.pixel_codes()[1]) if len(tt.pixel_codes()) > 1 else {"events_received": 0}
    assert other["events_received"] == 0


def test_batch_size_limits_reject_the_whole_request(tt):
    now = clock(tt)
    assert track(tt, [event(i, now) for i in range(1000)])["code"] == 0
    tt.control("events/reset")
    too_many = track(tt, [event(i, now) for i in range(1001)])
    assert too_many["code"] == 40002 and too_many["data"] == {} and "data" in too_many["message"]
    assert track(tt, [])["code"] == 40002
    assert track(tt, None)["code"] == 40002
    counts = tt.received(tt.pixel_codes()[0])
    assert counts["events_received"] == 0 and counts["requests"] == 0 and counts["rejected_requests"] == 3


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("Purchase", True),
        ("CompleteRegistration", True),
        ("StartTrial", True),
        ("Download", True),
        ("CompletePayment", True),
        ("my_custom-Event1", True),
        ("x" * 50, True),
        ("x" * 51, False),
        ("1stPurchase", False),
        ("bad name", False),
        ("", False),
        ("Checkout", False),
        ("Registration", False),
        ("Purchase!", False),
        (42, False),
        (None, False),
    ],
)
def test_event_names(tt, name, ok):
    ev = event(1, clock(tt))
    if name is None:
        del ev["event"]
    else:
        ev["event"] = name
    body = track(tt, [ev])
    assert body["code"] == (0 if ok else 40002), body["message"]
    if not ok:
        assert body["message"].startswith("data.0.event:")


def test_one_bad_event_fails_the_whole_request_with_a_path_qualified_message(tt):
    now = clock(tt)
    events = [event(i, now) for i in range(6)]
    events[3]["event_time"] = str(now)
    body = track(tt, events)
    assert body["code"] == 40002 and body["message"].startswith("data.3.event_time:")
    assert tt.received(tt.pixel_codes()[0])["events_received"] == 0


@pytest.mark.parametrize("page", [None, {}, {"url": ""}, {"referrer": "https://example.com/"}])
def test_web_events_need_a_page_url_like_tiktok(tt, page):
    now = clock(tt)
    events = [event(0, now), event(1, now)]
    if page is None:
        del events[1]["page"]
    else:
        events[1]["page"] = page
    body = track(tt, events)
    assert body["code"] == 40002 and body["message"].startswith("data.1.page.url:"), body["message"]
    assert tt.received(tt.pixel_codes()[0])["events_received"] == 0
    assert track(tt, [event(2, now, page={"url": 42})])["message"] == "data.0.page.url: Not a valid string."


def test_event_id_must_be_a_string(tt):
    ev = event(1, clock(tt), event_id=12345)
    body = track(tt, [ev])
    assert body["code"] == 40002
    assert "Invalid value for event_id: not a valid string." in body["message"]
    assert body["message"].startswith("data.0.event_id")
    no_id = event(2, clock(tt))
    del no_id["event_id"]
    assert track(tt, [no_id])["code"] == 0


def test_event_time_must_be_integer_recent_and_not_in_the_future(tt):
    now = clock(tt)
    day = 86400
    assert track(tt, [event(1, now, event_time=now - 27 * day)])["code"] == 0
    stale = track(tt, [event(2, now, event_time=now - 29 * day)])
    assert stale["code"] == 40002 and stale["message"].startswith("data.0.event_time:")
    assert track(tt, [event(3, now, event_time=now + 60)])["code"] == 0
    future = track(tt, [event(4, now, event_time=now + 600)])
    assert future["code"] == 40002 and "future" in future["message"]
    for bad in (float(now), str(now), None, True):
        ev = event(5, now, event_time=bad)
        assert track(tt, [ev])["code"] == 40002
    # the max age follows the sandbox clock and is configurable
    tt.control("events/config", {"max_age_seconds": 7 * day})
    assert track(tt, [event(6, now, event_time=now - 8 * day)])["code"] == 40002


def test_unhashed_pii_strict_mode_and_accept_and_flag(tt):
    now = clock(tt)
    for field, value in (
        ("email", "alice@example.com"),
        ("phone", "+12133734253"),
        ("external_id", "user_123"),
        ("email", HASHED_EMAIL.upper()),
        ("external_id", [HASHED_EMAIL, "raw"]),
    ):
        ev = event(1, now)
        ev["user"][field] = value
        body = track(tt, [ev])
        assert body["code"] == 40002 and body["message"].startswith(f"data.0.user.{field}:"), (field, body)
    ev = event(1, now)
    ev["user"]["external_id"] = [HASHED_EMAIL, HASHED_EMAIL]
    assert track(tt, [ev])["code"] == 0
    tt.control("events/config", {"strict_hashing": False})
    ev = event(2, now)
    ev["user"]["email"] = "alice@example.com"
    assert track(tt, [ev])["code"] == 0
    counts = tt.received(tt.pixel_codes()[0], payloads="true")
    assert counts["flagged_events"] == 1
    assert counts["payloads"]["events"][-1]["flags"] == ["unhashed_email"]


@pytest.mark.parametrize(
    ("properties", "ok"),
    [
        ({"value": 10, "currency": "EUR"}, True),
        ({"value": 0.5}, True),
        ({}, True),
        ({"value": "9.99", "currency": "USD"}, False),
        ({"value": 9.99, "currency": "usd"}, False),
        ({"value": 9.99, "currency": "US"}, False),
        ({"value": True}, False),
        ("x", False),
    ],
)
def test_properties_value_and_currency(tt, properties, ok):
    body = track(tt, [event(1, clock(tt), properties=properties)])
    assert body["code"] == (0 if ok else 40002), body["message"]
    if not ok:
        assert body["message"].startswith("data.0.properties")


def test_event_source_and_pixel_checks(tt):
    now = clock(tt)
    assert track(tt, [event(1, now)], event_source="app")["code"] == 40002
    body = tt.post(
        "event/track/",
        {"event_source_id": tt.pixel_codes()[0], "data": [event(1, now)]},
        token=tt.creds.events_api_token,
    )
    assert body["code"] == 40002 and "event_source" in body["message"]
    unknown = track(tt, [event(1, now)], pixel="CNOSUCHPIXEL0000000")
    assert unknown["code"] == 40001
    missing = tt.post("event/track/", {"event_source": "web", "data": [event(1, now)]}, token=tt.creds.events_api_token)
    assert missing["code"] == 40002 and "event_source_id" in missing["message"]


def test_token_permissions(tt):
    now = clock(tt)
    pixel = tt.pixel_codes()[0]
    standard = track(tt, [event(1, now)], token=tt.creds.standard_access_token)
    assert standard["code"] == 40001 and standard["data"] == {}
    assert standard["message"] == (
        f"No permission to operate pixel code: {pixel}. You must be an admin or operator of this advertiser account."
    )
    assert track(tt, [event(2, now)], token=tt.creds.tiktok_access_token)["code"] == 0
    assert track(tt, [event(3, now)], token=tt.creds.events_api_token)["code"] == 0
    assert (
        tt.post("event/track/", {"event_source": "web", "event_source_id": pixel, "data": [event(4, now)]}, token=None)[
            "code"
        ]
        == 40104
    )
    assert track(tt, [event(5, now)], token="bogus")["code"] == 40105
    # a Marketing token without access to the pixel's advertiser
    pixel_adv = next(p["advertiser_id"] for p in tt.rows("pixels") if p["pixel_code"] == pixel)
    others = [a for a in tt.advertiser_ids() if a != pixel_adv]
    if others:
        limited = tt.control("tokens", {"advertiser_ids": others})["token"]
        assert track(tt, [event(6, now)], token=limited)["code"] == 40001
    assert tt.received(pixel)["events_received"] == 2


def test_dedup_on_pixel_event_and_event_id_within_48_hours(tt):
    pixel = tt.pixel_codes()[0]
    now = clock(tt)
    assert track(tt, [event(1, now), event(1, now)])["code"] == 0  # repeat inside one batch
    counts = tt.received(pixel)
    assert (counts["events_received"], counts["unique_events"], counts["duplicates_dropped"]) == (2, 1, 1)
    # same id, other event name: a different event; legacy CompletePayment == Purchase
    track(tt, [event(1, now, name="StartTrial"), event(1, now, name="CompletePayment")])
    counts = tt.received(pixel)
    assert (counts["unique_events"], counts["duplicates_dropped"]) == (2, 2)
    # the same key on another pixel is not a duplicate
    if len(tt.pixel_codes()) > 1:
        track(tt, [event(1, now)], pixel=tt.pixel_codes()[1])
        assert tt.received(tt.pixel_codes()[1])["unique_events"] == 1
    tt.advance(47 * 3600)
    now = clock(tt)
    track(tt, [event(1, now)])
    assert tt.received(pixel)["duplicates_dropped"] == 3
    tt.advance(2 * 3600)  # 49 h after the first sighting
    now = clock(tt)
    track(tt, [event(1, now)])
    counts = tt.received(pixel)
    assert (counts["unique_events"], counts["duplicates_dropped"]) == (3, 3)
    assert counts["unique_by_event"] == {"Purchase": 2, "StartTrial": 1}
    # events without an event_id are never deduplicated
    no_id = event(9, now)
    del no_id["event_id"]
    track(tt, [no_id, dict(no_id)])
    assert tt.received(pixel)["unique_events"] == 5


def test_test_events_are_kept_apart_from_production(tt):
    pixel = tt.pixel_codes()[0]
    now = clock(tt)
    assert track(tt, [event(1, now)], test_event_code="TEST12345")["code"] == 0
    assert track(tt, [event(1, now)], test_event_code="TEST12345")["code"] == 0
    counts = tt.received(pixel)
    assert counts["test_events"] == 2 and counts["test_requests"] == 2
    assert counts["events_received"] == 0 and counts["unique_events"] == 0 and counts["duplicates_dropped"] == 0
    track(tt, [event(1, now)])  # the production event is not a duplicate of the test events
    counts = tt.received(pixel, payloads="true", kind="test")
    assert counts["unique_events"] == 1 and counts["duplicates_dropped"] == 0
    assert counts["payloads"]["total"] == 2
    assert all(p["test_event_code"] == "TEST12345" for p in counts["payloads"]["events"])
    assert tt.received(pixel, payloads="true")["payloads"]["total"] == 1
    assert track(tt, [event(2, now)], test_event_code=123)["code"] == 40002


def test_payload_read_back_paging_and_reset(tt):
    pixel = tt.pixel_codes()[0]
    now = clock(tt)
    sent = [event(i, now) for i in range(25)]
    track(tt, sent)
    track(tt, sent[:5])
    page = tt.received(pixel, payloads="true", limit=10, offset=20)
    assert page["payloads"]["total"] == 30 and len(page["payloads"]["events"]) == 10
    stored = page["payloads"]["events"]
    assert [s["event"]["event_id"] for s in stored] == [f"evt-{i}" for i in (20, 21, 22, 23, 24, 0, 1, 2, 3, 4)]
    assert [s["duplicate"] for s in stored] == [False] * 5 + [True] * 5
    assert stored[0]["event"] == sent[20]
    totals = tt.received()
    assert totals["events_received"] == 30 and pixel in totals["pixels"]
    tt.control("events/reset")
    assert tt.received(pixel)["events_received"] == 0


def test_throughput_of_thousand_event_batches(tt):
    """A smoke check of the hot path (the real numbers are in the product's benchmark)."""
    now = clock(tt)
    batches = [[event(b * 1000 + i, now) for i in range(1000)] for b in range(5)]
    started = time.perf_counter()
    for batch in batches:
        assert track(tt, batch)["code"] == 0
    elapsed = time.perf_counter() - started
    assert tt.received(tt.pixel_codes()[0])["unique_events"] == 5000
    assert 5000 / elapsed > 2000, f"{5000 / elapsed:.0f} events/s"
