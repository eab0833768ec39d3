"""The sandbox entry point a user and other tools run: two processes, URLs and credentials printed."""

from __future__ import annotations

import subprocess
import sys

import httpx

from sandbox.runner import sandbox_processes
from tests.conftest import FIXED_ANCHOR


def test_module_entry_point_starts_prints_and_stops(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "sandbox",
            "--once",
            "--scale",
            "tiny",
            "--anchor",
            FIXED_ANCHOR.isoformat(),
            "--tiktok-port",
            "0",
            "--appsprint-port",
            "0",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--state-file",
            str(tmp_path / "state.json"),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "/open_api/v1.3/" in out.stdout
    assert "APPSPRINT_EXPORT_TOKEN=" in out.stdout
    state = (tmp_path / "state.json").read_text()
    assert '"tiktok_url"' in state and '"appsprint_url"' in state


def test_processes_serve_the_same_world_and_stop(tmp_path):
    with sandbox_processes(7, "tiny", FIXED_ANCHOR, cache_dir=tmp_path) as sb:
        creds = sb.credentials
        adv = httpx.get(
            f"{sb.tiktok_api_url}/advertiser/info/",
            params={"advertiser_ids": "[]"},
            headers={"Access-Token": creds.tiktok_access_token},
        )
        assert adv.status_code == 200
        links = httpx.get(
            f"{sb.appsprint_api_url}/apps/{creds.appsprint_app_id}/signal-links",
            headers={"Authorization": f"Bearer {creds.appsprint_export_token}"},
        )
        assert links.status_code == 200 and links.json()["data"]
        sb.advance_clock(3600)
        for base in (sb.tiktok_url, sb.appsprint_url):
            now = httpx.get(f"{base}/_sandbox/clock").json()["now"]
            assert now.startswith("2026-06-15T13:00")
        urls = (sb.tiktok_url, sb.appsprint_url)
    for url in urls:
        try:
            httpx.get(f"{url}/_sandbox/clock", timeout=1)
        except httpx.TransportError:
            continue
        raise AssertionError(f"{url} still serving after the context closed")
