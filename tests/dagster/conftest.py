"""Fixtures of the Dagster tests: the sandbox's connection as the environment a deployment sets.

The code location reads a prepared dbt manifest (it never parses dbt when it loads): it is parsed
here, once per test session, before the test modules import the definitions."""

from __future__ import annotations

import httpx
import pytest

from dagster_project.defs.dbt.resources import prepare_manifest
from sandbox.connection import sandbox_connection

prepare_manifest()


@pytest.fixture
def sandbox_env(sandbox, monkeypatch):
    """Both sandbox servers, with dlt's ``SOURCES__*`` variables and the Events API token pointing
    at them for the test (as ``make dev`` sets them). Returns the sandbox endpoints."""
    env = sandbox_connection(sandbox).dlt_environment()
    env["TIKTOK_EVENTS_API_TOKEN"] = sandbox.credentials.events_api_token
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return sandbox


def control(base_url: str, path: str, body=None, method: str = "POST") -> dict:
    """One ``/_sandbox/<path>`` control call on a sandbox server."""
    response = httpx.request(method, f"{base_url}/_sandbox/{path}", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def received(sandbox) -> dict:
    """What the TikTok sandbox's Events API received (counters)."""
    return control(sandbox.tiktok_url, "events/received", method="GET")


def received_event_ids(sandbox) -> list[str]:
    """event_id of every production event the TikTok sandbox received (repeats included)."""
    ids: list[str] = []
    while True:
        body = httpx.get(
            f"{sandbox.tiktok_url}/_sandbox/events/received",
            params={"payloads": "true", "limit": 10_000, "offset": len(ids)},
            timeout=30,
        ).json()
        rows = body["payloads"]["events"]
        ids += [row["event"]["event_id"] for row in rows]
        if len(ids) >= body["payloads"]["total"] or not rows:
            return ids
