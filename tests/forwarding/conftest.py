"""Forwarding fixtures: a warehouse file with a synthetic ``events_to_forward`` table."""

from __future__ import annotations

import pytest

from sandbox.synthetic_queue import synthetic_queue, write_queue_file
from tests.conftest import FIXED_ANCHOR


@pytest.fixture
def pixel_codes(tiny_world) -> list[str]:
    return sorted(tiny_world.notes["pixel_codes"].values())


@pytest.fixture
def make_warehouse(tmp_path, pixel_codes):
    """``make_warehouse(n, rows=None) -> (path, rows)``: a DuckDB file whose main.events_to_forward
    holds ``rows`` (default: ``n`` synthetic eligible events)."""

    def make(n: int = 100, rows=None, name: str = "warehouse.duckdb"):
        rows = rows if rows is not None else synthetic_queue(n, pixel_codes, FIXED_ANCHOR)
        path = tmp_path / name
        write_queue_file(path, rows)
        return path, rows

    return make
