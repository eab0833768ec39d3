"""`doctor`: every problem the sandbox tiny world plants is found, with its fix."""

from __future__ import annotations

import json

import duckdb

from .conftest import assert_no_secrets


def _doctor(run_cli, warehouse, *options: str):
    result = run_cli("--json", "doctor", *options, warehouse=warehouse)
    assert result.stderr == ""  # --json: nothing for people on stderr
    data = json.loads(result.stdout)
    return result, data, {c["id"]: c for c in data["checks"]}


def test_doctor_finds_the_planted_problems(run_cli, connected, tt, tiny_world, cli_warehouse):
    """With --all, the warehouse checks cover every advertiser's data (the planted problems are spread)."""
    result, data, checks = _doctor(run_cli, cli_warehouse, "--all")
    assert result.exit_code == 1, "planted failures make doctor exit 1"
    assert not data["ok"]
    # the connection itself is healthy
    assert checks["oauth"]["status"] == "pass"
    assert checks["campaigns"]["status"] == "pass"
    assert checks["events_api"]["status"] == "pass"
    assert tt.received()["unique_events"] == 0  # the token check used a test event only

    # SDK requests without a real IP / user agent (generator: missing, 10.x / 192.168.x, loopback, no UA)
    skipped = checks["skipped_events"]
    assert skipped["status"] in ("warn", "fail")
    for reason in ("missing_ip", "private_ip", "missing_user_agent"):
        assert skipped["data"]["by_reason"][reason] > 0, reason
    with duckdb.connect(str(cli_warehouse), read_only=True) as con:
        [(expected,)] = con.execute(
            "select count(*) from main.forwarding_skips where reason in "
            "('missing_ip', 'private_ip', 'missing_user_agent')"
        ).fetchall()
    assert skipped["data"]["skipped_ip_ua"] == expected
    assert skipped["data"]["examples"] and all(
        e["reason"] in ("missing_ip", "private_ip", "missing_user_agent") for e in skipped["data"]["examples"]
    )
    assert "real client IP and user agent" in skipped["fix"]

    # the StartTrial ad group in a Sales campaign
    objective = checks["objective_fit"]
    assert objective["status"] == "fail"
    misfit_ids = {m["adgroup_id"] for m in objective["data"]["misfits"]}
    assert tiny_world.notes["startrial_in_sales_adgroup_id"] in misfit_ids
    assert "Lead generation" in objective["fix"]

    # ads on TikTok's fallback and the reconciliation numbers
    differences = checks["reporting_differences"]
    assert differences["status"] == "warn"
    fallback = {a["ad_id"] for a in differences["data"]["fallback_ads"]}
    assert fallback & set(tiny_world.notes["fallback_ad_ids"])
    assert differences["data"]["campaigns"] and "AppSprint attributes with its own data" in differences["detail"]
    assert len(differences["detail"]) < 400  # a sentence; the numbers are in the table
    table = differences["table"]
    assert table["columns"][:4] == ["campaign", "cur", "INSTALLS AppSprint", "INSTALLS TikTok"]
    assert len(table["rows"]) == len(differences["data"]["campaigns"])

    # the ledger: pending and dead events, with TikTok's message for the dead ones
    delivery = checks["delivery"]
    assert delivery["status"] == "warn"
    assert delivery["data"]["ledger"]["pending"] > 0 and delivery["data"]["ledger"]["dead"] > 0
    assert "30-90 minutes" in delivery["detail"] + delivery["fix"]
    assert any(p["last_code"] == 40002 and "older than" in p["last_message"] for p in delivery["data"]["problems"])
    assert_no_secrets(result, creds=tt.creds)

    human = run_cli("doctor", "--all", warehouse=cli_warehouse)
    assert human.exit_code == 1
    for word in ("PASS", "WARN", "FAIL", "Fix:", "INSTALLS AppSprint"):
        assert word in human.stdout
    assert_no_secrets(human, creds=tt.creds)


def test_doctor_rejected_oauth_token_and_foreign_events_token(run_cli, connected, tt, tiny_world, cli_warehouse):
    from signal_campaigns.cli import settings_store as keys
    from signal_campaigns.cli.settings_store import SettingsStore

    _us, eu = tiny_world.notes["advertiser_ids"]
    SettingsStore(connected).set_many({keys.EVENTS_API_TOKEN: tt.mint("events", [eu])})
    tt.revoke(tt.creds.tiktok_access_token)
    result, _data, checks = _doctor(run_cli, cli_warehouse)
    assert result.exit_code == 1
    assert checks["oauth"]["status"] == "fail" and "reconnect" in checks["oauth"]["fix"]
    assert checks["campaigns"]["status"] == "skip"
    events = checks["events_api"]
    assert events["status"] == "fail" and events["data"]["tiktok_code"] == 40001
    assert "Admin or Operator" in events["detail"]


def test_doctor_not_connected_and_no_warehouse(run_cli, project, tmp_path):
    result, _data, checks = _doctor(run_cli, tmp_path / "none.duckdb")
    assert result.exit_code == 1
    assert checks["oauth"]["status"] == "fail" and "connect" in checks["oauth"]["fix"]
    assert checks["events_api"]["status"] == "fail"
    for check_id in ("skipped_events", "delivery", "objective_fit", "reporting_differences"):
        assert checks[check_id]["status"] == "skip" and "make demo" in checks[check_id]["fix"]


def test_doctor_warehouse_checks_follow_the_selected_advertiser(run_cli, connected, tt, tiny_world, cli_warehouse):
    selected = tiny_world.notes["advertiser_ids"][0]
    _result, data, checks = _doctor(run_cli, cli_warehouse)
    _result, _data, every = _doctor(run_cli, cli_warehouse, "--all")
    assert data["advertisers"] == [selected]
    campaigns = checks["reporting_differences"]["data"]["campaigns"]
    assert campaigns and {c["advertiser_id"] for c in campaigns} == {selected}
    assert len(campaigns) < len(every["reporting_differences"]["data"]["campaigns"])
    assert all(m["advertiser_id"] == selected for m in checks["objective_fit"]["data"]["misfits"])
    sent = checks["delivery"]["data"]["ledger"]
    assert sum(sent.values()) < sum(every["delivery"]["data"]["ledger"].values())
