"""The AppSprint source's wire formats: Arrow IPC pages (default) and the JSON fallback.

Loads run against the sandbox over real HTTP; a server without Arrow support is the sandbox
started with ``arrow_pages=False``. Hostile Arrow pages (wrong column types, bad values) are
typed directly, or served through httpx's mock transport for the client's own handling.
"""

from __future__ import annotations

import datetime as dt
import decimal

import httpx
import orjson
import pyarrow as pa
import pytest

from dlt_sources.appsprint import AppSprintClient, AppSprintRetriesExhaustedError, appsprint, settings
from dlt_sources.appsprint.pages import raw_from_arrow
from dlt_sources.appsprint.rows import TypedPage, cast_marking_bad, type_raw
from dlt_sources.appsprint.wire import ARROW_MEDIA_TYPE
from sandbox.appsprint_arrow import arrow_schema, ipc_stream
from sandbox.appsprint_resources import RESOURCES
from sandbox.appsprint_server import create_appsprint_app
from sandbox.control import SandboxClock, SandboxControl
from sandbox.serving import ThreadedServer
from tests.extraction.test_appsprint_source import TABLES, Run, make_pipeline, run, table_snapshot
from tests.extraction.test_appsprint_source import _event as json_event


def comparable(r: Run, table: str) -> list[tuple]:
    snap = table_snapshot(r, table)
    if table == "quarantine":  # raw text is formatted by each reader; quarantined_at is the run's time
        snap = [row[:3] + row[4:-1] for row in snap]
    return snap


def test_arrow_and_json_wires_load_the_same(sandbox, tmp_path):
    sandbox.advance_clock(3 * 24 * 3600)  # re-deliveries and every hostile row visible
    arrow = run(sandbox, tmp_path, name="arrow", wire="arrow", page_limit=250)
    json_ = run(sandbox, tmp_path, name="json", wire="json", page_limit=250)
    for table in TABLES:
        assert arrow.metrics(table)["pages_by_wire"] == {"arrow": arrow.metrics(table)["pages"]}, table
        assert json_.metrics(table)["pages_by_wire"] == {"json": json_.metrics(table)["pages"]}, table
    for table in (*TABLES, "quarantine"):
        assert comparable(arrow, table) == comparable(json_, table), table
    assert arrow.query("select count(*) from appsprint.quarantine")[0][0] > 0
    reasons = {r[0].split(":")[0] for r in arrow.query("select reason from appsprint.quarantine")}
    assert {"bad_timestamp", "bad_currency", "negative_revenue", "event_too_large"} <= reasons


def test_falls_back_to_json_when_the_server_has_no_arrow(sandbox, tiny_world, tmp_path):
    """A real AppSprint without Arrow support answers JSON to the Arrow request: the source reads it."""
    app = create_appsprint_app(tiny_world, SandboxControl(SandboxClock(tiny_world.anchor)), arrow_pages=False)
    creds = tiny_world.credentials
    with ThreadedServer(app) as server:
        pipeline, db = make_pipeline(tmp_path, "fallback")
        src = appsprint(
            base_url=f"{server.url}/v1",
            app_id=creds.appsprint_app_id,
            export_token=creds.appsprint_export_token,
            wire="arrow",
            page_limit=300,
        )
        pipeline.run(src)
    fallback = Run(pipeline, src, db)
    arrow = run(sandbox, tmp_path, name="arrow", wire="arrow", page_limit=300)
    for table in TABLES:
        assert fallback.metrics(table)["pages_by_wire"] == {"json": fallback.metrics(table)["pages"]}
    for table in (*TABLES, "quarantine"):
        assert comparable(fallback, table) == comparable(arrow, table), table


def test_unknown_wire_is_a_clear_error():
    with pytest.raises(ValueError, match="wire must be one of"):
        appsprint(base_url="http://x/v1", app_id="a", export_token="t", wire="xml")


# --- hostile Arrow pages ----------------------------------------------------------------------------
def _event(**kw):
    """The JSON test event of test_appsprint_source, with the Arrow schema's value types."""
    row = json_event(
        received_at=dt.datetime(2026, 6, 15, 11, 0, 1, tzinfo=dt.UTC),
        updated_at=dt.datetime(2026, 6, 15, 11, 0, 2, tzinfo=dt.UTC),
        revenue=decimal.Decimal("9.99"),
    )
    row["parameters"] = orjson.dumps(row["parameters"]).decode()
    row.update(kw)
    return row


EVENTS_SCHEMA = arrow_schema(RESOURCES["events"])


