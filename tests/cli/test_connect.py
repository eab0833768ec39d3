"""`connect` / `disconnect` / `accounts` against the sandbox's OAuth: a real localhost callback
driven by httpx as the browser, state checks, single-use and expiring codes, revoked tokens."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import urllib.parse
from pathlib import Path

import httpx
import pytest

from signal_campaigns.cli import settings_store as keys
from signal_campaigns.cli.settings_store import SettingsStore

from .conftest import assert_no_secrets

REPO_ROOT = Path(__file__).resolve().parents[2]


class ConnectProcess:
    """``signal-campaigns --json connect`` in a child process (it blocks on the callback); its
    stderr is read line by line to find the authorization URL, as a person would."""

    def __init__(self, project: Path, tt, *extra: str) -> None:
        env = {**os.environ, "COLUMNS": "400", "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "signal_campaigns.cli",
                "--project-dir",
                str(project),
                "--json",
                *connect_args(tt),
                "--port",
                "0",
                "--no-browser",
                "--timeout",
                "60",
                *extra,
            ],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdin and self.proc.stdout and self.proc.stderr  # the three pipes above
        self.stdin, self.stdout, self.stderr_pipe = self.proc.stdin, self.proc.stdout, self.proc.stderr
        self.stderr: list[str] = []

    def authorization_url(self) -> str:
        for line in self.stderr_pipe:
            self.stderr.append(line)
            if "/portal/auth?" in line:
                # keep draining stderr so the child never blocks on a full pipe
                threading.Thread(target=lambda: self.stderr.extend(self.stderr_pipe), daemon=True).start()
                return json.loads(line)["authorization_url"]  # --json: the one line on stderr is JSON too
        raise AssertionError("no authorization URL printed:\n" + "".join(self.stderr))

    def finish(self, stdin: str | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            self.stdin.write(stdin)
            self.stdin.flush()
        self.stdin.close()
        out = self.stdout.read()
        self.proc.wait(timeout=60)
        return self.proc.returncode, out, "".join(self.stderr)


def connect_args(tt) -> list[str]:
    """``connect`` with the sandbox's developer app and API (no browser, code or port options)."""
    return [
        "connect",
        "--app-id",
        tt.creds.tiktok_app_id,
        "--app-secret",
        tt.creds.tiktok_app_secret,
        "--base-url",
        tt.api_url,
    ]


def test_oauth_round_trip_through_a_localhost_callback(project, tt, tiny_world):
    child = ConnectProcess(project, tt)
    url = child.authorization_url()
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["app_id"] == [tt.creds.tiktok_app_id]
    assert len(query["state"][0]) >= 24
    assert query["redirect_uri"][0].startswith("http://127.0.0.1:")
    # the test is the browser: the consent stand-in redirects to the CLI's localhost callback
    page = httpx.get(url, follow_redirects=True, timeout=30)
    assert page.status_code == 200 and "TikTok is connected" in page.text
    code, out, err = child.finish()
    assert code == 0, err
    data = json.loads(out)
    assert data["ok"] is True
    granted = {a["advertiser_id"]: a for a in data["advertisers"]}
    assert set(granted) == set(tiny_world.notes["advertiser_ids"])
    us = granted[tiny_world.notes["advertiser_ids"][0]]
    assert (us["name"], us["currency"], us["timezone"], us["status"]) == (
        "Sprintly Quest US",
        "USD",
        "Etc/GMT+8",
        "STATUS_ENABLE",
    )

    store = SettingsStore(project)
    token = store.file_value(keys.ACCESS_TOKEN)
    assert token and token not in out + err
    assert data["access_token"] == "****" + token[-4:]
    assert stat.S_IMODE(store.secrets_path.stat().st_mode) == 0o600
    assert store.file_value(keys.BASE_URL) == tt.api_url
    assert store.file_value(keys.APP_ID) == tt.creds.tiktok_app_id
    assert tt.creds.tiktok_app_secret not in out + err
    assert tt.creds.tiktok_app_secret not in store.config_path.read_text()
    assert token not in store.config_path.read_text()
    # the stored token is a real one: TikTok (the sandbox) accepts it
    assert tt.api_code("advertiser/info/", token, advertiser_ids=json.dumps(list(granted))) == 0


def test_a_callback_with_another_state_is_rejected(project, tt):
    child = ConnectProcess(project, tt)
    url = child.authorization_url()
    forged = url.replace("state=", "state=forged", 1)
    page = httpx.get(forged, follow_redirects=True, timeout=30)
    assert page.status_code == 400 and "rejected" in page.text
    code, out, err = child.finish()
    assert code == 1
    assert "different state" in json.loads(out)["error"]
    assert "connect" in json.loads(out)["fix"]  # what to do
    assert all("authorization_url" in json.loads(line) for line in err.splitlines())  # --json: stderr is JSON too
    assert not SettingsStore(project).secrets_path.exists()  # nothing exchanged, nothing stored


def test_pasted_code_then_reused_code_keeps_the_good_token(run_cli, project, tt):
    args = connect_args(tt)
    code = tt.auth_code()
    first = run_cli("--json", *args, "--auth-code", code)
    assert first.exit_code == 0, first.output
    store = SettingsStore(project)
    token = store.file_value(keys.ACCESS_TOKEN)
    assert token
    assert_no_secrets(first, token, creds=tt.creds)

    again = run_cli(*args, "--auth-code", code)
    assert again.exit_code == 1
    assert "already used or has expired" in again.stderr and "40110" in again.stderr
    assert "connect" in again.stderr
    assert store.file_value(keys.ACCESS_TOKEN) == token  # the working token is not lost


