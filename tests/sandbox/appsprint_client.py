"""A test client of the sandbox AppSprint export API over real HTTP (the fixtures ``appsprint_server``,
``api`` and ``serve_world`` in conftest.py hand it out)."""

from __future__ import annotations

from typing import Any

import httpx

from sandbox.world import World
from tests.sandbox.control_calls import SandboxControlCalls

DEFAULT = object()  # "the world's export token" (None sends no Authorization header)


class AppSprintClient(SandboxControlCalls):
    def __init__(self, world: World, url: str, app) -> None:
        self.world = world
        self.url = url
        self.app = app
        self.app_id = world.credentials.appsprint_app_id
        self.token = world.credentials.appsprint_export_token
        self.http = httpx.Client(base_url=url, timeout=10)

    def get(self, resource: str, token: Any = DEFAULT, app_id: str | None = None, **params: Any) -> httpx.Response:
        token = self.token if token is DEFAULT else token
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return self.http.get(f"/v1/apps/{app_id or self.app_id}/{resource}", params=params, headers=headers)

    def iphone_click(self, link_id: str, ttclid: str) -> httpx.Response:
        """A person on an iPhone opening the Signal link ``link_id`` from a TikTok ad (a live click)."""
        ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"
        return self.http.get(f"/s/{link_id}", params={"ttclid": ttclid}, headers={"User-Agent": ua})

    def page(self, resource: str, **params: Any) -> dict:
        response = self.get(resource, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def read_all(self, resource: str, limit: int = 1000, **params: Any) -> tuple[list[dict], int]:
        """Follow next_cursor to the end; returns (rows, pages)."""
        rows: list[dict] = []
        pages = 0
        query: dict[str, Any] = {"limit": limit, **params}
        while True:
            body = self.page(resource, **query)
            pages += 1
            rows.extend(body["data"])
            cursor = body["meta"]["next_cursor"]
            if cursor is None:
                return rows, pages
            assert body["data"], "a page with a next_cursor must not be empty"
            query = {"limit": limit, "cursor": cursor}
