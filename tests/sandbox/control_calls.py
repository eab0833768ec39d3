"""Test helper: the `/_sandbox/*` control calls both sandbox servers share."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx


class SandboxControlCalls:
    """The ``/_sandbox/*`` control calls both servers share (needs ``self.http`` and ``self.url``)."""

    http: httpx.Client
    url: str

    def control(self, path: str, body: Any = None, method: str = "POST") -> Any:
        response = self.http.request(method, f"{self.url}/_sandbox/{path}", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def advance(self, seconds: float) -> dt.datetime:
        return dt.datetime.fromisoformat(self.control("clock", {"advance_seconds": seconds})["now"])

    def now(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.control("clock", method="GET")["now"])

    def arm(self, **fault: Any) -> None:
        self.control("faults", fault)
