"""Analyst fixtures: a demo-sized warehouse anchored at the current hour, as `make demo` builds it
(the real dlt sources against the sandbox, `dbt build`, the forwarder, then the published BI copy),
so that queries with dates relative to today find rows."""

from __future__ import annotations

from pathlib import Path

import pytest


def build_demo_warehouse(root: Path, scale: str = "demo") -> dict[str, Path]:
    """The demo's steps into ``root``: returns the warehouse and its BI copy."""
    from sandbox.connection import extract_sandbox_world
    from sandbox.generate import generate_world
    from sandbox.runner import default_anchor, sandbox_in_threads
    from signal_campaigns.forwarding import forward_events
    from signal_campaigns.pipeline import build_models
    from signal_campaigns.warehouse import publish_read_only_copy

    anchor = default_anchor()
    world = generate_world(seed=7, scale=scale, anchor=anchor)
    db = root / "warehouse.duckdb"
    with sandbox_in_threads(world, marketing_qps=None) as endpoints:
        extract_sandbox_world(endpoints, db, anchor)
        run = build_models(db, now=anchor, check=False)
        assert run.success, run.failures()
        forward_events(db, base_url=endpoints.tiktok_url, token=endpoints.credentials.events_api_token)
    return {"db": db, "bi_copy": publish_read_only_copy(db)}


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory) -> dict[str, Path]:
    """A demo-sized warehouse anchored at the current hour and its published BI copy."""
    return build_demo_warehouse(tmp_path_factory.mktemp("analyst_demo"))