def type_arrow(table: pa.Table) -> TypedPage:
    return type_raw(settings.EVENTS, raw_from_arrow(settings.EVENTS, table))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"occurred_at": "2026-13-45T25:61:00Z"}, "bad_timestamp: occurred_at='2026-13-45T25:61:00Z'"),
        ({"occurred_at": "2026-02-30T10:00:00Z"}, "bad_timestamp: occurred_at='2026-02-30T10:00:00Z'"),
        ({"occurred_at": "2025-02-29T10:00:00Z"}, "bad_timestamp: occurred_at='2025-02-29T10:00:00Z'"),
        ({"occurred_at": "31/12/2025 24:00"}, "bad_timestamp"),
        ({"currency": "usd1"}, "bad_currency: currency='usd1'"),
        ({"revenue": decimal.Decimal("-4.99")}, "negative_revenue: revenue=-4.99"),
        ({"event_id": None}, "missing_id"),
        ({"event_id": ""}, "missing_id"),
        ({"parameters": orjson.dumps({"blob": "x" * 17000}).decode()}, "event_too_large"),
        (
            {"parameters": orjson.dumps({f"k{i}": i for i in range(65)}).decode()},
            "event_too_large: parameters has 65 keys",
        ),
        ({"parameters": "[1, 2]"}, "bad_parameters"),
        ({"updated_at": None}, "bad_timestamp: updated_at=None"),
    ],
)
def test_arrow_pages_quarantine_each_hostile_row_and_keep_the_rest(change, reason):
    rows = [_event(event_id=f"ev_{i}") for i in range(5)]
    rows.insert(2, _event(**{"event_id": "ev_bad", **change}))
    typed = type_arrow(pa.Table.from_pylist(rows, schema=EVENTS_SCHEMA))
    assert typed.table["event_id"].to_pylist() == [f"ev_{i}" for i in range(5)]
    assert typed.quarantine is not None
    q = typed.quarantine.to_pylist()
    assert len(q) == 1 and q[0]["reason"].startswith(reason), q[0]["reason"]
    raw = orjson.loads(q[0]["raw"])
    assert raw["event_id"] == rows[2]["event_id"] and raw["currency"] == rows[2]["currency"]


def test_arrow_page_types_exactly():
    typed = type_arrow(
        pa.Table.from_pylist([_event(), _event(event_id="ev_2", revenue=None, currency=None)], schema=EVENTS_SCHEMA)
    )
    assert typed.quarantine is None
    t = typed.table
    assert t.schema == settings.EVENTS.arrow_schema
    first = t.to_pylist()[0]
    assert first["revenue"] == decimal.Decimal("9.990000") and first["currency"] == "USD"
    assert first["occurred_at"] == dt.datetime(2026, 6, 15, 11, tzinfo=dt.UTC)
    assert first["updated_at"] == dt.datetime(2026, 6, 15, 11, 0, 2, tzinfo=dt.UTC)


def test_arrow_columns_of_unexpected_types():
    """A server's schema is hostile input too: numbers where strings belong become text, text
    where a number belongs is quarantined, a missing field is null, extra fields are reported."""
    n = 3
    base = pa.Table.from_pylist([_event(event_id=f"ev_{i}") for i in range(n)], schema=EVENTS_SCHEMA)
    t = base.set_column(0, "event_id", pa.array([101, 102, 103], pa.int64()))  # ids as numbers
    t = t.set_column(
        t.schema.get_field_index("updated_at"),
        "updated_at",
        pa.array(["2026-06-15T11:00:02Z", "2026-06-15T11:00:03+00:00", "garbage"]),
    )  # text
    t = t.set_column(t.schema.get_field_index("revenue"), "revenue", pa.array([1.5, None, 2.25]))  # float
    t = t.drop_columns(["currency"]).append_column("surprise", pa.array([1, 2, 3]))
    typed = type_arrow(t)
    assert typed.table["event_id"].to_pylist() == ["101", "102"]
    assert typed.table["revenue"].to_pylist() == [decimal.Decimal("1.5"), None]
    assert typed.table["currency"].to_pylist() == [None, None]
    assert typed.unknown_fields == {"surprise"}
    assert typed.quarantine is not None
    q = typed.quarantine.to_pylist()
    assert [r["row_key"] for r in q] == ["103"] and q[0]["reason"] == "bad_timestamp: updated_at='garbage'"

    as_text = base.set_column(base.schema.get_field_index("revenue"), "revenue", pa.array(["4.99", None, "1"]))
    typed = type_arrow(as_text)
    assert typed.table["event_id"].to_pylist() == ["ev_1"]  # the row without revenue
    assert typed.quarantine is not None
    assert all(r["reason"].startswith("bad_revenue") for r in typed.quarantine.to_pylist())


