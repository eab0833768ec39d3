"""The sandbox AppSprint export API's Arrow wire format over real HTTP (docs/appsprint_export_api.md,
"Arrow pages"): the same pages as JSON (rows, order, cursors, errors), negotiated by ``Accept``."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any

import httpx
import pyarrow as pa
import pytest

from sandbox.appsprint_arrow import ARROW_MEDIA_TYPE, arrow_schema, wants_arrow
from sandbox.appsprint_resources import RESOURCES
from tests.sandbox.appsprint_client import AppSprintClient
from tests.sandbox.test_appsprint_api import expected_rows

ARROW = {"Accept": ARROW_MEDIA_TYPE}


def as_json_row(value: Any, name: str = "") -> Any:
    """An Arrow row (``to_pylist``) in the shape of the JSON row: timestamps as served strings,
    decimals as numbers, ``parameters`` (JSON text) parsed."""
    if isinstance(value, dict):
        return {k: as_json_row(v, k) for k, v in value.items()}
    if isinstance(value, dt.datetime):
        utc = value.astimezone(dt.UTC)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    if isinstance(value, decimal.Decimal):
        return float(value)
    if name == "parameters" and value is not None:
        return json.loads(value)
    return value


def arrow_page(client: AppSprintClient, resource: str, **params: Any) -> tuple[pa.Table, httpx.Response]:
    response = client.http.get(
        f"/v1/apps/{client.app_id}/{resource}",
        params=params,
        headers={**ARROW, "Authorization": f"Bearer {client.token}"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == ARROW_MEDIA_TYPE
    return pa.ipc.open_stream(response.content).read_all(), response


def read_all_arrow(client: AppSprintClient, resource: str, limit: int, **params: Any) -> tuple[list[dict], list]:
    rows: list[dict] = []
    cursors: list = []
    query: dict[str, Any] = {"limit": limit, **params}
    while True:
        table, response = arrow_page(client, resource, **query)
        assert table.schema == arrow_schema(RESOURCES[resource])
        assert response.headers["x-request-id"]
        rows.extend(as_json_row(r) for r in table.to_pylist())
        cursor = response.headers.get("x-next-cursor")
        cursors.append(cursor)
        if cursor is None:
            return rows, cursors
        assert table.num_rows, "a page with a next cursor is never empty"
        query = {"limit": limit, "cursor": cursor}


def read_all_json(client: AppSprintClient, resource: str, limit: int, **params: Any) -> tuple[list[dict], list]:
    rows: list[dict] = []
    cursors: list = []
    query: dict[str, Any] = {"limit": limit, **params}
    while True:
        body = client.page(resource, **query)
        rows.extend(body["data"])
        cursors.append(body["meta"]["next_cursor"])
        if body["meta"]["next_cursor"] is None:
            return rows, cursors
        query = {"limit": limit, "cursor": body["meta"]["next_cursor"]}


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_arrow_pages_are_the_json_pages(api, resource):
    api.advance(api.world.future_horizon.total_seconds())  # hostile rows and re-deliveries included
    limit = 2 if resource == "signal-links" else 97
    arrow_rows, arrow_cursors = read_all_arrow(api, resource, limit)
    json_rows, json_cursors = read_all_json(api, resource, limit)
    assert len(arrow_cursors) >= 2
    assert arrow_cursors == json_cursors  # the same walk: the cursor semantics do not change
    assert arrow_rows == json_rows == expected_rows(api.world, resource, api.now())


def test_hostile_values_are_served_as_received_in_arrow(api):
    api.advance(api.world.future_horizon.total_seconds())
    rows = {r["event_id"]: r for r in read_all_arrow(api, "events", 1000)[0]}
    hostile = [r for r in api.world.table("events").to_pylist() if r["invalid_reason"]]
    assert {r["invalid_reason"] for r in hostile} >= {"bad_timestamp", "bad_currency", "negative_revenue"}
    for r in hostile:
        if r["invalid_reason"] == "bad_timestamp":
            assert rows[r["event_id"]]["occurred_at"] == r["occurred_at_raw"]  # a string column
        elif r["invalid_reason"] == "negative_revenue":
            assert rows[r["event_id"]]["revenue"] < 0


def test_updated_since_and_live_clicks_in_arrow(api):
    everything = expected_rows(api.world, "clicks", api.now())
    pivot = everything[len(everything) // 2]["updated_at"]
    # a Signal-link click recorded now is merged into the pages in (updated_at, click_id) order
    link_id = expected_rows(api.world, "signal-links", api.now())[0]["id"]
    click = api.iphone_click(link_id, "E.C.P.arrow")
    assert click.status_code == 302
    arrow_rows, arrow_cursors = read_all_arrow(api, "clicks", 7, updated_since=pivot)
    json_rows, json_cursors = read_all_json(api, "clicks", 7, updated_since=pivot)
    assert arrow_rows == json_rows and arrow_cursors == json_cursors
    assert arrow_rows[-1]["click_id"] == click.headers["x-appsprint-click-id"]
    assert arrow_rows[-1]["ttclid"] == "E.C.P.arrow"
    assert all(r["updated_at"] > pivot for r in arrow_rows)


def test_json_stays_the_default_and_the_accept_header_decides(api):
    url = f"/v1/apps/{api.app_id}/events"
    auth = {"Authorization": f"Bearer {api.token}"}
    cases = {
        None: "application/json",
        "application/json": "application/json",
        "*/*": "application/json",
        ARROW_MEDIA_TYPE: ARROW_MEDIA_TYPE,
        f"{ARROW_MEDIA_TYPE}, application/json;q=0.5": ARROW_MEDIA_TYPE,
        f"{ARROW_MEDIA_TYPE};q=0.2, application/json": "application/json",
        f"{ARROW_MEDIA_TYPE};q=0": "application/json",
    }
    for accept, served in cases.items():
        headers = dict(auth) if accept is None else {**auth, "Accept": accept}
        response = api.http.get(url, params={"limit": 5}, headers=headers)
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0] == served, accept
        assert "Accept" in response.headers["vary"]
    assert not wants_arrow("application/json, " + ARROW_MEDIA_TYPE)  # a tie: JSON


def test_errors_stay_json_for_arrow_clients(api):
    url = f"/v1/apps/{api.app_id}/events"
    response = api.http.get(url, headers={**ARROW, "Authorization": "Bearer wrong"})
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"
    response = api.http.get(url, params={"cursor": "nope"}, headers={**ARROW, "Authorization": f"Bearer {api.token}"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_cursor"
    response = api.http.get(url, params={"limit": 0}, headers={**ARROW, "Authorization": f"Bearer {api.token}"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_parameter"
    api.arm(endpoint="events", kind="http", status=429, retry_after=3)
    response = api.http.get(url, headers={**ARROW, "Authorization": f"Bearer {api.token}"})
    assert response.status_code == 429 and response.headers["retry-after"] == "3"


def test_a_server_without_arrow_support_answers_json(tiny_world, serve_world):
    client = serve_world(tiny_world, arrow_pages=False)
    response = client.http.get(
        f"/v1/apps/{client.app_id}/events",
        params={"limit": 3},
        headers={**ARROW, "Authorization": f"Bearer {client.token}"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert len(response.json()["data"]) == 3
