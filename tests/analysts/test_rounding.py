"""One rounding rule for money wherever the product prints it: half-up to 2 decimals (570.485 ->
570.49), the same in `signal-campaigns report` and in the demo's results, from DECIMAL and DOUBLE
values alike; CTR and CTI keep 4 decimals."""

from __future__ import annotations

import datetime as dt
import io
import shutil
from decimal import Decimal

import duckdb
import pytest
from rich.console import Console
from typer.testing import CliRunner

from sandbox.demo import show_results
from signal_campaigns.cli.app import app
from signal_campaigns.formatting import cell, fraction, money, round_half_up

# the model tests' session fixtures: the tiny world loaded by the real dlt sources, then `dbt build`
from tests.models.conftest import built_duckdb, dbt_target_paths, raw_warehouse  # noqa: F401


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("570.485"), "570.49"),
        (570.485, "570.49"),  # the double nearest 570.485 is 570.48499999999998...: still 570.49
        (Decimal("570.484"), "570.48"),
        (Decimal("570.4849999"), "570.48"),
        (Decimal("-570.485"), "-570.49"),  # half away from zero
        (2.675, "2.68"),  # the classic float case (round(2.675, 2) == 2.67 in Python)
        (0.125, "0.13"),
        (Decimal("0.005"), "0.01"),
        (Decimal("1234567.005"), "1,234,567.01"),
        (Decimal("570.475"), "570.48"),  # not half-even (which would keep 570.48 here too, but 570.485 -> 570.48)
        (Decimal("570.495"), "570.50"),
        (7, "7.00"),
    ],
)
def test_money_rounds_half_up_to_2_decimals(value, shown):
    assert money(value) == shown


def test_fractions_keep_4_decimals_half_up():
    assert fraction(Decimal("0.01235")) == "0.0124"
    assert fraction(0.00005) == "0.0001"
    assert cell(0.012345, is_fraction=True) == "0.0123"
    assert cell(Decimal("0.012345")) == "0.01"


def test_cells():
    assert cell(None) == "—"
    assert cell(True) == "yes" and cell(False) == "no"
    assert cell(1234567) == "1,234,567"
    assert cell(Decimal("570.485")) == cell(570.485) == "570.49"
    assert cell(dt.datetime(2026, 6, 1, 12, 30, tzinfo=dt.UTC)) == "2026-06-01 12:30 UTC"
    assert cell("campaign 1") == "campaign 1"
    assert round_half_up(Decimal("570.485")) == Decimal("570.49")
    with pytest.raises(ValueError, match="cannot round"):
        round_half_up(float("nan"))


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> tuple:
    row = con.execute(sql, params).fetchone()
    assert row is not None, sql
    return row


@pytest.fixture(scope="module")
def half_cent_warehouse(built_duckdb, tmp_path_factory):  # noqa: F811
    """The built tiny-world warehouse where one campaign spent exactly 570.485 in the last 7 days
    (one ad-day of it; its other ad-days in the window spent nothing) for 100 installs, so its CPI
    is 5.70485."""
    assert built_duckdb["run"].success, built_duckdb["run"].failures()
    db = tmp_path_factory.mktemp("half_cent") / "warehouse.duckdb"
    shutil.copyfile(built_duckdb["db"], db)
    with duckdb.connect(str(db)) as con:
        first, last = _one(con, "select max(report_date) - 6, max(report_date) from main.signal_campaign_daily", [])
        campaign_id, campaign_name, ad_id, day = _one(
            con,
            "select campaign_id, campaign_name, ad_id, report_date from main.signal_campaign_daily "
            "where report_date between ? and ? order by spend desc, ad_id limit 1",
            [first, last],
        )
        window = "campaign_id = ? and report_date between ? and ?"
        con.execute(
            f"update main.signal_campaign_daily set spend = 0, installs = 0, installs_appsprint = 0, "
            f"installs_from_fallback = 0 where {window}",
            [campaign_id, first, last],
        )
        con.execute(
            "update main.signal_campaign_daily set spend = 570.485, installs = 100, installs_appsprint = 100 "
            "where ad_id = ? and report_date = ?",
            [ad_id, day],
        )
        (spend,) = _one(
            con,
            "select spend from main.signal_campaign_metrics('campaign', ?, ?) where campaign_id = ?",
            [first, last, campaign_id],
        )
    assert Decimal(str(spend)) == Decimal("570.485"), "the mart does not keep the half cent: the test proves nothing"
    return {"db": db, "campaign": campaign_name, "first": first, "last": last}


def _row_of(text: str, name: str) -> str:
    return next(line for line in text.splitlines() if name in line)


def test_report_and_demo_print_the_same_half_up_money(half_cent_warehouse, tmp_path):
    wh = half_cent_warehouse
    report = CliRunner().invoke(
        app,
        [
            "--project-dir",
            str(tmp_path),
            "--warehouse",
            str(wh["db"]),
            "report",
            "--start",
            str(wh["first"]),
            "--end",
            str(wh["last"]),
        ],
        catch_exceptions=False,
    )
    assert report.exit_code == 0, report.output
    buffer = io.StringIO()
    show_results(Console(file=buffer, width=400), wh["db"], None)
    demo = buffer.getvalue()

    for printed in (_row_of(report.stdout, wh["campaign"]), _row_of(demo, wh["campaign"])):
        assert "570.49" in printed and "570.48" not in printed  # spend
        assert "5.70" in printed  # CPI 5.70485