def test_install_attribution_that_is_not_a_struct_is_quarantined():
    schema = arrow_schema(RESOURCES["installs"])
    good = {
        "appsprint_id": "as_1",
        "installed_at": None,
        "platform": "ios",
        "app_version": "1",
        "country": "US",
        "ip": None,
        "user_agent": None,
        "attribution": {
            "status": "attributed",
            "network": "tiktok",
            "match_type": "ttclid",
            "confidence": 0.9,
            "link_id": "l1",
            "click_id": "c1",
        },
        "updated_at": dt.datetime(2026, 6, 15, tzinfo=dt.UTC),
    }
    typed = type_raw(settings.INSTALLS, raw_from_arrow(settings.INSTALLS, pa.Table.from_pylist([good], schema=schema)))
    assert typed.table.to_pylist()[0]["attribution__click_id"] == "c1"
    flat = pa.Table.from_pylist([good], schema=schema)
    flat = flat.set_column(flat.schema.get_field_index("attribution"), "attribution", pa.array(["attributed"]))
    typed = type_raw(settings.INSTALLS, raw_from_arrow(settings.INSTALLS, flat))
    assert typed.table.num_rows == 0
    assert typed.quarantine is not None
    assert typed.quarantine.to_pylist()[0]["reason"] == "bad_nested: attribution is not an object"


# --- the client reading Arrow replies (mock transport) --------------------------------------------
def _client(handler, **kwargs) -> AppSprintClient:
    kwargs.setdefault("sleep", lambda s: None)
    return AppSprintClient(
        "https://appsprint.test/v1",
        "app_1",
        "tok_secret_123",
        transport=httpx.MockTransport(handler),
        wire="arrow",
        **kwargs,
    )


def test_client_asks_for_arrow_and_reads_cursor_headers():
    body = ipc_stream(pa.Table.from_pylist([_event()], schema=EVENTS_SCHEMA))
    seen = []

    def handler(req):
        seen.append(req)
        return httpx.Response(
            200, content=body, headers={"content-type": ARROW_MEDIA_TYPE, "X-Next-Cursor": "c2", "X-Request-Id": "r1"}
        )

    page = _client(handler).get_page("events", {})
    assert page.wire == "arrow" and page.next_cursor == "c2" and page.request_id == "r1"
    assert page.table is not None
    assert page.table.num_rows == 1
    assert seen[0].headers["accept"].startswith(ARROW_MEDIA_TYPE)


def test_a_cut_arrow_stream_is_retried_then_reported():
    body = ipc_stream(pa.Table.from_pylist([_event()] * 50, schema=EVENTS_SCHEMA))
    calls = []

    def handler(req):
        calls.append(req)
        cut = body[: len(body) // 2] if len(calls) < 3 else body
        return httpx.Response(200, content=cut, headers={"content-type": ARROW_MEDIA_TYPE})

    client = _client(handler)
    page = client.get_page("events", {})
    assert page.table is not None
    assert page.table.num_rows == 50 and client.stats.retries_by_reason == {"invalid_body": 2}
    client = _client(
        lambda req: httpx.Response(200, content=b"nope", headers={"content-type": ARROW_MEDIA_TYPE}), max_retries=1
    )
    with pytest.raises(AppSprintRetriesExhaustedError, match="Arrow stream that cannot be read"):
        client.get_page("events", {})


def test_calendar_days_are_checked_in_bulk_leap_years_included():
    """A batch with a bad timestamp takes the vectorised check: every value is judged by the
    calendar (30 and 31 per month, 29 February only in leap years), the good ones are typed."""
    values = [
        "2024-02-29T10:00:00Z",
        "2000-02-29T10:00:00.5Z",
        "1900-02-29T10:00:00Z",
        "2026-02-29T10:00:00Z",
        "2026-04-31T10:00:00Z",
        "2026-04-30T23:59:59.999Z",
        "2026-12-31 10:00:00+02:00",
        "2026-06-15T10:00:00-02:29",
        "2026-13-01T00:00:00Z",
        "not a time",
        None,
    ]
    typed, bad = cast_marking_bad(pa.array(values, pa.string()), settings.TS)
    assert [v for v, b in zip(values, bad) if b] == [
        "1900-02-29T10:00:00Z",
        "2026-02-29T10:00:00Z",
        "2026-04-31T10:00:00Z",
        "2026-13-01T00:00:00Z",
        "not a time",
    ]
    assert typed.null_count == 6  # the five bad values and the missing one
    assert typed[6].as_py() == dt.datetime(2026, 12, 31, 8, 0, tzinfo=dt.UTC)
