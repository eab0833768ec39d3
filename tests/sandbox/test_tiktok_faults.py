"""Fault injection and rate limiting of the sandbox TikTok server (through ``SandboxControl``)."""

from __future__ import annotations

import hashlib
import json
import time

import httpx
import pytest

from sandbox.tiktok_server import MESSAGES


def campaigns(tt) -> httpx.Response:
    return tt.raw_get("campaign/get/", advertiser_id=tt.advertiser_ids()[0])


def one_event(tt) -> dict:
    now = int(tt.now().timestamp())
    return {
        "event_source": "web",
        "event_source_id": tt.pixel_codes()[0],
        "data": [
            {
                "event": "Purchase",
                "event_time": now,
                "event_id": f"e-{time.perf_counter_ns()}",
                "user": {"external_id": hashlib.sha256(b"u").hexdigest()},
                "page": {"url": "https://sandbox.appsprint.link/s/abc"},
            }
        ],
    }


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (40100, "Too many requests. Please retry in some time."),
        (40133, MESSAGES[40133]),
        (40132, MESSAGES[40132]),
        (50000, MESSAGES[50000]),
        (40105, MESSAGES[40105]),
    ],
)
def test_code_faults_answer_http_200_envelopes_once(tt, code, message):
    tt.control("faults", {"endpoint": "campaign/get", "kind": "code", "code": code})
    response = campaigns(tt)
    assert response.status_code == 200
    body = response.json()
    assert (body["code"], body["message"], body["data"]) == (code, message, {})
    assert response.headers["X-TT-LOGID"] == body["request_id"]
    assert campaigns(tt).json()["code"] == 0  # count=1: only the next request


def test_code_fault_with_custom_message_and_count(tt):
    tt.control(
        "faults",
        {"endpoint": "report/integrated/get", "kind": "code", "code": 50000, "message": "Internal error", "count": 2},
    )
    adv = tt.advertiser_ids()[0]
    params = {
        "advertiser_id": adv,
        "report_type": "BASIC",
        "data_level": "AUCTION_AD",
        "dimensions": json.dumps(["ad_id", "stat_time_day"]),
        "start_date": "2026-06-10",
        "end_date": "2026-06-12",
    }
    for _ in range(2):
        body = tt.get("report/integrated/get/", **params)
        assert (body["code"], body["message"]) == (50000, "Internal error")
    assert tt.get("report/integrated/get/", **params)["code"] == 0
    assert campaigns(tt).json()["code"] == 0  # other endpoints never saw the fault


def test_fault_on_event_track_only_and_wildcard(tt):
    tt.control("faults", {"endpoint": "event/track", "kind": "code", "code": 40100})
    assert campaigns(tt).json()["code"] == 0
    body = tt.post("event/track/", one_event(tt), token=tt.creds.events_api_token)
    assert body["code"] == 40100 and body["message"] == "Too many requests. Please retry in some time."
    assert tt.received(tt.pixel_codes()[0])["events_received"] == 0  # not stored
    tt.control("faults", {"endpoint": "*", "kind": "code", "code": 50000, "count": None})
    assert campaigns(tt).json()["code"] == 50000
    assert tt.post("event/track/", one_event(tt), token=tt.creds.events_api_token)["code"] == 50000
    assert len(tt.control("faults", method="GET")["faults"]) == 1
    tt.control("faults", method="DELETE")
    assert campaigns(tt).json()["code"] == 0


def test_http_502_with_nginx_html_body(tt):
    tt.control("faults", {"endpoint": "campaign/get", "kind": "http", "status": 502})
    response = campaigns(tt)
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert "502 Bad Gateway" in response.text and "nginx" in response.text
    assert campaigns(tt).status_code == 200


def test_slow_reply(tt):
    tt.control("faults", {"endpoint": "campaign/get", "kind": "delay", "seconds": 0.4})
    started = time.perf_counter()
    response = campaigns(tt)
    assert time.perf_counter() - started >= 0.4
    assert response.status_code == 200 and response.json()["code"] == 0


def test_timeout(tt):
    tt.control("faults", {"endpoint": "campaign/get", "kind": "timeout", "seconds": 1.5})
    with pytest.raises(httpx.ReadTimeout):
        tt.http.get(
            f"{tt.api}/campaign/get/",
            params={"advertiser_id": tt.advertiser_ids()[0]},
            headers={"Access-Token": tt.creds.tiktok_access_token},
            timeout=0.3,
        )
    time.sleep(1.3)  # let the server finish the sleeping request (it then answers 504)
    assert campaigns(tt).json()["code"] == 0


def test_partial_success_20001_processes_the_events(tt):
    tt.control("faults", {"endpoint": "event/track", "kind": "code", "code": 20001})
    body = tt.post("event/track/", one_event(tt), token=tt.creds.events_api_token)
    assert body["code"] == 20001
    assert tt.received(tt.pixel_codes()[0])["unique_events"] == 1


def test_revoked_token_fault_via_control_route(tt):
    assert campaigns(tt).json()["code"] == 0
    tt.control("tokens/revoke", {"token": tt.creds.tiktok_access_token})
    body = campaigns(tt).json()
    assert body["code"] == 40105 and body["data"] == {}
    tt.control("tokens/reset")
    assert campaigns(tt).json()["code"] == 0


def test_stats_count_outcomes(tt):
    tt.control("faults", {"endpoint": "campaign/get", "kind": "code", "code": 50000})
    campaigns(tt)
    campaigns(tt)
    stats = tt.control("stats", method="GET")["requests"]
    assert stats["campaign/get|fault"] == 1 and stats["campaign/get|ok"] == 1 and stats["campaign/get|total"] == 2


