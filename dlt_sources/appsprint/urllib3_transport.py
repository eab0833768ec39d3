"""An httpx transport over urllib3's connection pool, for the AppSprint client's bulk reads.

The client stays an ``httpx.Client`` (requests, responses, timeouts and the transport errors it
retries are httpx's); only the wire I/O goes through urllib3. A page of 1,000 events is ~400 KB,
which httpx's own transport parses in 64 KB h11 events; the AppSprint read is a chain of
sequential requests whose pace is that CPU. Fetching the 1,000 Arrow pages of 1M events from the
sandbox (a fetch-only loop, no typing): client CPU 2.1 s with httpx's transport, 1.5-1.6 s with
this one (0.9 s with bare urllib3, without httpx's client around it).

Errors map onto httpx's: timeouts to ``httpx.ConnectTimeout`` / ``httpx.ReadTimeout``, anything
else urllib3 raises to ``httpx.ConnectError`` or ``httpx.RemoteProtocolError`` (all
``httpx.TransportError``, retried by the client). Bodies are passed on as received; httpx decodes
``Content-Encoding`` as usual. With proxy environment variables set, the client keeps httpx's own
transport, which honours them (:func:`default_transport`).
"""

from __future__ import annotations

import urllib.request

import certifi
import httpx
import urllib3


class Urllib3Transport(httpx.BaseTransport):
    def __init__(self, *, max_connections: int = 4) -> None:
        self._pool = urllib3.PoolManager(maxsize=max_connections, retries=False, ca_certs=certifi.where())

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        timeout = urllib3.Timeout(connect=timeouts.get("connect"), read=timeouts.get("read"))
        try:
            reply = self._pool.urlopen(
                request.method,
                str(request.url),
                body=request.read() or None,
                headers=dict(request.headers),
                retries=False,
                redirect=False,
                timeout=timeout,
                preload_content=True,
                decode_content=False,
            )
        except (
            urllib3.exceptions.NewConnectionError,
            urllib3.exceptions.MaxRetryError,
            urllib3.exceptions.SSLError,
            urllib3.exceptions.ProxyError,
        ) as exc:
            # first: urllib3's NewConnectionError (refused, unreachable) subclasses ConnectTimeoutError
            raise httpx.ConnectError(str(exc), request=request) from exc
        except urllib3.exceptions.ConnectTimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc), request=request) from exc
        except (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.TimeoutError) as exc:
            raise httpx.ReadTimeout(str(exc), request=request) from exc
        except urllib3.exceptions.HTTPError as exc:  # protocol errors, truncated bodies, resets
            raise httpx.RemoteProtocolError(str(exc), request=request) from exc
        return httpx.Response(reply.status, headers=list(reply.headers.items()), content=reply.data, request=request)

    def close(self) -> None:
        self._pool.clear()


def default_transport() -> httpx.BaseTransport | None:
    """The transport for a new AppSprint client: urllib3's, unless a proxy is configured in the
    environment (then None: httpx's own transport, which honours it)."""
    if urllib.request.getproxies_environment():
        return None
    return Urllib3Transport()
