"""The dashboard in a real headless browser (Debian's Chromium driven by playwright), opened from
disk: no console error, no request leaving the file, every chart drawn with data points in every
advertiser x window, and the numbers shown equal the public marts. A screenshot is written to
data/artifacts/dashboard.png for a reviewer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pytest

from signal_campaigns.dashboard import write_dashboard
from signal_campaigns.dashboard.display import number
from signal_campaigns.formatting import money

from .conftest import ARTIFACTS

CHARTS_JS = """() => Array.from(document.querySelectorAll('.chart[data-figure]'))
  .filter((el) => !el.closest('[hidden]'))
  .map((el) => ({
    id: el.id,
    traces: el.querySelectorAll('g.trace').length,
    points: (el.data || []).reduce((n, t) => n + (t.y || []).filter((y, i) => y !== null && (t.x || [])[i] !== null).length, 0),
  }))"""


def sql(db: Path, query: str, params: list[Any] | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(query, params or []).fetchall()


@pytest.fixture(scope="module")
def page_file(dashboard_warehouse, tmp_path_factory) -> Path:
    return write_dashboard(dashboard_warehouse["bi_copy"], tmp_path_factory.mktemp("page") / "dashboard.html")


@pytest.fixture(scope="module")
def opened(browser, page_file):
    """The page opened from file://, with every console error and every request recorded."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, device_scale_factor=1)
    page = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    context.route("http*://**", lambda route: route.abort())  # nothing may leave the file
    page.goto(page_file.as_uri())
    page.wait_for_selector(".chart[data-drawn]")
    yield page, errors, requests
    context.close()


def advertisers(page) -> list[str]:
    return page.eval_on_selector_all("#advertiser option", "els => els.map((e) => e.value)")


def show(page, advertiser: str, days: int) -> None:
    page.select_option("#advertiser", advertiser)
    page.click(f'.windows button[data-days="{days}"]')
    page.wait_for_timeout(100)


def window_dates(page, advertiser: str, days: int) -> tuple[dt.date, dt.date]:
    el = page.locator(f'article[data-advertiser="{advertiser}"] .window[data-window="{days}"]')
    return dt.date.fromisoformat(el.get_attribute("data-start")), dt.date.fromisoformat(el.get_attribute("data-end"))


def cells(page, advertiser: str, days: int, grain: str, column: str) -> dict[str, str]:
    rows = page.locator(
        f'article[data-advertiser="{advertiser}"] .window[data-window="{days}"] tr[data-grain="{grain}"]'
    )
    return {
        rows.nth(i).get_attribute("data-id"): rows.nth(i).locator(f'td[data-col="{column}"]').text_content()
        for i in range(rows.count())
    }


def test_opens_offline_with_no_console_error_and_every_chart_has_data(opened, dashboard_warehouse):
    page, errors, requests = opened
    shown = advertisers(page)
    db_advertisers = [
        r[0]
        for r in sql(dashboard_warehouse["db"], "select distinct advertiser_id from signal_campaign_daily order by 1")
    ]
    assert sorted(shown) == db_advertisers
    for advertiser in shown:
        for days in (28, 14, 7):
            show(page, advertiser, days)
            charts = page.evaluate(CHARTS_JS)
            # spend, installs, CPI, ROAS, reconciliation, delivery and readiness
            assert len(charts) == 7, (advertiser, days, [c["id"] for c in charts])
            empty = [c for c in charts if not c["points"] or not c["traces"]]
            assert not empty, f"charts without data points for {advertiser}, {days} days: {empty}"
    assert not errors, errors
    assert requests and all(url.startswith("file://") for url in requests), requests


def test_campaign_and_ad_numbers_equal_the_marts(opened, dashboard_warehouse):
    page, _, _ = opened
    db = dashboard_warehouse["db"]
    for advertiser in advertisers(page):
        for days in (7, 28):
            start, end = window_dates(page, advertiser, days)
            assert (end - start).days == days - 1
            campaigns = sql(
                db,
                "select campaign_id, sum(spend), sum(installs) from signal_campaign_campaign_daily "
                "where advertiser_id = ? and report_date between ? and ? group by 1",
                [advertiser, start, end],
            )
            assert campaigns
            assert cells(page, advertiser, days, "campaign", "spend") == {c: money(s) for c, s, _ in campaigns}
            assert cells(page, advertiser, days, "campaign", "installs") == {c: f"{int(n):,}" for c, _, n in campaigns}
            ads = sql(
                db,
                "select ad_id, sum(spend), sum(clicks), sum(revenue) from signal_campaign_daily "
                "where advertiser_id = ? and report_date between ? and ? group by 1",
                [advertiser, start, end],
            )
            assert cells(page, advertiser, days, "ad", "spend") == {a: money(s) for a, s, _, _ in ads}
            assert cells(page, advertiser, days, "ad", "clicks") == {a: f"{int(c):,}" for a, _, c, _ in ads}
            assert cells(page, advertiser, days, "ad", "revenue") == {a: money(r) for a, _, _, r in ads}