def test_marketing_rate_limit_default_10_qps(tt_factory):
    tt = tt_factory(rate_limits=None)  # the defaults: 10 QPS Marketing API, 1,000 QPS event/track
    codes = [campaigns(tt).json()["code"] for _ in range(25)]
    limited = [c for c in codes if c == 40100]
    assert limited and codes[:10] == [0] * 10  # a burst of 10, then 40100 (still HTTP 200)
    response = campaigns(tt)
    if response.json()["code"] == 40100:
        assert response.status_code == 200
        assert response.json()["message"] == "Too many requests. Please retry in some time."
    # each endpoint has its own bucket, and event/track has 1,000 QPS
    for _ in range(15):
        assert tt.post("event/track/", one_event(tt), token=tt.creds.events_api_token)["code"] == 0
    time.sleep(0.25)  # the bucket refills at 10/s
    assert campaigns(tt).json()["code"] == 0
    # lifted at run time
    tt.control("rate_limits", {"*": None})
    assert all(campaigns(tt).json()["code"] == 0 for _ in range(30))
    assert tt.control("stats", method="GET")["requests"]["campaign/get|rate_limited"] == len(limited) + (
        1 if response.json()["code"] == 40100 else 0
    )


def test_rate_limits_are_configurable_per_app(tt_factory):
    tt = tt_factory(rate_limits=None, marketing_qps=None, events_qps=2)
    assert all(campaigns(tt).json()["code"] == 0 for _ in range(30))
    codes = [tt.post("event/track/", one_event(tt), token=tt.creds.events_api_token)["code"] for _ in range(6)]
    assert codes[:2] == [0, 0] and 40100 in codes
    tight = tt_factory(rate_limits={"campaign/get": 1})
    codes = [campaigns(tight).json()["code"] for _ in range(3)]
    assert codes[0] == 0 and 40100 in codes


# --- answer shapes (kind "shape"): answered with code 0, in an odd shape -------------------------
def report(tt, **extra):
    params = {
        "advertiser_id": tt.advertiser_ids()[0],
        "report_type": "BASIC",
        "data_level": "AUCTION_AD",
        "dimensions": json.dumps(["ad_id", "stat_time_day"]),
        "metrics": json.dumps(["spend"]),
        "start_date": "2026-06-01",
        "end_date": "2026-06-10",
        **extra,
    }
    return tt.get("report/integrated/get/", **params)


def test_shape_no_list_and_no_page_info_once(tt):
    normal = campaigns(tt).json()["data"]
    tt.arm(endpoint="campaign/get", kind="shape", message="no_list")
    body = campaigns(tt).json()
    assert body["code"] == 0 and "list" not in body["data"] and body["data"]["page_info"] == normal["page_info"]
    assert campaigns(tt).json()["data"] == normal  # count 1: only the next request
    tt.arm(endpoint="report/integrated/get", kind="shape", message="no_page_info")
    shaped, plain = report(tt), report(tt)
    assert "page_info" not in shaped["data"] and shaped["data"]["list"] == plain["data"]["list"]


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ("times_ms", lambda t: int(t.timestamp()) * 1000),
        ("times_seconds", lambda t: int(t.timestamp())),
        ("times_iso", lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")),
    ],
)
def test_shape_entity_time_forms(tt, shape, expected):
    import datetime as dt

    plain = campaigns(tt).json()["data"]["list"]
    tt.arm(endpoint="campaign/get", kind="shape", message=shape)
    shaped = campaigns(tt).json()["data"]["list"]
    assert len(shaped) == len(plain) > 0
    for before, after in zip(plain, shaped, strict=True):
        when = dt.datetime.strptime(before["create_time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
        assert after["create_time"] == expected(when)
    assert campaigns(tt).json()["data"]["list"] == plain  # the served records are unchanged


def test_shape_report_rows(tt):
    plain = report(tt)["data"]["list"]
    tt.arm(endpoint="report/integrated/get", kind="shape", message="negative_spend")
    assert report(tt)["data"]["list"][0]["metrics"]["spend"] == "-12.500"
    tt.arm(endpoint="report/integrated/get", kind="shape", message="bad_stat_day")
    day = plain[0]["dimensions"]["stat_time_day"]
    assert report(tt)["data"]["list"][0]["dimensions"]["stat_time_day"] == f"{day[5:7]}/{day[8:10]}/{day[:4]}"
    tt.arm(endpoint="report/integrated/get", kind="shape", message="stat_day_forms")
    forms = [r["dimensions"]["stat_time_day"] for r in report(tt)["data"]["list"][:3]]
    days = [r["dimensions"]["stat_time_day"] for r in plain[:3]]
    assert forms == [days[0][:10], days[1].replace(" ", "T"), days[2]]
    assert report(tt)["data"]["list"] == plain


def test_shape_too_large_answers_40067_over_n_rows(tt):
    one_day = {"start_date": "2026-06-01", "end_date": "2026-06-01"}
    limit = report(tt, **one_day)["data"]["page_info"]["total_number"]
    assert report(tt)["data"]["page_info"]["total_number"] > limit > 0
    tt.arm(endpoint="report/integrated/get", kind="shape", message=f"too_large:{limit}", count=None)
    body = report(tt)
    assert (body["code"], body["data"]) == (40067, {}) and "too large" in body["message"]
    assert report(tt, **one_day)["code"] == 0


def test_unknown_shape_is_a_parameter_error(tt):
    tt.arm(endpoint="campaign/get", kind="shape", message="sideways")
    body = campaigns(tt).json()
    assert body["code"] == 40002 and "sideways" in body["message"]
