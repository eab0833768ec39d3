"""Start the two sandbox servers: in threads (tests) or as two processes (demo, benchmarks, manual).

``python -m sandbox`` runs :func:`main`: both servers as child processes on
loopback, printing their base URLs and the sandbox credentials, until Ctrl-C (or, with
``--once``, exits after printing, leaving nothing running). Its clock follows wall time (the world
is anchored at the hour, "now" is this machine's time; ``--frozen`` keeps it at the anchor).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from .control import ClockDateHeader, SandboxClock, SandboxControl
from .serving import ThreadedServer, free_port
from .world import Credentials, World
from .world_cache import cached_credentials, open_world, write_world

DEFAULT_CACHE_DIR = Path(os.environ.get("SIGNAL_SANDBOX_CACHE", "data/sandbox"))


@dataclasses.dataclass(frozen=True)
class SandboxEndpoints:
    """Where the running sandbox is and how to talk to it."""

    tiktok_url: str  # base: {tiktok_url}/open_api/v1.3/...
    appsprint_url: str  # base: {appsprint_url}/v1/...
    credentials: Credentials
    seed: int
    scale: str
    anchor: dt.datetime

    @property
    def tiktok_api_url(self) -> str:
        return f"{self.tiktok_url}/open_api/v1.3"

    @property
    def appsprint_api_url(self) -> str:
        return f"{self.appsprint_url}/v1"

    def to_json(self) -> dict:
        return {
            "tiktok_url": self.tiktok_url,
            "appsprint_url": self.appsprint_url,
            "seed": self.seed,
            "scale": self.scale,
            "anchor": self.anchor.isoformat(),
            "credentials": dataclasses.asdict(self.credentials),
        }

    def advance_clock(self, seconds: float) -> None:
        """Advance both servers' clocks by the same amount."""
        import httpx  # noqa: PLC0415  the server child never needs it: 50-90 ms off its start-up (measured)

        for base in (self.tiktok_url, self.appsprint_url):
            httpx.post(f"{base}/_sandbox/clock", json={"advance_seconds": seconds}, timeout=10).raise_for_status()


def default_anchor() -> dt.datetime:
    """Sandbox "now": the current UTC time truncated to the hour (so demo data ends today)."""
    return dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)


def build_app(api: str, world: World, *, marketing_qps: float | None = 10.0, wall_time: bool = False):
    """One sandbox ASGI app (``tiktok`` or ``appsprint``) with its own control plane; ``wall_time``:
    its clock follows this machine's (:class:`SandboxClock`), else it stands at the anchor."""
    control = SandboxControl(SandboxClock(world.anchor, wall_time=wall_time))
    if api == "tiktok":
        # Imported here: a process that only launches the servers (python -m sandbox, demo, dev, the
        # benches) never imports the apps, which together take ~50 ms to import (measured).
        from .tiktok_server import create_tiktok_app  # noqa: PLC0415  ~50 ms, see above

        return ClockDateHeader(create_tiktok_app(world, control, marketing_qps=marketing_qps), control.clock)
    from .appsprint_server import create_appsprint_app  # noqa: PLC0415  ~50 ms with the TikTok app, see above

    return create_appsprint_app(world, control)


def build_apps(world: World, *, marketing_qps: float | None = 10.0, wall_time: bool = False):
    """Both ASGI apps for one world, each with its own control plane on the same clock anchor."""
    return (
        build_app("tiktok", world, marketing_qps=marketing_qps, wall_time=wall_time),
        build_app("appsprint", world, wall_time=wall_time),
    )


@contextlib.contextmanager
def sandbox_in_threads(world: World, *, marketing_qps: float | None = 10.0) -> Iterator[SandboxEndpoints]:
    """Both servers in this process (fast to start; for tests)."""
    tiktok_app, appsprint_app = build_apps(world, marketing_qps=marketing_qps)
    with ThreadedServer(tiktok_app) as tiktok, ThreadedServer(appsprint_app) as appsprint:
        yield SandboxEndpoints(tiktok.url, appsprint.url, world.credentials, world.seed, world.scale, world.anchor)


def load_world(seed: int, scale: str, anchor: dt.datetime, cache_dir: Path = DEFAULT_CACHE_DIR) -> World:
    """The world from the cache (generated into it first if needed); a big world's AppSprint rows
    stay on disk (:func:`.world_cache.open_world`)."""
    return open_world(write_world(seed=seed, scale=scale, anchor=anchor, cache_dir=cache_dir))


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float) -> None:
    import httpx  # noqa: PLC0415  the server child never needs it: 50-90 ms off its start-up (measured)

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sandbox server for {url} exited with code {proc.returncode}")
        try:
            if httpx.get(f"{url}/_sandbox/clock", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"sandbox server {url} not ready after {timeout}s")


