"""`pixel` (Pixel ID + Events API token, validated with pixel/list/ and a test event) and
`test-event` (one ViewContent test event, never counted as production)."""

from __future__ import annotations

import json
import stat

from signal_campaigns.cli import settings_store as keys
from signal_campaigns.cli.settings_store import SettingsStore

from .conftest import assert_no_secrets


def _connected_without_pixel(connected):
    SettingsStore(connected).set_many({keys.EVENTS_API_TOKEN: None, keys.PIXEL_CODE: None})
    return connected


def test_pixel_is_validated_and_saved(run_cli, connected, tt, tiny_world):
    project = _connected_without_pixel(connected)
    advertiser = tiny_world.notes["advertiser_ids"][0]
    pixel = tiny_world.notes["pixel_codes"][advertiser]
    result = run_cli("--json", "pixel", "--pixel", pixel, "--token", tt.creds.events_api_token)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["pixel_code"] == pixel and data["advertiser_id"] == advertiser
    assert data["validation"]["accepted"] is True
    assert data["events_api_token"] == "****" + tt.creds.events_api_token[-4:]
    store = SettingsStore(project)
    assert store.file_value(keys.EVENTS_API_TOKEN) == tt.creds.events_api_token
    assert store.file_value(keys.PIXEL_CODE) == pixel
    assert stat.S_IMODE(store.secrets_path.stat().st_mode) == 0o600
    assert tt.creds.events_api_token not in store.config_path.read_text()
    assert_no_secrets(result, creds=tt.creds)
    counts = tt.received(pixel)
    assert counts["test_events"] == 1 and counts["unique_events"] == 0  # the check never counts as production


def test_unknown_pixel_is_refused_and_nothing_saved(run_cli, connected, tt):
    project = _connected_without_pixel(connected)
    result = run_cli("pixel", "--pixel", "CNOPE0000000000000", "--token", tt.creds.events_api_token)
    assert result.exit_code == 1
    assert "does not exist" in result.stderr and "pixel/list" in result.stderr
    assert SettingsStore(project).file_value(keys.EVENTS_API_TOKEN) is None


def test_a_pixel_the_token_cannot_use_explains_admin_operator(run_cli, connected, tt, tiny_world):
    project = _connected_without_pixel(connected)
    us, eu = tiny_world.notes["advertiser_ids"]
    other_token = tt.mint("events", [eu])  # an Events API token of the other advertiser
    result = run_cli("pixel", "--pixel", tiny_world.notes["pixel_codes"][us], "--token", other_token)
    assert result.exit_code == 1
    assert "40001" in result.stderr and "Admin or Operator" in result.stderr
    assert "Generate Access Token" in result.stderr  # what to do
    assert other_token not in result.stdout + result.stderr
    assert SettingsStore(project).file_value(keys.EVENTS_API_TOKEN) is None


def test_revoked_events_token_is_explained(run_cli, connected, tt, tiny_world):
    project = _connected_without_pixel(connected)
    token = tt.mint("events")
    tt.revoke(token)
    us = tiny_world.notes["advertiser_ids"][0]
    result = run_cli("--json", "pixel", "--pixel", tiny_world.notes["pixel_codes"][us], "--token", token)
    assert result.exit_code == 1
    error = json.loads(result.stdout)
    assert error["tiktok_code"] == 40105 and "Business Center" in error["fix"]
    assert token not in result.stdout + result.stderr
    assert SettingsStore(project).file_value(keys.EVENTS_API_TOKEN) is None


def test_test_event_reaches_test_events_only(run_cli, connected, tt, tiny_world):
    pixel = SettingsStore(connected).file_value(keys.PIXEL_CODE)
    result = run_cli("--json", "test-event", "--code", "TEST48213")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["accepted"] and data["code"] == 0 and data["event"] == "ViewContent"
    assert data["test_event_code"] == "TEST48213"
    assert any("Test Events" in s for s in data["next_steps"])
    counts = tt.received(pixel)
    assert counts["test_events"] == 1 and counts["unique_events"] == 0
    stored = tt.http.get(
        f"{tt.url}/_sandbox/events/received", params={"pixel_code": pixel, "payloads": "true", "kind": "test"}
    ).json()["payloads"]
    assert stored["total"] == 1 and stored["events"][0]["event"]["event_id"] == data["event_id"]
    assert stored["events"][0]["test_event_code"] == "TEST48213"
    human = run_cli("test-event", "--code", "TEST48213")
    assert "accepted" in human.stdout and "do not unlock optimisation" in human.stdout
    assert_no_secrets(human, creds=tt.creds)


def test_test_event_needs_a_pixel(run_cli, project):
    result = run_cli("test-event", "--code", "TEST1")
    assert result.exit_code == 1 and "signal-campaigns pixel" in result.stderr
