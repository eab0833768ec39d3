"""A big world's AppSprint rows served from its Parquet files, a segment at a time: what a client
reads (rows, order, JSON and Arrow, cursors, ``updated_since``, live Signal-link clicks, the
clock) is what the in-memory server serves. The tiny world stands in for a big one: opened with
its rows on disk and cut into segments of a few hundred rows, so every walk crosses many."""

from __future__ import annotations

import pytest

from sandbox.appsprint_resources import RESOURCES
from sandbox.appsprint_server import create_appsprint_app
from sandbox.serving import ThreadedServer
from sandbox.world_cache import open_world, write_world
from tests.conftest import FIXED_ANCHOR
from tests.sandbox.appsprint_client import AppSprintClient
from tests.sandbox.test_appsprint_api import expected_rows
from tests.sandbox.test_appsprint_arrow import read_all_arrow, read_all_json

SEGMENT_ROWS = 150


@pytest.fixture(scope="module")
def disk_server(tmp_path_factory, tiny_world):
    directory = write_world(seed=7, scale="tiny", anchor=FIXED_ANCHOR, cache_dir=tmp_path_factory.mktemp("cache"))
    world = open_world(directory, in_memory_events=0)
    assert world.rows_dir == directory
    assert all(world.table(t).num_rows == 0 for t in ("clicks", "installs", "events"))  # on disk only
    app = create_appsprint_app(world, segment_rows=SEGMENT_ROWS)
    with ThreadedServer(app) as server:
        client = AppSprintClient(tiny_world, server.url, app)  # expectations from the in-memory world
        yield client
        client.http.close()


@pytest.fixture
def disk(disk_server) -> AppSprintClient:
    disk_server.control("reset")
    return disk_server


@pytest.mark.parametrize("resource", list(RESOURCES))
@pytest.mark.parametrize("advance_days", [0, 1, 3])
def test_every_row_once_in_order_at_every_clock(disk, resource, advance_days):
    now = disk.advance(advance_days * 86400) if advance_days else disk.now()
    expected = expected_rows(disk.world, resource, now)
    json_rows, json_cursors = read_all_json(disk, resource, 97)
    arrow_rows, arrow_cursors = read_all_arrow(disk, resource, 97)
    assert json_rows == expected
    assert arrow_rows == expected and arrow_cursors == json_cursors
    if resource != "signal-links" and len(expected) > SEGMENT_ROWS:
        assert len(json_cursors) > len(expected) // 97  # pages stop at segment ends, and lead on


def test_updated_since_and_live_clicks_from_disk(disk):
    everything = expected_rows(disk.world, "clicks", disk.now())
    pivot = everything[len(everything) // 3]["updated_at"]
    link_id = expected_rows(disk.world, "signal-links", disk.now())[0]["id"]
    click = disk.iphone_click(link_id, "E.C.P.disk")
    assert click.status_code == 302
    json_rows, json_cursors = read_all_json(disk, "clicks", 11, updated_since=pivot)
    arrow_rows, arrow_cursors = read_all_arrow(disk, "clicks", 11, updated_since=pivot)
    assert arrow_rows == json_rows and arrow_cursors == json_cursors
    assert json_rows[:-1] == [r for r in everything if r["updated_at"] > pivot]
    assert json_rows[-1]["click_id"] == click.headers["x-appsprint-click-id"]
    assert json_rows[-1]["ttclid"] == "E.C.P.disk"
