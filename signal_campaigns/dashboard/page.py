"""The page: one self-contained HTML file (plotly.js inlined once, no request leaves it), an
advertiser selector and a window switch; each advertiser's section shows only its own currency.
Charts are drawn when their section is first shown (a hidden chart would be drawn at the wrong
size)."""

from __future__ import annotations

import datetime as dt
import json
from html import escape
from typing import Any

from plotly.offline import get_plotlyjs
from plotly.utils import PlotlyJSONEncoder

from signal_campaigns.formatting import utc_offset

from .display import amount, clock, day, day_range, number
from .explain import RECONCILIATION_NOTE
from .figures import Figure, delivery_chart, readiness_chart, reconciliation_chart, trend_charts
from .queries import AdvertiserView, WindowView
from .tables import metrics_table, readiness_table, reconciliation_table, skips_table
from .template import CSS, SCRIPT

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


class Charts:
    """The figures of the page by element id."""

    def __init__(self) -> None:
        self.figures: dict[str, Figure] = {}

    def place(self, chart_id: str, figure: Figure | None, empty: str) -> str:
        if figure is None:
            return f'<div class="chart-empty"><p>{escape(empty)}</p></div>'
        self.figures[chart_id] = figure
        return f'<div class="chart" id="{chart_id}" data-figure="{chart_id}"></div>'


def _kpis(view: AdvertiserView, window: WindowView) -> str:
    campaigns = [r for r in window.table if r["grain"] == "campaign"]

    def total(column: str) -> Any:
        return sum((r[column] for r in campaigns if r[column] is not None), start=0)

    spend, installs, revenue = total("spend"), total("installs"), total("revenue")
    tiles = [
        ("Spend", amount(spend, view.currency), ""),
        (
            "Installs",
            number(installs, "count"),
            f"{number(total('installs_from_fallback'), 'count')} from TikTok's fallback",
        ),
        ("CPI", amount(spend / installs, view.currency) if installs else "—", "spend / installs"),
        (
            "Revenue",
            amount(revenue, view.currency),
            f"{amount(total('revenue_from_fallback'), view.currency)} from TikTok's fallback",
        ),
        ("ROAS", number(revenue / spend, "ratio") if spend else "—", "revenue / spend"),
    ]
    return (
        '<div class="kpis">'
        + "".join(
            f'<div class="kpi" data-kpi="{label.lower()}"><div class="kpi-label">{label}</div>'
            f'<div class="kpi-value">{value}</div><div class="kpi-note">{escape(note)}</div></div>'
            for label, value, note in tiles
        )
        + "</div>"
    )


def _window(view: AdvertiserView, window: WindowView, charts: Charts, unattributed: list[dict[str, Any]]) -> str:
    key = f"a{view.advertiser_id}-w{window.days}"
    trend = trend_charts(view, window)
    nothing = f"No data from {day_range(window.start, window.end)}."
    grid = "".join(charts.place(f"{key}-{name}", fig, nothing) for name, fig in trend.items())
    return f"""
<div class="window" data-window="{window.days}" data-start="{window.start}" data-end="{window.end}" hidden>
  {_kpis(view, window)}
  <section><h3>Daily trends per campaign, {day_range(window.start, window.end)}</h3>
    <div class="grid">{grid}</div></section>
  <section><h3>Campaigns, ad groups and ads: the 12 metrics</h3>{metrics_table(view, window)}</section>
  <section><h3>AppSprint vs TikTok, per campaign</h3>
    <p class="note">{escape(RECONCILIATION_NOTE)}</p>
    <div class="split">{charts.place(f"{key}-reconciliation", reconciliation_chart(window), nothing)}
    <div>{reconciliation_table(view, window)}</div></div></section>
  <section><h3>Forwarding health</h3>
    <div class="split">{charts.place(f"{key}-delivery", delivery_chart(window), "No event was forwarded in this window.")}
    <div>{skips_table(view.skips, unattributed)}</div></div></section>
</div>"""


def _advertiser(view: AdvertiserView, charts: Charts, unattributed: list[dict[str, Any]]) -> str:
    windows = "".join(_window(view, w, charts, unattributed) for w in view.windows)
    readiness = charts.place(
        f"a{view.advertiser_id}-readiness", readiness_chart(view), "No attributed Purchase for any pixel yet."
    )
    return f"""
<article class="advertiser" data-advertiser="{escape(view.advertiser_id)}" hidden>
  <h2>Advertiser {escape(view.advertiser_id)} <span class="meta">{escape(view.currency)} ·
    {escape(view.timezone)} ({utc_offset(view.now_local)}) · today {day(view.today)}, data up to
    {clock(view.now_local)} local time</span></h2>
  {windows}
  <section><h3>Value-based optimisation readiness</h3>
    <p class="note">TikTok unlocks value-based optimisation after 20 unique attributed Purchase events in any
    7-day window (test events never count).</p>
    <div class="split">{readiness}<div>{readiness_table(view)}</div></div></section>
</article>"""


def _json(value: Any) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(value, cls=PlotlyJSONEncoder, separators=(",", ":")).replace("</", "<\\/")


def render_page(
    views: list[AdvertiserView],
    unattributed: list[dict[str, Any]],
    *,
    source: str,
    generated_at: dt.datetime,
    default_days: int,
) -> str:
    charts = Charts()
    articles = "".join(_advertiser(v, charts, unattributed) for v in views)
    options = "".join(
        f'<option value="{escape(v.advertiser_id)}">{escape(v.advertiser_id)} ({escape(v.currency)})</option>'
        for v in views
    )
    windows = sorted({w.days for v in views for w in v.windows})
    buttons = "".join(
        f'<button type="button" data-days="{d}" aria-pressed="{"true" if d == default_days else "false"}">'
        f"Last {d} days</button>"
        for d in windows
    )
    if not views:
        articles = '<p class="empty">The warehouse has no campaign data yet: run the pipelines (`make demo`).</p>'
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Signal Campaigns dashboard</title>
<style>{CSS}</style>
<script>{get_plotlyjs()}</script>
</head><body>
<header>
  <h1>TikTok Signal Campaigns</h1>
  <p class="meta">Written {generated_at:%Y-%m-%d %H:%M} UTC from <code>{escape(source)}</code>. Days are each
  advertiser's local days; money is in the advertiser's currency and never summed across currencies.
  AppSprint's numbers first, TikTok's as the fallback.</p>
  <div class="controls">
    <label>Advertiser <select id="advertiser">{options}</select></label>
    <div class="windows" role="group" aria-label="window">{buttons}</div>
  </div>
</header>
<main>{articles}</main>
<script>const FIGURES = {_json(charts.figures)}; const CONFIG = {_json(PLOTLY_CONFIG)};
const DEFAULT_DAYS = {default_days};
{SCRIPT}</script>
</body></html>
"""
