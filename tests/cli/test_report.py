"""`report`: any window and grain, the 12 metrics as ratios of sums, provenance; table/CSV/JSON."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import ROUND_HALF_UP, Decimal

import duckdb
import pytest

from signal_campaigns.cli.report import METRICS, PROVENANCE
from signal_campaigns.formatting import money

START, END = "2026-06-01", "2026-06-14"


def _daily_sums(db, grain: str) -> dict[str, dict]:
    key = {"campaign": "campaign_id", "adgroup": "adgroup_id", "ad": "ad_id"}[grain]
    with duckdb.connect(str(db), read_only=True) as con:
        cur = con.execute(
            f"select {key} as k, sum(spend), sum(impressions), sum(clicks), sum(installs), sum(revenue), "
            f"sum(installs_from_fallback), sum(installs_appsprint) from main.signal_campaign_daily "
            f"where report_date between ? and ? group by {key}",
            [START, END],
        )
        return {
            r[0]: dict(
                zip(
                    (
                        "spend",
                        "impressions",
                        "clicks",
                        "installs",
                        "revenue",
                        "installs_from_fallback",
                        "installs_appsprint",
                    ),
                    r[1:],
                )
            )
            for r in cur.fetchall()
        }


def _money(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


@pytest.mark.parametrize("grain", ["campaign", "adgroup", "ad"])
def test_json_report_is_ratio_of_sums_over_the_window(run_cli, cli_warehouse, grain):
    result = run_cli("--json", "report", "--grain", grain, "--start", START, "--end", END, warehouse=cli_warehouse)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["start_date"] == START and data["end_date"] == END and grain in data["source"]
    sums = _daily_sums(cli_warehouse, grain)
    key = f"{grain}_id"
    assert {r[key] for r in data["rows"]} == set(sums)
    for row in data["rows"]:
        assert set(METRICS) | set(PROVENANCE) <= set(row)
        s = sums[row[key]]
        spend = Decimal(row["spend"])
        assert spend == s["spend"]
        assert (row["impressions"], row["clicks"], row["installs"]) == (s["impressions"], s["clicks"], s["installs"])
        # provenance: AppSprint's part plus the TikTok-fallback part (ad-days AppSprint had none)
        assert row["installs"] == row["installs_appsprint"] + row["installs_from_fallback"]
        assert row["installs_from_fallback"] == s["installs_from_fallback"]
        assert Decimal(row["revenue"]) == s["revenue"]
        if s["installs"]:
            assert Decimal(row["cpi"]) == _money(s["spend"] / s["installs"])
        else:
            assert row["cpi"] is None
        if s["impressions"]:
            assert row["ctr"] == pytest.approx(s["clicks"] / s["impressions"])
            assert row["ipm"] == pytest.approx(s["installs"] * 1000 / s["impressions"])
            assert Decimal(row["cpm"]) == _money(s["spend"] * 1000 / s["impressions"])
        if s["clicks"]:
            assert row["cti"] == pytest.approx(s["installs"] / s["clicks"])
            assert Decimal(row["cpc"]) == _money(s["spend"] / s["clicks"])
        if s["spend"]:
            assert row["roas"] == pytest.approx(float(s["revenue"] / s["spend"]))


def test_csv_and_table_show_the_same_numbers(run_cli, cli_warehouse):
    as_csv = run_cli(
        "report", "--grain", "campaign", "--start", START, "--end", END, "--format", "csv", warehouse=cli_warehouse
    )
    assert as_csv.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    as_json = json.loads(
        run_cli("report", "--start", START, "--end", END, "--format", "json", warehouse=cli_warehouse).stdout
    )
    assert [r["campaign_id"] for r in rows] == [r["campaign_id"] for r in as_json["rows"]]
    for c, j in zip(rows, as_json["rows"]):
        assert Decimal(c["spend"]) == Decimal(j["spend"]) and int(c["installs"]) == j["installs"]
        assert c["install_fallback_spend_share"] == (
            "" if j["install_fallback_spend_share"] is None else str(j["install_fallback_spend_share"])
        )
    table = run_cli("report", "--start", START, "--end", END, warehouse=cli_warehouse)
    assert table.exit_code == 0
    for j in as_json["rows"]:
        assert j["campaign_name"] in table.stdout
        assert money(Decimal(j["spend"])) in table.stdout  # the one display rule: half-up
    assert "ratio-of-sums" in table.stdout and "of which TikTok" in table.stdout


def test_default_window_is_the_last_loaded_days(run_cli, cli_warehouse):
    data = json.loads(run_cli("--json", "report", "--days", "3", warehouse=cli_warehouse).stdout)
    with duckdb.connect(str(cli_warehouse), read_only=True) as con:
        [(latest,)] = con.execute("select max(report_date) from main.signal_campaign_daily").fetchall()
    assert data["end_date"] == latest.isoformat()
    assert data["start_date"] == (latest - dt.timedelta(days=2)).isoformat()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--grain", "country"], "unknown grain"),
        (["--start", "2026-13-01"], "is not a date"),
        (["--start", "2026-06-10", "--end", "2026-06-01"], "after it ends"),
        (["--format", "xml"], "unknown format"),
    ],
)
def test_bad_report_options_are_explained(run_cli, cli_warehouse, args, message):
    result = run_cli("report", *args, warehouse=cli_warehouse)
    assert result.exit_code == 1 and message in result.stderr
