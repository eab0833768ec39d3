"""The setup walkthrough of docs/cli.md as a new user runs it, in the page's order (connect,
accounts, pixel + token, test event, mapping, Signal link, doctor, report), through the real command
line against the sandbox `make sandbox` starts (`python -m sandbox`, its clock following wall time),
at a sandbox time well past the hour: the world is anchored at least 47 minutes before now."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.runner import SandboxEndpoints
from sandbox.world import Credentials
from signal_campaigns.cli.mapping import SEEDS_DIR
from signal_campaigns.warehouse import REPO_ROOT
from signal_campaigns.warehouse.dbt_runner import mapping_override_path, mapping_overrides

PAST_THE_HOUR = dt.timedelta(minutes=47)


def anchor_well_past_the_hour(now: dt.datetime) -> dt.datetime:
    """The latest whole hour at least 47 minutes before ``now`` (``now`` is hh:47 or later past it)."""
    return (now - PAST_THE_HOUR).replace(minute=0, second=0, microsecond=0)


@pytest.fixture(scope="module")
def make_sandbox(tmp_path_factory) -> Iterator[SandboxEndpoints]:
    """`make sandbox` (python -m sandbox) on free ports, the tiny world anchored well before now."""
    tmp = tmp_path_factory.mktemp("make_sandbox")
    state = tmp / "state.json"
    anchor = anchor_well_past_the_hour(dt.datetime.now(dt.UTC))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            "--scale",
            "tiny",
            "--anchor",
            anchor.isoformat(),
            "--tiktok-port",
            "0",
            "--appsprint-port",
            "0",
            "--cache-dir",
            str(tmp / "cache"),
            "--state-file",
            str(state),
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "Serving until Ctrl-C" in line:
                break
        data = json.loads(state.read_text())
        yield SandboxEndpoints(
            data["tiktok_url"],
            data["appsprint_url"],
            Credentials(**data["credentials"]),
            data["seed"],
            data["scale"],
            anchor,
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def cli(project: Path, warehouse: Path, *args: str, json_mode: bool = True) -> tuple[int, Any, str]:
    """One ``signal-campaigns`` run in its own process: (exit code, JSON or text on stdout, stderr)."""
    pre = ["--project-dir", str(project), "--warehouse", str(warehouse)] + (["--json"] if json_mode else [])
    done = subprocess.run(
        [sys.executable, "-m", "signal_campaigns.cli", *pre, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    if json_mode:
        assert done.stderr == "", f"--json printed for people on stderr: {done.stderr}"
        return done.returncode, json.loads(done.stdout), done.stderr
    return done.returncode, done.stdout, done.stderr


def control(endpoints: SandboxEndpoints, path: str, body: Any = None) -> Any:
    response = httpx.post(f"{endpoints.tiktok_url}/_sandbox/{path}", json=body, timeout=30)
    response.raise_for_status()
    return response.json()


def test_the_setup_walkthrough_at_any_minute(make_sandbox, project, tiny_world, cli_warehouse):
    sb = make_sandbox
    creds = sb.credentials
    assert creds == tiny_world.credentials  # the same seed: the same credentials and ids at any anchor
    clock = httpx.get(f"{sb.tiktok_url}/_sandbox/clock").json()
    now = dt.datetime.fromisoformat(clock["now"])
    assert clock["live"] and now - sb.anchor >= PAST_THE_HOUR - dt.timedelta(minutes=1)
    assert abs((now - dt.datetime.now(dt.UTC)).total_seconds()) < 60, "the sandbox follows wall time"
    first, second = tiny_world.notes["advertiser_ids"][:2]
    wh = cli_warehouse

    # 1. connect (the code the consent page hands out)
    code = control(sb, "auth_codes")["auth_code"]
    rc, data, _ = cli(
        project, wh, "connect", "--app-id", creds.tiktok_app_id, "--app-secret", creds.tiktok_app_secret,
        "--base-url", f"{sb.tiktok_url}/open_api/v1.3", "--auth-code", code,
    )  # fmt: skip
    assert rc == 0 and {a["advertiser_id"] for a in data["advertisers"]} >= {first, second}
    # a UTC-8 advertiser reads the right way round
    labels = {a["timezone"]: a["timezone_display"] for a in data["advertisers"]}
    if "Etc/GMT+8" in labels:
        assert labels["Etc/GMT+8"] == "UTC\u221208:00 (Etc/GMT+8)"

    # 2. accounts: select the first advertiser
    rc, data, _ = cli(project, wh, "accounts", "--select", first)
    assert rc == 0 and data["selected"] == [first]

    # 3. pixel: a wrong Pixel ID lists the advertiser's pixels; the right one is checked and saved
    pixel = tiny_world.notes["pixel_codes"][first]
    rc, data, _ = cli(project, wh, "pixel", "--pixel", "WRONGPIXEL", "--token", creds.events_api_token)
    assert rc == 1 and pixel in data["error"] and [p["pixel_code"] for p in data["pixels"]] == [pixel]
    rc, data, _ = cli(project, wh, "pixel", "--pixel", pixel, "--token", creds.events_api_token)
    assert rc == 0, data  # the validation test event is not refused as a future event at hh:47
    assert data["validation"]["accepted"]

    # 4. test event
    rc, data, _ = cli(project, wh, "test-event", "--code", "TEST123")
    assert rc == 0 and data["accepted"] and data["test_event_code"] == "TEST123"

    # 5. mapping: a misspelt SDK event is refused with the closest name; a change leaves the seed clean
    seed_before = (SEEDS_DIR / "event_mapping.csv").read_bytes()
    rc, data, _ = cli(project, wh, "mapping", "set", "purchse", "Purchase")
    assert rc == 1 and "did you mean purchase" in data["fix"]
    rc, data, _ = cli(project, wh, "mapping", "set", "login", "Login_Done")
    assert rc == 0 and mapping_overrides() == {"login": "Login_Done"}
    rc, data, _ = cli(project, wh, "mapping", "show")
    assert {r["sdk_event"]: r["tiktok_event"] for r in data["mapping"]}["login"] == "Login_Done"
    assert (SEEDS_DIR / "event_mapping.csv").read_bytes() == seed_before
    assert mapping_override_path().exists()

    # 6. link: the Signal links of the selected advertiser only; --all for every one
    rc, mine, _ = cli(project, wh, "link")
    rc_all, every, _ = cli(project, wh, "link", "--all")
    assert rc == rc_all == 0 and mine["advertisers"] == [first] and every["advertisers"] == "all"
    assert mine["links"] and len(mine["links"]) < len(every["links"])

    # 7. doctor: the API checks pass at hh:47; the warehouse checks look at the selected advertiser
    rc, data, _ = cli(project, wh, "doctor")
    checks = {c["id"]: c for c in data["checks"]}
    assert [checks[k]["status"] for k in ("oauth", "campaigns", "events_api")] == ["pass"] * 3
    assert data["advertisers"] == [first]
    campaigns = checks["reporting_differences"]["data"]["campaigns"]
    assert campaigns and {c["advertiser_id"] for c in campaigns} == {first}
    rc, text, _ = cli(project, wh, "doctor", json_mode=False)
    assert "INSTALLS AppSprint" in text  # the reconciliation is a small table, not a paragraph
    assert max(len(line) for line in text.splitlines()) < 400

    # 8. report: the selected advertiser; --all for both
    rc, data, _ = cli(project, wh, "report", "--days", "7")
    assert rc == 0 and data["rows"] and {r["advertiser_id"] for r in data["rows"]} == {first}
    rc, data, _ = cli(project, wh, "report", "--days", "7", "--all")
    assert rc == 0 and {r["advertiser_id"] for r in data["rows"]} == {first, second}


def test_a_clock_disagreement_names_both_clocks_not_the_token(make_sandbox, connected, tiny_world, cli_warehouse):
    """The sandbox moved back to the hour (the old frozen clock): the test event is refused as a
    future event, and the error points at this machine's clock with both times."""
    sb = make_sandbox
    from signal_campaigns.cli import settings_store as keys
    from signal_campaigns.cli.settings_store import SettingsStore

    SettingsStore(connected).set_many({keys.BASE_URL: f"{sb.tiktok_url}/open_api/v1.3"})
    control(sb, "clock", {"at": sb.anchor.isoformat()})
    try:
        rc, data, _ = cli(connected, cli_warehouse, "test-event", "--code", "TEST123")
    finally:
        control(sb, "reset")  # back to wall time
    assert rc == 1
    assert "this machine's clock" in data["error"] and "TikTok's clock" in data["error"]
    assert f"{sb.anchor:%Y-%m-%d %H:}" in data["error"]  # the sandbox's time, as its Date header says
    assert "clock" in data["fix"] and "token" not in data["fix"]
    clock = httpx.get(f"{sb.tiktok_url}/_sandbox/clock").json()
    assert (
        clock["live"] and abs((dt.datetime.fromisoformat(clock["now"]) - dt.datetime.now(dt.UTC)).total_seconds()) < 60
    )


def test_timezones_read_the_right_way_round():
    from signal_campaigns.cli.render import timezone_label

    assert timezone_label("Etc/GMT+8") == "UTC\u221208:00 (Etc/GMT+8)"  # POSIX names carry the opposite sign
    assert timezone_label("Europe/Berlin", dt.datetime(2026, 7, 1, tzinfo=dt.UTC)) == "UTC+02:00 (Europe/Berlin)"
    assert timezone_label("Asia/Kolkata") == "UTC+05:30 (Asia/Kolkata)"
    assert timezone_label("Not/AZone") == "Not/AZone"