def test_expired_code_is_explained(run_cli, project, tt):
    code = tt.auth_code()
    tt.control("clock", {"advance_seconds": 3601})
    result = run_cli(*connect_args(tt), "--auth-code", code)
    assert result.exit_code == 1
    assert "expired" in result.stderr and "valid for 1 hour" in result.stderr
    assert not SettingsStore(project).secrets_path.exists()


@pytest.mark.parametrize("tamper", [False, True])
def test_pasted_redirect_url_is_state_checked(project, tt, tamper):
    """--paste: the person pastes the URL the browser was sent to; its state must be this run's."""
    child = ConnectProcess(project, tt, "--paste")
    url = child.authorization_url()
    consent = httpx.get(url, follow_redirects=False, timeout=30)
    assert consent.status_code == 302
    redirected = consent.headers["location"]
    if tamper:
        redirected = redirected.replace("state=", "state=x", 1)
    code, out, err = child.finish(redirected + "\n")
    stored = SettingsStore(project).file_value(keys.ACCESS_TOKEN)
    if tamper:
        assert code == 1 and "different state" in json.loads(out)["error"]
        assert stored is None
    else:
        assert code == 0, err
        assert json.loads(out)["ok"] and stored


def test_disconnect_revokes_and_forgets(run_cli, connected, tt, tiny_world):
    token = tt.creds.tiktok_access_token
    result = run_cli("--json", "disconnect")
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)["revoked_advertiser_ids"]) == set(tiny_world.notes["advertiser_ids"])
    assert SettingsStore(connected).file_value(keys.ACCESS_TOKEN) is None
    assert (
        tt.api_code("advertiser/info/", token, advertiser_ids=json.dumps(tiny_world.notes["advertiser_ids"])) == 40105
    )
    assert_no_secrets(result, creds=tt.creds)
    again = run_cli("disconnect")
    assert again.exit_code == 1 and "not connected" in again.stderr


def test_accounts_lists_and_selects(run_cli, connected, tt, tiny_world):
    us, eu = tiny_world.notes["advertiser_ids"]
    result = run_cli("--json", "accounts")
    assert result.exit_code == 0, result.output
    rows = {r["advertiser_id"]: r for r in json.loads(result.stdout)["advertisers"]}
    assert rows[eu]["name"] == "Sprintly Quest EU" and rows[eu]["currency"] == "EUR"
    assert rows[eu]["timezone"] == "Europe/Berlin" and rows[us]["selected"] and not rows[eu]["selected"]

    table = run_cli("accounts", "--select", eu)
    assert table.exit_code == 0
    assert "Sprintly Quest EU" in table.stdout and "Europe/Berlin" in table.stdout
    assert SettingsStore(connected).file_value(keys.ADVERTISER_IDS) == [eu]

    unknown = run_cli("accounts", "--select", "123")
    assert unknown.exit_code == 1 and "not granted" in unknown.stderr
    assert SettingsStore(connected).file_value(keys.ADVERTISER_IDS) == [eu]  # the good selection stays
    assert_no_secrets(table, creds=tt.creds)


def test_rejected_token_says_to_reconnect(run_cli, connected, tt):
    tt.revoke(tt.creds.tiktok_access_token)
    result = run_cli("accounts")
    assert result.exit_code == 1
    assert "40105" in result.stderr and "reconnect" in result.stderr
    assert_no_secrets(result, creds=tt.creds)


@pytest.mark.parametrize("content", ["[sources.tiktok_ads\naccess_token = 'SECRET-VALUE-123'"])
def test_broken_secrets_file_is_reported_without_its_content(run_cli, project, content):
    (project / ".dlt").mkdir()
    (project / ".dlt" / "secrets.toml").write_text(content)
    result = run_cli("accounts")
    assert result.exit_code == 1
    assert "not valid TOML" in result.stderr and "SECRET-VALUE-123" not in result.stdout + result.stderr


def test_dlt_reads_what_the_cli_wrote(connected, tt, tiny_world):
    """The written keys are the ones dlt resolves for the sources (in a fresh process, as a
    pipeline run would, with dlt's DLT_PROJECT_DIR pointing at the project)."""
    script = (
        "import dlt, json, sys\n"
        "want = json.load(sys.stdin)\n"
        "got = {'ids': dlt.config['sources.tiktok_ads.advertiser_ids'],\n"
        "       'base': dlt.config['sources.tiktok_ads.base_url'],\n"
        "       'token': dlt.secrets['sources.tiktok_ads.access_token'] == want['token'],\n"
        "       'events': dlt.secrets['tiktok_events_api_token'] == want['events']}\n"
        "print(json.dumps(got))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "TIKTOK_"))}
    env["DLT_PROJECT_DIR"] = str(connected)
    proc = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps({"token": tt.creds.tiktok_access_token, "events": tt.creds.events_api_token}),
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=connected,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got == {"ids": [tiny_world.notes["advertiser_ids"][0]], "base": tt.api_url, "token": True, "events": True}


def test_no_secret_reaches_the_logs(run_cli, project, tt, tiny_world, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    args = [*connect_args(tt), "--auth-code", tt.auth_code()]
    assert run_cli(*args).exit_code == 0
    token = SettingsStore(project).file_value(keys.ACCESS_TOKEN)
    us = tiny_world.notes["advertiser_ids"][0]
    assert run_cli("accounts", "--select", us).exit_code == 0
    assert (
        run_cli("pixel", "--pixel", tiny_world.notes["pixel_codes"][us], "--token", tt.creds.events_api_token).exit_code
        == 0
    )
    assert run_cli("test-event", "--code", "TEST1").exit_code == 0
    assert run_cli("disconnect").exit_code == 0
    assert caplog.records, "the calls were logged at all"
    for value in (token, tt.creds.tiktok_app_secret, tt.creds.events_api_token):
        assert value not in caplog.text
    for record in caplog.records:
        assert "secret=" not in record.getMessage()