@contextlib.contextmanager
def sandbox_processes(
    seed: int = 7,
    scale: str = "demo",
    anchor: dt.datetime | None = None,
    *,
    host: str = "127.0.0.1",
    tiktok_port: int = 0,
    appsprint_port: int = 0,
    marketing_qps: float | None = 10.0,
    cache_dir: Path = DEFAULT_CACHE_DIR,
    timeout: float = 120.0,
    wall_time: bool = False,
) -> Iterator[SandboxEndpoints]:
    """Both servers in a child process (its own core and GIL, apart from the clients). The world
    is generated and cached here first if needed (only its credentials are read here).
    ``wall_time``: the servers' clocks follow this machine's (people's sandboxes), else they stand
    at ``anchor`` until moved (the demo, benchmarks)."""
    anchor = anchor or default_anchor()
    credentials = cached_credentials(seed=seed, scale=scale, anchor=anchor, cache_dir=cache_dir)
    ports = {"tiktok": tiktok_port or free_port(host), "appsprint": appsprint_port or free_port(host)}
    cmd = [
        sys.executable,
        "-m",
        "sandbox",
        "serve",
        "--seed",
        str(seed),
        "--scale",
        scale,
        "--anchor",
        anchor.isoformat(),
        "--host",
        host,
        "--tiktok-port",
        str(ports["tiktok"]),
        "--appsprint-port",
        str(ports["appsprint"]),
        "--cache-dir",
        str(cache_dir),
    ]
    if marketing_qps is None:
        cmd.append("--no-rate-limit")
    if wall_time:
        cmd.append("--wall-time")
    proc = subprocess.Popen(cmd)
    try:
        urls = {api: f"http://{host}:{port}" for api, port in ports.items()}
        for url in urls.values():
            _wait_ready(url, proc, timeout)
        yield SandboxEndpoints(urls["tiktok"], urls["appsprint"], credentials, seed, scale, anchor)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # uvicorn shuts down gracefully
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def serve(args: argparse.Namespace) -> None:
    """Both servers in this process, on one event loop: one import and one world load (so they
    start in about a second and a half), and a process of their own apart from their clients."""
    anchor = dt.datetime.fromisoformat(args.anchor)
    world = load_world(args.seed, args.scale, anchor, Path(args.cache_dir))
    tiktok, appsprint = build_apps(world, marketing_qps=None if args.no_rate_limit else 10.0, wall_time=args.wall_time)
    servers = [
        uvicorn.Server(
            uvicorn.Config(
                app,
                host=args.host,
                port=port,
                log_level="warning",
                access_log=False,
                lifespan="off",
                timeout_keep_alive=30,
                date_header=False,  # the apps date their answers by the sandbox clock
            )
        )
        for app, port in ((tiktok, args.tiktok_port), (appsprint, args.appsprint_port))
    ]

    async def run_all() -> None:
        await asyncio.gather(*(server.serve() for server in servers))

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C in `make sandbox` reaches this child too
        asyncio.run(run_all())


def print_banner(endpoints: SandboxEndpoints, out=sys.stdout, *, wall_time: bool = False) -> None:
    creds = endpoints.credentials
    clock = (
        "follows this machine's clock (POST /_sandbox/clock moves it)"
        if wall_time
        else "stands at the anchor until moved (POST /_sandbox/clock)"
    )
    lines = [
        "Sandbox servers (local imitations of the real APIs; these credentials only open them):",
        f"  TikTok Business API : {endpoints.tiktok_api_url}/",
        f"  AppSprint export API: {endpoints.appsprint_api_url}/apps/{creds.appsprint_app_id}/",
        f"  Signal links        : {endpoints.appsprint_url}/s/<link_id>",
        f"  clock anchor        : {endpoints.anchor.isoformat()}  seed={endpoints.seed} scale={endpoints.scale}",
        f"  clock (now)         : {clock}",
        "Credentials:",
        f"  TIKTOK_APP_ID={creds.tiktok_app_id}",
        f"  TIKTOK_APP_SECRET={creds.tiktok_app_secret}",
        f"  TIKTOK_ACCESS_TOKEN={creds.tiktok_access_token}",
        f"  TIKTOK_EVENTS_API_TOKEN={creds.events_api_token}",
        f"  APPSPRINT_APP_ID={creds.appsprint_app_id}",
        f"  APPSPRINT_EXPORT_TOKEN={creds.appsprint_export_token}",
    ]
    print("\n".join(lines), file=out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    sub = parser.add_subparsers(dest="command")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--seed", type=int, default=7)
        p.add_argument("--scale", default="demo", help="tiny | demo | 1m | 10m")
        p.add_argument("--anchor", default=None, help="sandbox 'now' (ISO-8601 UTC); default: this hour")
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--cache-dir", default=str(DEFAULT_CACHE_DIR))
        p.add_argument("--no-rate-limit", action="store_true", help="lift the 10 QPS Marketing API limit")

    common(parser)
    parser.add_argument("--tiktok-port", type=int, default=8787)
    parser.add_argument("--appsprint-port", type=int, default=8788)
    parser.add_argument("--once", action="store_true", help="start, print, check, stop")
    parser.add_argument("--state-file", default=None, help="write base URLs + credentials as JSON here")
    parser.add_argument(
        "--frozen", action="store_true", help="keep the clock at the anchor (default: it follows wall time)"
    )
    one = sub.add_parser("serve", help="serve both APIs in this process (used by the launcher)")
    common(one)
    one.add_argument("--wall-time", action="store_true", help="the clocks follow wall time")
    one.add_argument("--tiktok-port", type=int, required=True)
    one.add_argument("--appsprint-port", type=int, required=True)
    args = parser.parse_args(argv)

    if args.command == "serve":
        serve(args)
        return

    anchor = dt.datetime.fromisoformat(args.anchor) if args.anchor else default_anchor()
    started = time.monotonic()
    with sandbox_processes(
        args.seed,
        args.scale,
        anchor,
        host=args.host,
        tiktok_port=args.tiktok_port,
        appsprint_port=args.appsprint_port,
        cache_dir=Path(args.cache_dir),
        marketing_qps=None if args.no_rate_limit else 10.0,
        wall_time=not args.frozen,
    ) as endpoints:
        print_banner(endpoints, wall_time=not args.frozen)
        print(f"Started in {time.monotonic() - started:.1f}s.")
        if args.state_file:
            Path(args.state_file).parent.mkdir(parents=True, exist_ok=True)
            Path(args.state_file).write_text(json.dumps(endpoints.to_json(), indent=2))
        if args.once:
            return
        print("Serving until Ctrl-C.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("\nStopping the sandbox servers.")
