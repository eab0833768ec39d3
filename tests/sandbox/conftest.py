"""Fixtures of the sandbox server tests, over real HTTP on loopback.

TikTok (names start with ``tiktok_``/``tt_``): ``tt`` is a TikTok sandbox server (one per test
module, reset before each test: clock, faults, tokens and the Events API store start clean), rate
limits lifted; ``tt_factory`` starts servers with custom options (e.g. the default rate limits).

AppSprint: ``api`` is the module's AppSprint sandbox (``appsprint_server``) reset before each test;
``serve_world`` starts extra ones on custom worlds / options.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import pytest

from sandbox.appsprint_server import create_appsprint_app
from sandbox.control import SandboxClock, SandboxControl
from sandbox.serving import ThreadedServer
from sandbox.tiktok_server import NO_RATE_LIMITS, create_tiktok_app
from sandbox.world import World
from tests.sandbox.appsprint_client import AppSprintClient
from tests.sandbox.control_calls import SandboxControlCalls


class TikTokSandboxClient(SandboxControlCalls):
    """A running TikTok sandbox plus small helpers for the tests."""

    def __init__(self, world: World, url: str, app) -> None:
        self.world = world
        self.url = url
        self.api = f"{url}/open_api/v1.3"
        self.app = app
        self.creds = world.credentials
        self.http = httpx.Client(timeout=10)

    # --- API calls --------------------------------------------------------------------------------
    def get(self, path: str, token: str | None = "default", **params: Any) -> dict[str, Any]:
        response = self.raw_get(path, token, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def raw_get(self, path: str, token: str | None = "default", **params: Any) -> httpx.Response:
        return self.http.get(f"{self.api}/{path}", params=params, headers=self._headers(token))

    def post(self, path: str, body: Any, token: str | None = "default") -> dict[str, Any]:
        response = self.raw_post(path, body, token)
        assert response.status_code == 200, response.text
        return response.json()

    def raw_post(self, path: str, body: Any, token: str | None = "default") -> httpx.Response:
        return self.http.post(f"{self.api}/{path}", json=body, headers=self._headers(token))

    def _headers(self, token: str | None) -> dict[str, str]:
        if token == "default":
            token = self.creds.tiktok_access_token
        return {} if token is None else {"Access-Token": token}

    # --- sandbox control --------------------------------------------------------------------------

    def received(self, pixel_code: str | None = None, **params: Any) -> dict[str, Any]:
        if pixel_code:
            params["pixel_code"] = pixel_code
        response = self.http.get(f"{self.url}/_sandbox/events/received", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    # --- world facts --------------------------------------------------------------------------------
    def rows(self, table: str) -> list[dict[str, Any]]:
        return self.world.table(table).to_pylist()

    def advertiser_ids(self) -> list[str]:
        return [a["advertiser_id"] for a in self.rows("advertisers")]

    def pixel_codes(self) -> list[str]:
        return [p["pixel_code"] for p in self.rows("pixels")]


@pytest.fixture(scope="session")
def tiktok_world(tiny_world) -> World:
    return tiny_world


def _tiktok_app(world: World, **options: Any):
    options.setdefault("rate_limits", NO_RATE_LIMITS)
    return create_tiktok_app(world, **options)


Client = TypeVar("Client", TikTokSandboxClient, AppSprintClient)


class _StartedServers:
    """The servers a factory fixture started: ``close()`` stops them and closes their clients."""

    def __init__(self) -> None:
        self._started: list[tuple[ThreadedServer, TikTokSandboxClient | AppSprintClient]] = []

    def start(self, app: Any, client_of: Callable[[str], Client]) -> Client:
        server = ThreadedServer(app).start()
        client = client_of(server.url)
        self._started.append((server, client))
        return client

    def close(self) -> None:
        for server, client in self._started:
            client.http.close()
            server.stop()


@pytest.fixture(scope="module")
def tt_server(tiktok_world):
    """One TikTok sandbox per test module (rate limits lifted); use ``tt`` for a clean state."""
    app = _tiktok_app(tiktok_world)
    with ThreadedServer(app) as server:
        client = TikTokSandboxClient(tiktok_world, server.url, app)
        yield client
        client.http.close()


@pytest.fixture
def tt(tt_server):
    """The module's TikTok sandbox, reset (``POST /_sandbox/reset``) to its start state: clock at the
    anchor, no faults, fresh tokens, counters and Events API store."""
    tt_server.control("reset")
    return tt_server


@pytest.fixture
def tt_factory(tiktok_world):
    """Start TikTok sandboxes with custom options: ``tt_factory(marketing_qps=2, rate_limits=None)``."""
    servers = _StartedServers()

    def start(**options: Any) -> TikTokSandboxClient:
        app = _tiktok_app(tiktok_world, **options)
        return servers.start(app, lambda url: TikTokSandboxClient(tiktok_world, url, app))

    yield start
    servers.close()


# --- AppSprint ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def appsprint_server(tiny_world):
    app = create_appsprint_app(tiny_world, SandboxControl(SandboxClock(tiny_world.anchor)))
    with ThreadedServer(app) as server:
        client = AppSprintClient(tiny_world, server.url, app)
        yield client
        client.http.close()


@pytest.fixture
def api(appsprint_server) -> AppSprintClient:
    """The module's AppSprint sandbox, reset: clock at the anchor, no faults, no recorded clicks."""
    appsprint_server.control("reset")
    return appsprint_server


@pytest.fixture
def serve_world():
    """Start extra AppSprint sandboxes on custom worlds / options."""
    servers = _StartedServers()

    def start(world: World, **options: Any) -> AppSprintClient:
        app = create_appsprint_app(world, **options)
        return servers.start(app, lambda url: AppSprintClient(world, url, app))

    yield start
    servers.close()