def test_fallback_cells_and_todays_partial_day_are_marked(opened, dashboard_warehouse):
    page, _, _ = opened
    db = dashboard_warehouse["db"]
    marked_somewhere = False
    for advertiser in advertisers(page):
        start, end = window_dates(page, advertiser, 7)
        sources = dict(
            sql(
                db,
                "select ad_id, installs_source from signal_campaign_metrics('ad', ?, ?) where advertiser_id = ?",
                [start, end, advertiser],
            )
        )
        rows = page.locator(f'article[data-advertiser="{advertiser}"] .window[data-window="7"] tr[data-grain="ad"]')
        for i in range(rows.count()):
            css = rows.nth(i).locator('td[data-col="installs"]').get_attribute("class") or ""
            expected = {"tiktok": "fb-all", "mixed": "fb-part"}.get(sources[rows.nth(i).get_attribute("data-id")], "")
            assert css == expected
            marked_somewhere |= bool(expected)
        badge = page.locator(f'article[data-advertiser="{advertiser}"] .window[data-window="7"] caption .today-badge')
        assert "partial" in badge.text_content() and str(end.day) in badge.text_content()
    assert marked_somewhere, "the tiny world has ads on TikTok's fallback: some cell must be marked"
    assert page.locator(".legend .fb-all").count() > 0
    annotations = page.evaluate(
        "() => Object.values(FIGURES).flatMap((f) => (f.layout.annotations || []).map((a) => a.text))"
    )
    assert "today (partial)" in annotations


def test_readiness_forwarding_and_reconciliation_equal_the_marts(opened, dashboard_warehouse):
    page, _, _ = opened
    db = dashboard_warehouse["db"]
    sent_shown = 0
    for advertiser in advertisers(page):
        art = page.locator(f'article[data-advertiser="{advertiser}"]')
        best = [c.text_content() for c in art.locator('td[data-col="best"]').all()]
        expected = sql(
            db,
            "select max_purchases_in_7_days, threshold from value_optimization_readiness where advertiser_id = ? "
            "order by pixel_code",
            [advertiser],
        )
        assert best == [f"{n:,} of {t}" for n, t in expected]
        window = art.locator('.window[data-window="28"]')
        skips = dict(
            sql(db, "select reason, count(*) from forwarding_skips where advertiser_id = ? group by 1", [advertiser])
        )
        shown = {
            r.locator("code").first.text_content(): r.locator('td[data-col="events"]').text_content()
            for r in window.locator("table.skips tbody tr").all()
            if "this advertiser" in r.text_content()
        }
        assert shown == {reason: f"{n:,}" for reason, n in skips.items()}
        assert all(r.locator("td.why").text_content() for r in window.locator("table.skips tbody tr").all())
        start, end = window_dates(page, advertiser, 28)
        reconciliation = sql(
            db,
            "select campaign_id, sum(installs_appsprint), sum(installs_tiktok) from attribution_reconciliation "
            "where advertiser_id = ? and report_date between ? and ? group by 1",
            [advertiser, start, end],
        )
        for campaign, appsprint, tiktok in reconciliation:
            row = window.locator(f'tr[data-campaign="{campaign}"]')
            assert row.locator('td[data-col="installs_appsprint"]').text_content() == number(appsprint, "count")
            assert row.locator('td[data-col="installs_tiktok"]').text_content() == number(tiktok, "count")
            assert row.locator("td.why").text_content()
        sent_shown += page.evaluate(
            f"""() => FIGURES['a{advertiser}-w28-delivery'].data.filter((t) => t.name === 'sent')
                 .reduce((n, t) => n + t.y.reduce((a, b) => a + b, 0), 0)"""
        )
    (sent,) = sql(db, "select count(*) from event_delivery_ledger where status = 'sent'")[0]
    assert sent > 0 and sent_shown == sent


def test_money_is_in_each_advertisers_own_currency(opened, dashboard_warehouse):
    page, _, _ = opened
    currencies = dict(
        sql(dashboard_warehouse["db"], "select distinct advertiser_id, currency from signal_campaign_daily")
    )
    assert len(set(currencies.values())) > 1, "the tiny world has advertisers in several currencies"
    for advertiser, currency in currencies.items():
        art = page.locator(f'article[data-advertiser="{advertiser}"]')
        assert set(art.locator("table.metrics thead small").all_text_contents()) == {currency}
        spend_tiles = art.locator('.kpi[data-kpi="spend"] .kpi-value').all_text_contents()
        assert spend_tiles and all(t.endswith(f" {currency}") for t in spend_tiles)


def test_screenshot_for_review(opened):
    page, _, _ = opened
    show(page, advertisers(page)[0], 7)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / "dashboard.png"
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 50_000
