"""The sandbox AppSprint export API over real HTTP (docs/appsprint_export_api.md).

Expected rows are derived here from the world tables (the contract: visibility at the clock,
millisecond timestamps, ascending (updated_at, id)), independently of the server's own paging code.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import decimal
import json
import re
import time
from typing import Any

import httpx
import pyarrow as pa
import pytest

from sandbox.world import World

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
RESOURCES = ("signal-links", "clicks", "installs", "events")
ID_FIELD = {"signal-links": "id", "clicks": "click_id", "installs": "appsprint_id", "events": "event_id"}
FIELDS = {
    "signal-links": ["id", "name", "network", "url", "created_at", "updated_at"],
    "clicks": [
        "click_id",
        "link_id",
        "clicked_at",
        "ttclid",
        "campaign_id",
        "adgroup_id",
        "ad_id",
        "placement",
        "ip",
        "user_agent",
        "os",
        "updated_at",
    ],
    "installs": [
        "appsprint_id",
        "installed_at",
        "platform",
        "app_version",
        "country",
        "ip",
        "user_agent",
        "attribution",
        "updated_at",
    ],
    "events": [
        "event_id",
        "appsprint_id",
        "event_type",
        "event_name",
        "occurred_at",
        "received_at",
        "revenue",
        "currency",
        "source",
        "environment",
        "ip",
        "user_agent",
        "customer_user_id",
        "parameters",
        "updated_at",
    ],
}
ATTRIBUTION_FIELDS = ["status", "network", "match_type", "confidence", "link_id", "click_id"]


# --- the reference: world rows -> API rows ---------------------------------------------------------


def ms_of(ts: dt.datetime) -> int:
    """Milliseconds since the epoch, floored: the API's timestamps have millisecond precision."""
    return (ts - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(milliseconds=1)


def iso(ts: dt.datetime | None) -> str | None:
    if ts is None:
        return None
    return ts.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def api_row(resource: str, r: dict[str, Any]) -> dict[str, Any]:
    """One world row as the contract says it is served."""
    if resource == "signal-links":
        return {
            "id": r["link_id"],
            "name": r["name"],
            "network": r["network"],
            "url": r["url"],
            "created_at": iso(r["created_at"]),
            "updated_at": iso(r["updated_at"]),
        }
    if resource == "clicks":
        return {k: (iso(r[k]) if k in ("clicked_at", "updated_at") else r[k]) for k in FIELDS["clicks"]}
    if resource == "installs":
        return {
            "appsprint_id": r["appsprint_id"],
            "installed_at": iso(r["installed_at"]),
            "platform": r["platform"],
            "app_version": r["app_version"],
            "country": r["country"],
            "ip": r["ip"],
            "user_agent": r["user_agent"],
            "attribution": {
                "status": r["attribution_status"],
                "network": r["attribution_network"],
                "match_type": r["match_type"],
                "confidence": r["confidence"],
                "link_id": r["link_id"],
                "click_id": r["click_id"],
            },
            "updated_at": iso(r["updated_at"]),
        }
    row = {k: r[k] for k in ("event_id", "appsprint_id", "event_type", "event_name")}
    row["occurred_at"] = r["occurred_at_raw"] if r["occurred_at_raw"] is not None else iso(r["occurred_at"])
    row["received_at"] = iso(r["received_at"])
    row["revenue"] = None if r["revenue"] is None else float(r["revenue"])
    for k in ("currency", "source", "environment", "ip", "user_agent", "customer_user_id"):
        row[k] = r[k]
    params = r["parameters"]  # JSON object text, embedded as an object (other text: a JSON string)
    row["parameters"] = None if params is None else json.loads(params) if params.startswith("{") else params
    row["updated_at"] = iso(r["updated_at"])
    return row


TABLE = {"signal-links": "signal_links", "clicks": "clicks", "installs": "installs", "events": "events"}


def expected_rows(world: World, resource: str, clock: dt.datetime, after_ms: int | None = None) -> list[dict]:
    """Rows visible at ``clock`` (with updated_at > after_ms), in ascending (updated_at, id) order."""
    clock_ms = ms_of(clock)
    out = []
    for r in world.table(TABLE[resource]).to_pylist():
        if resource == "signal-links" and r["app_id"] != world.credentials.appsprint_app_id:
            continue
        u = ms_of(r["updated_at"])
        if u > clock_ms or (after_ms is not None and u <= after_ms):
            continue
        if resource == "installs" and r["superseded_at"] is not None and ms_of(r["superseded_at"]) <= clock_ms:
            continue
        out.append((u, r[{"signal-links": "link_id"}.get(resource, ID_FIELD[resource])], api_row(resource, r)))
    out.sort(key=lambda item: (item[0], item[1]))
    return [row for _, _, row in out]


def key(resource: str, row: dict) -> tuple[str, str]:
    return (row["updated_at"], row[ID_FIELD[resource]])


# --- auth and routing --------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_missing_or_wrong_token_is_401(api, token):
    response = api.get("events", token=token)
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "unauthorized" and body["message"]
    assert "data" not in body


def test_unknown_app_is_404(api):
    response = api.get("events", app_id="app_does_not_exist")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_unknown_endpoint_is_json_404(api):
    response = api.http.get(f"/v1/apps/{api.app_id}/purchases", headers={"Authorization": f"Bearer {api.token}"})
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


# --- rows and order ----------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", RESOURCES)
def test_every_visible_row_exactly_once_in_order_across_pages(api, resource):
    clock = api.now()
    expected = expected_rows(api.world, resource, clock)
    assert expected, "the tiny world has rows for every resource"
    limit = 2 if resource == "signal-links" else 97
    rows, pages = api.read_all(resource, limit=limit)
    assert pages >= (len(expected) + limit - 1) // limit >= 2
    assert [key(resource, r) for r in rows] == [key(resource, r) for r in expected]
    assert rows == expected  # every field, exactly as the contract maps the world row
    keys = [key(resource, r) for r in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


@pytest.mark.parametrize("resource", RESOURCES)
def test_fields_and_formats(api, resource):
    rows = api.page(resource, limit=50)["data"]
    assert rows
    for row in rows:
        assert list(row) == FIELDS[resource]
        assert TIMESTAMP.match(row["updated_at"])
    if resource == "installs":
        assert all(list(r["attribution"]) == ATTRIBUTION_FIELDS for r in rows)
    if resource == "events":
        all_events, _ = api.read_all("events")
        assert any(isinstance(r["revenue"], float) for r in all_events)
        assert all(r["revenue"] is None or isinstance(r["revenue"], (int, float)) for r in all_events)
        assert all(isinstance(r["parameters"], dict) for r in all_events)
        assert all(TIMESTAMP.match(r["received_at"]) for r in all_events)
    text = json.dumps(rows)
    for internal in ("invalid_reason", "superseded_at", "advertiser_id", "occurred_at_raw", "app_id"):
        assert internal not in text


def test_limit_default_and_bounds(api):
    visible = len(expected_rows(api.world, "events", api.now()))
    assert visible > 1000
    assert len(api.page("events")["data"]) == 1000  # default = the maximum
    assert len(api.page("events", limit=1)["data"]) == 1
    assert len(api.page("events", limit=1000)["data"]) == 1000
    for bad in ("0", "1001", "-5", "abc", "", "2.5", "²", "1e3"):
        response = api.get("events", limit=bad)
        assert response.status_code == 400, bad
        assert response.json()["error"] == "invalid_parameter"
        assert "limit" in response.json()["message"]


def test_malformed_cursor_is_400(api):
    clicks_cursor = api.page("clicks", limit=1)["meta"]["next_cursor"]
    not_ours = base64.urlsafe_b64encode(b'{"position": 5}').decode()
    for bad in ("not-a-cursor", "%%%", not_ours, clicks_cursor):
        response = api.get("events", cursor=bad)
        assert response.status_code == 400, bad
        body = response.json()
        assert body["error"] == "invalid_cursor" and "cursor" in body["message"]


def test_next_cursor_is_null_exactly_when_nothing_more_is_visible(api):
    visible = expected_rows(api.world, "signal-links", api.now())
    body = api.page("signal-links", limit=len(visible))
    assert len(body["data"]) == len(visible) and body["meta"]["next_cursor"] is None
    body = api.page("signal-links", limit=len(visible) - 1)
    assert body["meta"]["next_cursor"] is not None
    assert body["meta"]["request_id"]


def test_updated_since_is_exclusive(api):
    clock = api.now()
    everything = expected_rows(api.world, "events", clock)
    pivot = everything[len(everything) // 2]["updated_at"]
    after = [r for r in everything if r["updated_at"] > pivot]
    for since in (pivot, pivot.replace("Z", "+00:00"), pivot[:-1]):
        rows, _ = api.read_all("events", updated_since=since)
        assert rows == after, since
    # a cursor wins over updated_since (clients may keep sending both)
    first = api.page("events", limit=10, updated_since=pivot)
    second = api.page("events", limit=10, updated_since="2000-01-01T00:00:00Z", cursor=first["meta"]["next_cursor"])
    assert second["data"] == after[10:20]
    response = api.get("events", updated_since="yesterday")
    assert response.status_code == 400 and response.json()["error"] == "invalid_parameter"


# --- the clock: late attribution, late events, re-deliveries ----------------------------------------


def test_clock_advance_reveals_late_attribution_and_new_events(api):
    world = api.world
    anchor = api.now()
    installs, _ = api.read_all("installs")
    events, _ = api.read_all("events")
    late = [
        r for r in world.table("installs").to_pylist() if r["superseded_at"] is not None and r["superseded_at"] > anchor
    ]
    assert late, "the tiny world plans late attributions after the anchor"
    late_id = late[0]["appsprint_id"]
    first = [r for r in installs if r["appsprint_id"] == late_id]
    assert len(first) == 1 and first[0]["attribution"]["status"] == "organic"

    now = api.advance(world.future_horizon.total_seconds())
    # resume from the last updated_at seen: exactly the new rows
    new_installs, _ = api.read_all("installs", updated_since=installs[-1]["updated_at"])
    new_events, _ = api.read_all("events", updated_since=events[-1]["updated_at"])
    assert new_installs == expected_rows(world, "installs", now, after_ms=ms_of(anchor))
    assert new_events == expected_rows(world, "events", now, after_ms=ms_of(anchor))
    assert new_events, "late and out-of-order events arrive after the anchor"
    assert any(r["occurred_at"] < events[-1]["updated_at"] for r in new_events if TIMESTAMP.match(r["occurred_at"]))
    second = [r for r in new_installs if r["appsprint_id"] == late_id]
    assert len(second) == 1
    assert second[0]["attribution"]["status"] == "attributed"
    assert second[0]["attribution"]["network"] == "tiktok" and second[0]["attribution"]["click_id"]
    assert second[0]["installed_at"] == first[0]["installed_at"]

    # a fresh reader sees only the current version
    fresh, _ = api.read_all("installs")
    versions = [r for r in fresh if r["appsprint_id"] == late_id]
    assert versions == second
    assert len({r["appsprint_id"] for r in fresh}) == len(fresh)


def test_resuming_a_cursor_walk_after_the_clock_moves(api):
    """A walk that started before the clock moved still returns every row once, in order."""
    world = api.world
    body = api.page("events", limit=500)
    rows = list(body["data"])
    now = api.advance(world.future_horizon.total_seconds())
    cursor = body["meta"]["next_cursor"]
    while cursor:
        body = api.page("events", limit=500, cursor=cursor)
        rows.extend(body["data"])
        cursor = body["meta"]["next_cursor"]
    assert rows == expected_rows(world, "events", now)


def test_duplicate_delivery_is_served_twice(api):
    world = api.world
    now = api.advance(world.future_horizon.total_seconds())
    rows, _ = api.read_all("events")
    by_id: dict[str, list[dict]] = {}
    for row in rows:
        by_id.setdefault(row["event_id"], []).append(row)
    twice = {k: v for k, v in by_id.items() if len(v) == 2}
    assert len(twice) == world.notes.get("duplicate_deliveries", len(twice)) and twice
    for first, second in twice.values():
        assert first["updated_at"] < second["updated_at"]
        assert {k: v for k, v in first.items() if k != "updated_at"} == {
            k: v for k, v in second.items() if k != "updated_at"
        }
    assert len(rows) == len(expected_rows(world, "events", now))


def test_hostile_rows_are_served_as_they_are(api):
    api.advance(api.world.future_horizon.total_seconds())
    rows = {r["event_id"]: r for r in api.read_all("events")[0]}
    hostile = [r for r in api.world.table("events").to_pylist() if r["invalid_reason"]]
    kinds = {r["invalid_reason"] for r in hostile}
    assert kinds >= {"bad_timestamp", "bad_currency", "negative_revenue", "event_too_large"}
    for r in hostile:
        served = rows[r["event_id"]]
        if r["invalid_reason"] == "bad_timestamp":
            assert served["occurred_at"] == r["occurred_at_raw"]
        elif r["invalid_reason"] == "bad_currency":
            assert served["currency"] == r["currency"]
        elif r["invalid_reason"] == "negative_revenue":
            assert served["revenue"] == float(r["revenue"]) < 0
        elif r["invalid_reason"] == "event_too_large":
            assert served["parameters"] == json.loads(r["parameters"])
            assert len(r["parameters"]) > 16 * 1024


def _with_column(table: pa.Table, name: str, values: list) -> pa.Table:
    at = table.schema.get_field_index(name)
    return table.set_column(at, table.schema.field(at), pa.array(values, table.schema.field(at).type))


def test_strings_that_need_escaping_nulls_and_odd_values_round_trip(tiny_world, serve_world):
    """Quotes, backslashes, control characters, non-ASCII, null timestamps, parameters that are not
    an object, big and tiny revenue: served exactly (valid JSON, values unchanged)."""
    events = tiny_world.table("events")
    cuid = events["customer_user_id"].to_pylist()
    cuid[0:4] = ['quote " here', "back\\slash", "tab\tnew\nline\x01", "ünïcødé ✓"]
    ips = events["ip"].to_pylist()
    ips[1] = None
    received = events["received_at"].to_pylist()
    received[2] = None
    params = events["parameters"].to_pylist()
    params[3], params[5], params[6] = "[1, 2]", None, '"just a string"'
    revenue = events["revenue"].to_pylist()
    revenue[7], revenue[8] = decimal.Decimal("123456789.123456"), decimal.Decimal("0.000001")
    for name, values in (
        ("customer_user_id", cuid),
        ("ip", ips),
        ("received_at", received),
        ("parameters", params),
        ("revenue", revenue),
    ):
        events = _with_column(events, name, values)
    links = tiny_world.table("signal_links")
    links = _with_column(links, "name", ['Say "hi" \\ o/', *links["name"].to_pylist()[1:]])
    world = dataclasses.replace(tiny_world, tables={**tiny_world.tables, "events": events, "signal_links": links})
    client = serve_world(world)
    client.advance(world.future_horizon.total_seconds())
    now = client.now()
    for resource in ("events", "signal-links"):
        rows, _ = client.read_all(resource, limit=333)
        assert rows == expected_rows(world, resource, now), resource
    served = {r["customer_user_id"] for r in client.read_all("events")[0]}
    assert {'quote " here', "back\\slash", "tab\tnew\nline\x01", "ünïcødé ✓"} <= served


# --- faults, delays, rate limits ------------------------------------------------------------------


def test_429_with_retry_after(api):
    api.arm(endpoint="events", kind="http", status=429, retry_after=2)
    response = api.get("events")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert response.json()["error"] == "rate_limited"
    assert api.get("events").status_code == 200  # count=1: the next call goes through


@pytest.mark.parametrize(
    ("status", "title"),
    [(502, "502 Bad Gateway"), (500, "500 Internal Server Error"), (503, "503 Service Temporarily Unavailable")],
)
def test_http_error_pages_are_html(api, status, title):
    api.arm(endpoint="*", kind="http", status=status)
    response = api.get("installs")
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert title in response.text
    assert api.get("installs").status_code == 200


def test_code_fault_is_a_json_error(api):
    api.arm(endpoint="clicks", kind="code", status=503, message="maintenance")
    response = api.get("clicks")
    assert response.status_code == 503
    assert response.json() == {"error": "service_unavailable", "message": "maintenance"}
    assert api.get("events").status_code == 200


def test_delay_and_timeout_faults(api):
    api.arm(endpoint="events", kind="delay", seconds=0.4)
    started = time.monotonic()
    response = api.get("events", limit=5)
    assert response.status_code == 200 and len(response.json()["data"]) == 5
    assert time.monotonic() - started >= 0.4
    api.arm(endpoint="events", kind="timeout", seconds=1.0)
    with pytest.raises(httpx.ReadTimeout):
        api.http.get(f"/v1/apps/{api.app_id}/events", headers={"Authorization": f"Bearer {api.token}"}, timeout=0.2)


def test_rate_limiter_off_by_default_and_configurable(tiny_world, serve_world, api):
    statuses = [api.get("signal-links").status_code for _ in range(30)]
    assert set(statuses) == {200}
    limited = serve_world(tiny_world, rate_limits={"*": 2.0})
    statuses = [limited.get("signal-links").status_code for _ in range(10)]
    assert 429 in statuses and statuses[0] == 200
    rejected = next(r for r in (limited.get("signal-links") for _ in range(5)) if r.status_code == 429)
    assert int(rejected.headers["Retry-After"]) >= 1 and rejected.json()["error"] == "rate_limited"
    stats = limited.control("stats", method="GET")["requests"]
    assert stats["signal-links|rate_limited"] >= 1


def test_reset_restores_the_start_state(api):
    anchor = api.now()
    api.advance(3600)
    api.arm(endpoint="*", kind="http", status=502, count=None)
    assert api.get("events").status_code == 502
    api.control("reset")
    assert api.now() == anchor
    assert api.get("events").status_code == 200


def test_prefetched_pages_equal_rendered_pages(tiny_world, serve_world):
    eager = serve_world(tiny_world)
    lazy = serve_world(tiny_world, prefetch=False)
    for resource in RESOURCES:
        assert eager.read_all(resource, limit=101) == lazy.read_all(resource, limit=101)
    stats = eager.control("stats", method="GET")
    assert stats["prefetch"]["hits"] > 0


def test_a_prefetched_page_is_never_stale(api):
    """The server renders the next page ahead of the request; when the clock moves in between,
    the request gets the page as it is now, not the one rendered before."""
    world = api.world
    anchor_rows = expected_rows(world, "events", api.now())
    since = anchor_rows[-506]["updated_at"]  # 505 rows after it are visible at the anchor
    first = api.page("events", limit=500, updated_since=since)
    assert len(first["data"]) == 500 and first["meta"]["next_cursor"]
    time.sleep(0.2)  # the 5-row last page is prefetched now
    now = api.advance(world.future_horizon.total_seconds())
    second = api.page("events", limit=500, cursor=first["meta"]["next_cursor"])
    after = expected_rows(world, "events", now, after_ms=ms_of(dt.datetime.fromisoformat(since.replace("Z", "+00:00"))))
    assert second["data"] == after[500:1000]
    assert len(second["data"]) > 5


def test_the_cursor_key_wins_over_its_position_hint(api):
    """A cursor carries the last row's (updated_at, id) and a position hint; a hint that does not
    match (e.g. a cursor from a server on another world) is ignored, the key decides."""
    from sandbox.appsprint_resources import Cursor

    rows = expected_rows(api.world, "events", api.now())
    last = rows[99]
    u = ms_of(dt.datetime.fromisoformat(last["updated_at"].replace("Z", "+00:00")))
    for hint in (0, 7, 100, 5000):
        body = api.page("events", limit=5, cursor=Cursor("events", u, last["event_id"], hint).encode())
        assert body["data"] == rows[100:105], hint


def test_rows_in_the_same_millisecond_are_ordered_by_id(tiny_world, serve_world):
    """updated_at is served (and ordered) with millisecond precision: rows of one millisecond come
    in id order whatever their microseconds, and pages may split such a group."""
    events = tiny_world.table("events")
    updated = events["updated_at"].to_pylist()
    ids = events["event_id"].to_pylist()
    base = updated[100].replace(microsecond=(updated[100].microsecond // 1000) * 1000)
    group = sorted(range(100, 106), key=lambda i: ids[i], reverse=True)  # later microsecond, smaller id
    for rank, i in enumerate(group):
        updated[i] = base + dt.timedelta(microseconds=100 * rank)
    world = dataclasses.replace(
        tiny_world, tables={**tiny_world.tables, "events": _with_column(events, "updated_at", updated)}
    )
    client = serve_world(world)
    now = client.now()
    expected = expected_rows(world, "events", now)
    assert client.read_all("events")[0] == expected
    same = [r["event_id"] for r in expected if r["updated_at"] == iso(base)]
    assert len(same) >= 6 and same == sorted(same)
    # pages of 4 that split the group, from just before it
    at = next(i for i, r in enumerate(expected) if r["updated_at"] == iso(base))
    body = client.page("events", limit=4, updated_since=expected[at - 3]["updated_at"])
    rows = list(body["data"])
    for _ in range(3):
        body = client.page("events", limit=4, cursor=body["meta"]["next_cursor"])
        rows.extend(body["data"])
    assert rows == expected[at - 2 : at + 14]
