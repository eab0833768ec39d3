"""The AppSprint client's wire I/O (urllib3 under httpx): what the client relies on from it, over
real sockets: pages and headers arrive intact, a refused connection and a cut response are
retried transport errors, and a configured proxy keeps httpx's own transport (which honours it)."""

from __future__ import annotations

import socket
import threading

import pytest

from dlt_sources.appsprint import AppSprintClient, AppSprintRetriesExhaustedError
from dlt_sources.appsprint.urllib3_transport import Urllib3Transport, default_transport


def client(base_url: str, **kwargs) -> AppSprintClient:
    return AppSprintClient(base_url, "app-1", "token-xyz", max_retries=1, sleep=lambda s: None, **kwargs)


def test_pages_come_through_the_urllib3_transport(sandbox):
    creds = sandbox.credentials
    c = AppSprintClient(sandbox.appsprint_api_url, creds.appsprint_app_id, creds.appsprint_export_token, wire="arrow")
    assert isinstance(c._http._transport, Urllib3Transport)
    with c:
        pages = list(c.iter_pages("events", limit=200, prefetch=0))
    assert len(pages) > 1 and all(p.table is not None for p in pages[:-1])
    assert all(p.request_id for p in pages)  # response headers (X-Request-Id, X-Next-Cursor) read
    assert c.stats.pages == len(pages) and c.stats.pages_by_wire == {"arrow": len(pages)}


def test_a_refused_connection_is_retried_then_reported(unused_port):
    c = client(f"http://127.0.0.1:{unused_port}/v1")
    with pytest.raises(AppSprintRetriesExhaustedError, match="connection error"):
        c.get_page("events", {"limit": 10})
    assert c.stats.retries_by_reason == {"connection": 1}
    c.close()


def test_a_response_cut_midway_is_a_retried_transport_error():
    """A server that promises 1,000 bytes and closes after 10 (a proxy dropping the connection)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    port = srv.getsockname()[1]

    def serve() -> None:
        for _ in range(2):
            conn, _ = srv.accept()
            conn.recv(65536)
            conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"data": [')
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    c = client(f"http://127.0.0.1:{port}/v1")
    with pytest.raises(AppSprintRetriesExhaustedError) as err:
        c.get_page("events", {"limit": 10})
    assert c.stats.retries == 1 and "token-xyz" not in str(err.value)
    c.close()
    thread.join(timeout=5)
    srv.close()


def test_a_proxy_in_the_environment_keeps_httpx_transport(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    assert default_transport() is None
    c = client("https://api.appsprint.example/v1")
    assert not isinstance(c._http._transport, Urllib3Transport)
    c.close()
    monkeypatch.delenv("HTTPS_PROXY")
    monkeypatch.delenv("https_proxy", raising=False)
    assert isinstance(default_transport(), Urllib3Transport)


@pytest.fixture
def unused_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
