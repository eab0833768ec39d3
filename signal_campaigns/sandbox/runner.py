"""Start the two sandbox servers: in threads (tests) or as two processes (demo, benchmarks, manual).

``python -m signal_campaigns.sandbox`` runs :func:`main`: both servers as child processes on
loopback, printing their base URLs and the sandbox credentials, until Ctrl-C (or, with
``--once``, exits after printing, leaving nothing running).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

from .control import SandboxClock, SandboxControl
from .serving import ThreadedServer, free_port
from .world import Credentials, World

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
        import httpx

        for base in (self.tiktok_url, self.appsprint_url):
            httpx.post(f"{base}/_sandbox/clock", json={"advance_seconds": seconds}, timeout=10).raise_for_status()


def default_anchor() -> dt.datetime:
    """Sandbox "now": the current UTC time truncated to the hour (so demo data ends today)."""
    return dt.datetime.now(dt.timezone.utc).replace(minute=0, second=0, microsecond=0)


def build_apps(world: World, *, marketing_qps: float | None = 10.0):
    """Both ASGI apps for one world, each with its own control plane on the same clock anchor."""
    from .appsprint_server import create_appsprint_app
    from .tiktok_server import create_tiktok_app

    tiktok = create_tiktok_app(world, SandboxControl(SandboxClock(world.anchor)), marketing_qps=marketing_qps)
    appsprint = create_appsprint_app(world, SandboxControl(SandboxClock(world.anchor)))
    return tiktok, appsprint


@contextlib.contextmanager
def sandbox_in_threads(world: World, *, marketing_qps: float | None = 10.0) -> Iterator[SandboxEndpoints]:
    """Both servers in this process (fast to start; for tests)."""
    tiktok_app, appsprint_app = build_apps(world, marketing_qps=marketing_qps)
    with ThreadedServer(tiktok_app) as tiktok, ThreadedServer(appsprint_app) as appsprint:
        yield SandboxEndpoints(tiktok.url, appsprint.url, world.credentials, world.seed, world.scale, world.anchor)


def load_world(seed: int, scale: str, anchor: dt.datetime, cache_dir: Path = DEFAULT_CACHE_DIR) -> World:
    from .world_cache import load_or_generate

    return load_or_generate(seed=seed, scale=scale, anchor=anchor, cache_dir=cache_dir)


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float) -> None:
    import httpx  # not at module level: the server children never need it

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
) -> Iterator[SandboxEndpoints]:
    """Both servers as child processes (each its own core and GIL). The world is generated (or
    loaded from the cache) once here first, so the children only load it."""
    anchor = anchor or default_anchor()
    world = load_world(seed, scale, anchor, cache_dir)
    ports = {"tiktok": tiktok_port or free_port(host), "appsprint": appsprint_port or free_port(host)}
    procs: dict[str, subprocess.Popen] = {}
    try:
        for api, port in ports.items():
            cmd = [sys.executable, "-m", "signal_campaigns.sandbox", "serve-one", api, "--seed", str(seed),
                   "--scale", scale, "--anchor", anchor.isoformat(), "--host", host, "--port", str(port),
                   "--cache-dir", str(cache_dir)]
            if marketing_qps is None:
                cmd.append("--no-rate-limit")
            procs[api] = subprocess.Popen(cmd)
        urls = {api: f"http://{host}:{port}" for api, port in ports.items()}
        for api, proc in procs.items():
            _wait_ready(urls[api], proc, timeout)
        yield SandboxEndpoints(urls["tiktok"], urls["appsprint"], world.credentials, seed, scale, anchor)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def serve_one(args: argparse.Namespace) -> None:
    import uvicorn

    anchor = dt.datetime.fromisoformat(args.anchor)
    world = load_world(args.seed, args.scale, anchor, Path(args.cache_dir))
    tiktok_app, appsprint_app = build_apps(world, marketing_qps=None if args.no_rate_limit else 10.0)
    app = tiktok_app if args.api == "tiktok" else appsprint_app
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False, lifespan="off")


def print_banner(endpoints: SandboxEndpoints, world: World | None = None, out=sys.stdout) -> None:
    creds = endpoints.credentials
    lines = [
        "Sandbox servers (local imitations of the real APIs; these credentials only open them):",
        f"  TikTok Business API : {endpoints.tiktok_api_url}/",
        f"  AppSprint export API: {endpoints.appsprint_api_url}/apps/{creds.appsprint_app_id}/",
        f"  Signal links        : {endpoints.appsprint_url}/s/<link_id>",
        f"  clock anchor (now)  : {endpoints.anchor.isoformat()}  seed={endpoints.seed} scale={endpoints.scale}",
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
    parser = argparse.ArgumentParser(prog="python -m signal_campaigns.sandbox", description=__doc__)
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
    one = sub.add_parser("serve-one", help="serve one API in this process (used by the launcher)")
    one.add_argument("api", choices=["tiktok", "appsprint"])
    common(one)
    one.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)

    if args.command == "serve-one":
        serve_one(args)
        return

    anchor = dt.datetime.fromisoformat(args.anchor) if args.anchor else default_anchor()
    started = time.monotonic()
    with sandbox_processes(args.seed, args.scale, anchor, host=args.host, tiktok_port=args.tiktok_port,
                           appsprint_port=args.appsprint_port, cache_dir=Path(args.cache_dir),
                           marketing_qps=None if args.no_rate_limit else 10.0) as endpoints:
        print_banner(endpoints)
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
