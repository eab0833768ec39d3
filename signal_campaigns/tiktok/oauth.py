"""TikTok advertiser authorization (docs/tiktok_business_api.md): the authorization URL
with a random ``state``, a one-shot localhost redirect server that receives
``?auth_code=..&state=..``, and parsing of a pasted code or redirect URL.

A callback whose ``state`` differs from the one this run generated is rejected (it was not started
by this run: a stale tab or a forged request), and the code it carries is never exchanged.
"""

from __future__ import annotations

import dataclasses
import http.server
import secrets
import threading
import urllib.parse
from typing import Any

from signal_campaigns.errors import ActionableError

from . import api

DEFAULT_CALLBACK_PORT = 8765
CALLBACK_PATH = "/tiktok/callback"

_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>signal-campaigns</title></head>"
    "<body style='font-family:sans-serif'><h2>{title}</h2><p>{body}</p></body></html>"
)
STATE_MISMATCH = (
    "the authorization callback carried a different state than this run generated; it was "
    "rejected and its code was not used"
)
STATE_MISMATCH_FIX = "run `signal-campaigns connect` again and finish the authorization in the browser tab it opens"


def new_state() -> str:
    return secrets.token_urlsafe(24)


def authorization_url(host_root: str, app_id: str, redirect_uri: str, state: str) -> str:
    query = urllib.parse.urlencode({"app_id": app_id, "state": state, "redirect_uri": redirect_uri})
    return f"{host_root.rstrip('/')}{api.AUTHORIZATION_PAGE_PATH}?{query}"


@dataclasses.dataclass
class CallbackResult:
    auth_code: str | None
    state: str | None
    error: str | None = None


def _first(params: dict[str, list[str]], key: str) -> str | None:
    values = params.get(key)
    return values[0] if values else None


def parse_pasted(text: str) -> CallbackResult:
    """A pasted redirect URL (``...?auth_code=..&state=..``) or a bare code."""
    text = text.strip()
    if "auth_code=" in text or "code=" in text:
        query = urllib.parse.urlsplit(text).query or text.split("?", 1)[-1]
        params = urllib.parse.parse_qs(query)
        return CallbackResult(_first(params, "auth_code") or _first(params, "code"), _first(params, "state"))
    return CallbackResult(text or None, None)


def check_state(result: CallbackResult, expected: str) -> str:
    """The auth code of ``result`` if its state is ``expected``; :class:`ActionableError` otherwise."""
    if result.error:
        raise ActionableError(f"TikTok did not authorize the app: {result.error}", fix=STATE_MISMATCH_FIX)
    if result.state is None or not secrets.compare_digest(result.state, expected):
        raise ActionableError(STATE_MISMATCH, fix=STATE_MISMATCH_FIX)
    if not result.auth_code:
        raise ActionableError("the authorization callback carried no auth_code", fix=STATE_MISMATCH_FIX)
    return result.auth_code


class CallbackServer:
    """A one-shot HTTP server on 127.0.0.1 that waits for the redirect to ``path``."""

    def __init__(
        self, expected_state: str, port: int = DEFAULT_CALLBACK_PORT, path: str = CALLBACK_PATH, host: str = "127.0.0.1"
    ) -> None:
        self.expected_state = expected_state
        self.path = path
        self.result: CallbackResult | None = None
        self._done = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                split = urllib.parse.urlsplit(self.path)
                if split.path != outer.path:
                    self._reply(404, "Not found", "This is the signal-campaigns authorization callback.")
                    return
                params = urllib.parse.parse_qs(split.query)
                result = CallbackResult(
                    _first(params, "auth_code") or _first(params, "code"),
                    _first(params, "state"),
                    _first(params, "error_description") or _first(params, "error"),
                )
                ok = (
                    result.error is None
                    and result.auth_code
                    and result.state is not None
                    and secrets.compare_digest(result.state, outer.expected_state)
                )
                if ok:
                    self._reply(200, "TikTok is connected", "You can close this tab and return to the terminal.")
                else:
                    self._reply(400, "Authorization rejected", STATE_MISMATCH if result.error is None else result.error)
                outer.result = result
                outer._done.set()

            def _reply(self, status: int, title: str, body: str) -> None:
                page = _PAGE.format(title=title, body=body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, format: str, *args: Any) -> None:  # the query holds the code: never log it
                return

        try:
            self._server = http.server.HTTPServer((host, port), Handler)
        except OSError as exc:
            raise ActionableError(
                f"cannot listen on {host}:{port} for the authorization callback ({exc.strerror})",
                fix="pass a free --port (and register that redirect URL in the TikTok app), or use "
                "--paste to paste the code instead",
            ) from None
        self.host = host
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="oauth-callback", daemon=True)

    @property
    def redirect_uri(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"

    def __enter__(self) -> CallbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait(self, timeout: float) -> CallbackResult:
        if not self._done.wait(timeout):
            raise ActionableError(
                f"no authorization arrived within {timeout:g} s",
                fix="run `signal-campaigns connect` again and approve access in the browser, or use "
                "--paste to paste the code",
            )
        assert self.result is not None
        return self.result
