"""`mapping` (the tracked seed stays as shipped, the user's changes go to the git-ignored local
override the builds pass to dbt) and `link` (Signal link + checklist)."""

from __future__ import annotations

import json
import os
import urllib.parse
from pathlib import Path

import pytest

from signal_campaigns.cli.mapping import DEFAULT_MAPPING, MAPPING_PATH_ENV, read_mapping
from signal_campaigns.warehouse.dbt_runner import mapping_override_path, mapping_overrides


def _seed() -> Path:
    return Path(os.environ[MAPPING_PATH_ENV])


def test_show_lists_primary_events_first_and_collapses_the_others(run_cli, project):
    result = run_cli("mapping", "show")
    assert result.exit_code == 0
    assert "purchase" in result.stdout and "Purchase" in result.stdout
    assert "AddToWishlist" not in result.stdout and "+ 7 more events" in result.stdout
    full = run_cli("mapping", "show", "--all")
    assert "AddToWishlist" in full.stdout and "more events" not in full.stdout
    data = json.loads(run_cli("--json", "mapping", "show").stdout)
    groups = [row["dashboard_group"] for row in data["mapping"]]
    assert groups == sorted(groups, key=lambda g: g != "primary")  # primary first
    assert len(data["mapping"]) == len(DEFAULT_MAPPING)


def test_set_disable_and_reset_keep_the_seed_and_write_the_local_override(run_cli, project):
    seed_before = _seed().read_bytes()
    ok = run_cli("--json", "mapping", "set", "login", "Login_Done")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["kind"] == "custom"
    rows = {r.sdk_event: r for r in read_mapping(_seed())}
    assert rows["login"].tiktok_event == "Login_Done" and rows["login"].dashboard_group == "more_events"

    assert run_cli("mapping", "set", "purchase", "CompletePayment").exit_code == 0  # legacy name: valid
    assert run_cli("mapping", "disable", "session_start").exit_code == 0
    rows = {r.sdk_event: r for r in read_mapping(_seed())}
    assert rows["purchase"].tiktok_event == "CompletePayment"
    assert rows["session_start"].tiktok_event == "" and not rows["session_start"].enabled
    shown = run_cli("mapping", "show").stdout
    assert "(disabled)" in shown and str(mapping_override_path()) in shown
    assert mapping_overrides() == {"login": "Login_Done", "purchase": "CompletePayment", "session_start": ""}
    assert _seed().read_bytes() == seed_before  # the tracked seed never changes

    assert run_cli("mapping", "set", "purchase", "Purchase").exit_code == 0  # back to the default: no override
    assert "purchase" not in mapping_overrides()
    reset = run_cli("mapping", "reset")
    assert reset.exit_code == 0
    assert not mapping_override_path().exists()
    assert [(r.sdk_event, r.tiktok_event, r.dashboard_group) for r in read_mapping(_seed())] == list(DEFAULT_MAPPING)
    assert _seed().read_bytes() == seed_before


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [("purchse", "purchase"), ("start_trail", "start_trial"), ("tutorial_completed", "tutorial_complete")],
)
def test_misspelt_sdk_event_is_refused_with_the_closest_names(run_cli, project, name, suggestion):
    result = run_cli("--json", "mapping", "set", name, "Purchase")
    assert result.exit_code == 1 and result.stderr == ""
    error = json.loads(result.stdout)
    assert name in error["error"] and f"did you mean {suggestion}" in error["fix"]
    assert not mapping_override_path().exists()  # nothing written
    new = run_cli("mapping", "set", name, "Purchase", "--new")  # a new event, on purpose
    assert new.exit_code == 0 and mapping_overrides() == {name: "Purchase"}


def test_sdk_events_appsprint_reported_are_known(run_cli, project, cli_warehouse):
    """An event type only the warehouse knows (AppSprint reported it) is accepted without --new."""
    import duckdb

    with duckdb.connect(str(cli_warehouse), read_only=True) as con:
        reported = {
            r[0] for r in con.execute("select distinct event_type from staging.stg_appsprint__events").fetchall()
        }
    documented = {r[0] for r in DEFAULT_MAPPING} | {"login", "achieve_level", "level_start", "level_complete"}
    extra = sorted(reported - documented - {"tutorial_complete", "share", "custom"})
    name = extra[0] if extra else "share"
    result = run_cli("mapping", "set", name, "Lead", warehouse=cli_warehouse)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Checkout", "reserved TikTok name"),
        ("purchase", "only in case"),
        ("9lives", "not a valid TikTok custom event name"),
        ("has space", "not a valid TikTok custom event name"),
        ("x" * 51, "not a valid TikTok custom event name"),
    ],
)
def test_invalid_tiktok_names_are_refused_and_nothing_changes(run_cli, project, name, expected):
    before = _seed().read_bytes()
    result = run_cli("mapping", "set", "purchase", name)
    assert result.exit_code == 1
    assert expected in result.stderr
    assert _seed().read_bytes() == before and not mapping_override_path().exists()


def test_invalid_sdk_event_is_refused(run_cli, project):
    result = run_cli("mapping", "set", "Not An Event", "Purchase")
    assert result.exit_code == 1 and "SDK event type" in result.stderr


def test_link_from_the_warehouse_has_every_macro_and_the_checklist(run_cli, project, cli_warehouse):
    result = run_cli("--json", "link", warehouse=cli_warehouse)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["links"], "the sandbox has TikTok Signal links"
    website = data["links"][0]["website_url"]
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(website).query))
    assert params == {
        "campaign_id": "__CAMPAIGN_ID__",
        "campaign_name": "__CAMPAIGN_NAME__",
        "adgroup_id": "__AID__",
        "ad_id": "__CID__",
        "ad_name": "__CID_NAME__",
        "placement": "__PLACEMENT__",
        "ttclid": "__CLICKID__",
        "callback": "__CALLBACK_PARAM__",
        "ip": "__IP__",
        "ua": "__UA__",
    }
    assert website.startswith(data["links"][0]["url"] + "?")
    checklist = " ".join(data["checklist"])
    for needle in (
        "Lead generation",
        "Sales",
        "Website",
        "same Web Pixel",
        "TikTok only",
        "One OS per ad group",
        "Tracking section",
    ):
        assert needle in checklist
    human = run_cli("link", warehouse=cli_warehouse)
    assert website in human.stdout  # printed whole, ready to paste


def test_link_url_is_validated_and_saved(run_cli, project, tmp_path):
    bad = run_cli("link", "--url", "https://example.com/landing")
    assert bad.exit_code == 1 and "not a Signal link" in bad.stderr
    good = run_cli("link", "--url", "https://go.example.app/s/sl_abc?utm_source=tiktok")
    assert good.exit_code == 0
    again = run_cli("--json", "link", warehouse=tmp_path / "none.duckdb")
    url = json.loads(again.stdout)["links"][0]["website_url"]
    assert url.startswith("https://go.example.app/s/sl_abc?utm_source=tiktok&campaign_id=__CAMPAIGN_ID__")


def test_mapping_changes_print_json_for_scripts(run_cli, project):
    for args in (["mapping", "disable", "search"], ["mapping", "set", "search", "Search"], ["mapping", "reset"]):
        result = run_cli("--json", *args)
        assert result.exit_code == 0
        data = json.loads(result.stdout)
        assert data["ok"] and data["override"] == str(mapping_override_path())
        assert result.stderr == ""  # --json: nothing for people on stderr
