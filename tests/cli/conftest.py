"""CLI fixtures: the tiny sandbox world served over real HTTP, a project directory per test, and
one warehouse per session built by the real pipeline (tests/models/conftest.py's fixtures) plus a
delivery ledger written by the real forwarder against the sandbox, with dead and pending events."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from signal_campaigns.cli import settings_store as keys
from signal_campaigns.cli.app import app
from signal_campaigns.cli.mapping import MAPPING_PATH_ENV, SEEDS_DIR
from signal_campaigns.cli.settings_store import SettingsStore, env_name
from signal_campaigns.warehouse.dbt_runner import MAPPING_OVERRIDE_ENV

# the model tests' session fixtures: the raw load by the real dlt sources, then `dbt build`
from tests.models.conftest import built_duckdb, dbt_target_paths, raw_warehouse  # noqa: F401

# forwarding run that plants problems in the ledger: events older than this are refused by the
# sandbox (40002 -> dead); only this many events are processed (the rest stay pending).
DEAD_OLDER_THAN_SECONDS = 4 * 86400
FORWARD_MAX_EVENTS = 80


@pytest.fixture(scope="session")
def cli_warehouse(built_duckdb, tiny_world, tmp_path_factory) -> Path:  # noqa: F811
    """The built tiny-world warehouse plus ``event_delivery_ledger`` with sent, dead and pending rows."""
    from sandbox.runner import sandbox_in_threads
    from signal_campaigns.forwarding import ForwarderConfig, RetryPolicy, forward_events

    assert built_duckdb["run"].success, built_duckdb["run"].failures()
    db = tmp_path_factory.mktemp("cli_wh") / "warehouse.duckdb"
    shutil.copyfile(built_duckdb["db"], db)
    with sandbox_in_threads(tiny_world, marketing_qps=None) as endpoints:
        httpx.post(
            f"{endpoints.tiktok_url}/_sandbox/events/config", json={"max_age_seconds": DEAD_OLDER_THAN_SECONDS}
        ).raise_for_status()
        forward_events(
            db,
            base_url=endpoints.tiktok_api_url,
            token=tiny_world.credentials.events_api_token,
            config=ForwarderConfig(max_events=FORWARD_MAX_EVENTS),
            retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.01),
        )
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        counts = dict(con.execute("select status, count(*) from main.event_delivery_ledger group by status").fetchall())
    assert all(counts.get(s, 0) > 0 for s in ("sent", "dead", "pending")), f"ledger not as planned: {counts}"
    return db


@pytest.fixture(scope="session")
def cli_sandbox(tiny_world):
    from sandbox.runner import sandbox_in_threads

    with sandbox_in_threads(tiny_world, marketing_qps=None) as endpoints:
        yield endpoints


class Sandbox:
    """The session's sandbox servers, reset for one test, with the TikTok clock at wall time (the
    CLI stamps test events with the real time)."""

    def __init__(self, endpoints) -> None:
        self.endpoints = endpoints
        self.creds = endpoints.credentials
        self.url = endpoints.tiktok_url
        self.api_url = endpoints.tiktok_api_url
        self.http = httpx.Client(timeout=30)

    def control(self, path: str, body: Any = None) -> Any:
        response = self.http.post(f"{self.url}/_sandbox/{path}", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def auth_code(self) -> str:
        return self.control("auth_codes")["auth_code"]

    def mint(self, kind: str = "marketing", advertiser_ids: list[str] | None = None) -> str:
        body: dict[str, Any] = {"kind": kind}
        if advertiser_ids is not None:
            body["advertiser_ids"] = advertiser_ids
        return self.control("tokens", body)["token"]

    def revoke(self, token: str) -> None:
        self.control("tokens/revoke", {"token": token})

    def received(self, pixel_code: str | None = None) -> dict[str, Any]:
        params = {"pixel_code": pixel_code} if pixel_code else {}
        return self.http.get(f"{self.url}/_sandbox/events/received", params=params).json()

    def api_code(self, path: str, token: str, **params: Any) -> int:
        """The envelope code of a GET with ``token`` (to see whether TikTok accepts a token)."""
        return self.http.get(f"{self.api_url}/{path}", params=params, headers={"Access-Token": token}).json()["code"]


@pytest.fixture
def tt(cli_sandbox) -> Iterator[Sandbox]:
    sandbox = Sandbox(cli_sandbox)
    sandbox.control("reset")
    sandbox.control("clock", {"at": dt.datetime.now(dt.UTC).isoformat()})
    try:
        yield sandbox
    finally:
        sandbox.http.close()


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """An empty project directory; no TikTok settings leak in from the environment; the mapping
    seed is a copy and the local override a file of this test (the repository's are never touched)."""
    for key in (
        keys.BASE_URL,
        keys.ADVERTISER_IDS,
        keys.ACCESS_TOKEN,
        keys.APP_ID,
        keys.APP_SECRET,
        keys.EVENTS_API_TOKEN,
        keys.PIXEL_CODE,
        keys.PIXEL_ID,
        keys.SIGNAL_LINK_URL,
    ):
        monkeypatch.delenv(env_name(key), raising=False)
    monkeypatch.delenv("DLT_PROJECT_DIR", raising=False)
    seed_copy = tmp_path / "event_mapping.csv"
    shutil.copyfile(SEEDS_DIR / "event_mapping.csv", seed_copy)
    monkeypatch.setenv(MAPPING_PATH_ENV, str(seed_copy))
    monkeypatch.setenv(MAPPING_OVERRIDE_ENV, str(tmp_path / "event_mapping.local.csv"))
    root = tmp_path / "project"
    root.mkdir()
    return root


@pytest.fixture
def connected(project, tt, tiny_world) -> Path:
    """A project as after connect + accounts + pixel (first advertiser, its pixel)."""
    creds = tt.creds
    advertiser = tiny_world.notes["advertiser_ids"][0]
    SettingsStore(project).set_many(
        {
            keys.BASE_URL: tt.api_url,
            keys.APP_ID: creds.tiktok_app_id,
            keys.APP_SECRET: creds.tiktok_app_secret,
            keys.ACCESS_TOKEN: creds.tiktok_access_token,
            keys.ADVERTISER_IDS: [advertiser],
            keys.EVENTS_API_TOKEN: creds.events_api_token,
            keys.PIXEL_CODE: tiny_world.notes["pixel_codes"][advertiser],
        }
    )
    return project


@pytest.fixture
def run_cli(project):
    """``run_cli(*args, input=None)`` -> click Result, with ``--project-dir`` set."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None, warehouse: Path | None = None):
        pre = ["--project-dir", str(project)]
        if warehouse is not None:
            pre += ["--warehouse", str(warehouse)]
        return runner.invoke(app, [*pre, *args], input=input, catch_exceptions=False)

    return run


def secret_values(creds) -> list[str]:
    return [creds.tiktok_access_token, creds.tiktok_app_secret, creds.events_api_token, creds.standard_access_token]


def assert_no_secrets(result, *extra: str, creds=None) -> None:
    """No full secret value appears in stdout or stderr."""
    text = result.stdout + result.stderr
    for value in [*extra, *(secret_values(creds) if creds else [])]:
        assert value and value not in text, "a secret was printed"
