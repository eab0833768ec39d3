"""`status`: last syncs, the forwarding queue and ledger, value-optimisation readiness."""

from __future__ import annotations

import json

import duckdb


def test_status_reports_syncs_ledger_and_readiness(run_cli, cli_warehouse):
    result = run_cli("--json", "status", warehouse=cli_warehouse)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    syncs = {s["dataset"]: s for s in data["syncs"]}
    assert syncs["tiktok_ads"]["loads"] >= 1 and syncs["tiktok_ads"]["last_load_at"]
    assert syncs["appsprint"]["loads"] >= 1 and syncs["appsprint"]["last_load_at"]
    with duckdb.connect(str(cli_warehouse), read_only=True) as con:
        ledger = dict(con.execute("select status, count(*) from main.event_delivery_ledger group by status").fetchall())
        [(queue,)] = con.execute("select count(*) from main.events_to_forward").fetchall()
        ready = con.execute(
            "select pixel_code, max_purchases_in_7_days from main.value_optimization_readiness"
        ).fetchall()
    fwd = data["forwarding"]
    assert fwd["queue"] == queue
    assert fwd["ledger"]["pending"] == ledger["pending"] > 0
    assert fwd["ledger"]["dead"] == ledger["dead"] > 0
    assert fwd["ledger"]["sent"] == ledger["sent"] > 0
    got = {r["pixel_code"]: r for r in data["value_optimization"]}
    assert {p: r["max_purchases_in_7_days"] for p, r in got.items()} == dict(ready)
    assert all(r["threshold"] == 20 for r in got.values())

    table = run_cli("status", warehouse=cli_warehouse)
    assert table.exit_code == 0
    for pixel, best in ready:
        assert pixel in table.stdout
        assert f"{best} of 20" in table.stdout
    assert "Last syncs" in table.stdout and "Forwarding" in table.stdout


def test_status_without_a_warehouse_says_how_to_build_it(run_cli, tmp_path):
    result = run_cli("status", warehouse=tmp_path / "missing.duckdb")
    assert result.exit_code == 1
    assert "does not exist" in result.stderr and "make demo" in result.stderr
