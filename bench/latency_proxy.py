"""A TCP proxy on loopback that delays what the server answers: network latency *after* the server
has processed a request, the moment in which a killed client has had its request taken but not its
answer. The chaos benchmark (bench/bench_chaos.py) puts it between the forwarder and the sandbox
TikTok server, so that kills land in that window as often as a real network makes them."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from urllib.parse import urlsplit


class LatencyProxy:
    """``with LatencyProxy("http://127.0.0.1:8787", 0.03) as proxy: proxy.url`` -> the same server,
    each chunk of its answers held ``delay`` seconds."""

    def __init__(self, target_url: str, delay: float) -> None:
        parts = urlsplit(target_url)
        assert parts.hostname is not None and parts.port is not None, target_url
        self.host, self.port, self.delay = parts.hostname, parts.port, delay
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="latency-proxy", daemon=True)
        self._server: asyncio.Server | None = None

    def __enter__(self) -> LatencyProxy:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", 0), self._loop
        ).result(10)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(self.host, self.port)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(
            self._pipe(client_r, server_w, 0.0), self._pipe(server_r, client_w, self.delay), return_exceptions=True
        )

    @staticmethod
    async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, delay: float) -> None:
        """Copy ``src`` to ``dst`` until either end closes (a killed client closes its side)."""
        try:
            while data := await src.read(65536):
                if delay:
                    await asyncio.sleep(delay)
                dst.write(data)
                await dst.drain()
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                dst.close()
