"""The charts, as Plotly figure dicts (``{"data": [...], "layout": {...}}``) that the page draws
with the inlined plotly.js. Hover labels are formatted in Python (:mod:`.display`), so a chart
shows the same rounding as the tables. A chart without a data point is ``None`` (the page says
why instead of drawing an empty frame)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import plotly.graph_objects as go

from .display import amount, as_float, day, number
from .queries import AdvertiserView, WindowView

PALETTE = ("#2563eb", "#db2777", "#059669", "#d97706", "#7c3aed", "#0891b2", "#65a30d", "#dc2626")
STATUS_COLOURS = {"sent": "#059669", "dead": "#dc2626", "pending": "#d97706"}
DAY_MS = 86_400_000
BAR_WIDTH = int(DAY_MS * 0.7)  # a day's bar, also when a window has one day of data
FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12, "color": "#1f2937"}
Figure = dict[str, Any]


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 14}},
        "font": FONT,
        "margin": {"l": 64, "r": 16, "t": 40, "b": 40},
        "height": 300,
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "hovermode": "closest",
        "legend": {"orientation": "h", "y": -0.18, "x": 0, "font": {"size": 11}},
        "yaxis": {"gridcolor": "#e5e7eb", "zerolinecolor": "#9ca3af", "rangemode": "tozero", "automargin": True},
    }
    layout.update(extra)
    return layout


def _date_axis(window: WindowView) -> dict[str, Any]:
    """Whole days of the window, labelled '15 Jun'."""
    half = dt.timedelta(hours=12)
    first = dt.datetime.combine(window.start, dt.time()) - half
    last = dt.datetime.combine(window.end, dt.time()) + half
    return {
        "type": "date",
        "range": [first.isoformat(), last.isoformat()],
        "tickformat": "%-d %b",
        "dtick": DAY_MS * (1 if window.days <= 14 else 7),
        "tick0": window.end.isoformat(),
        "showgrid": False,
        "linecolor": "#9ca3af",
    }


def _today_marker(window: WindowView) -> dict[str, Any]:
    """The shaded band over today, a partial day."""
    half = dt.timedelta(hours=12)
    today = dt.datetime.combine(window.end, dt.time())
    return {
        "shapes": [
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": (today - half).isoformat(),
                "x1": (today + half).isoformat(),
                "y0": 0,
                "y1": 1,
                "fillcolor": "#fde68a",
                "opacity": 0.35,
                "line": {"width": 0},
                "layer": "below",
            }
        ],
        "annotations": [
            {
                "xref": "x",
                "yref": "paper",
                "x": today.isoformat(),
                "y": 1,
                "yanchor": "bottom",
                "text": "today (partial)",
                "showarrow": False,
                "font": {"size": 10, "color": "#92400e"},
            }
        ],
    }


def campaign_colours(view: AdvertiserView) -> dict[str, str]:
    """One colour per campaign, the same in every chart and window."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(sorted(view.campaigns))}


def _by_campaign(window: WindowView) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in window.daily:
        out.setdefault(row["campaign_name"] or row["campaign_id"], []).append(row)
    return out


def _line_chart(
    view: AdvertiserView, window: WindowView, column: str, kind: str, title: str, unit: str
) -> Figure | None:
    colours = campaign_colours(view)
    fig = go.Figure()
    points = 0
    for name, rows in _by_campaign(window).items():
        ys = [as_float(r[column]) for r in rows]
        points += sum(y is not None for y in ys)
        labels = [
            f"{name}<br>{day(r['report_date'])}<br>{title}: "
            + (amount(r[column], view.currency) if kind == "money" else number(r[column], kind))
            for r in rows
        ]
        fig.add_trace(
            go.Scatter(
                x=[r["report_date"].isoformat() for r in rows],
                y=ys,
                name=name,
                mode="lines+markers",
                line={"color": colours.get(name), "width": 2},
                marker={"size": 5},
                connectgaps=False,
                text=labels,
                hovertemplate="%{text}<extra></extra>",
            )
        )
    if not points:
        return None
    layout = _layout(title, xaxis=_date_axis(window), **_today_marker(window))
    layout["yaxis"]["title"] = {"text": unit, "font": {"size": 11}}
    fig.update_layout(layout)
    return fig.to_plotly_json()


def installs_chart(view: AdvertiserView, window: WindowView) -> Figure | None:
    """Installs per day stacked by campaign and source: AppSprint solid, TikTok's fallback hatched."""
    colours = campaign_colours(view)
    fig = go.Figure()
    points = 0
    for name, rows in _by_campaign(window).items():
        for column, source, pattern in (
            ("installs_appsprint", "AppSprint", ""),
            ("installs_from_fallback", "TikTok fallback", "/"),
        ):
            ys = [int(r[column] or 0) for r in rows]
            points += sum(y > 0 for y in ys)
            fig.add_trace(
                go.Bar(
                    x=[r["report_date"].isoformat() for r in rows],
                    y=ys,
                    name=f"{name} · {source}",
                    width=BAR_WIDTH,
                    legendgroup=name,
                    marker={
                        "color": colours.get(name),
                        "pattern": {"shape": pattern, "fillmode": "overlay", "fgcolor": "white"},
                    },
                    text=[
                        f"{name}<br>{day(r['report_date'])}<br>{source}: {number(y, 'count')}" for r, y in zip(rows, ys)
                    ],
                    textposition="none",
                    hovertemplate="%{text}<extra></extra>",
                )
            )
    if not points:
        return None
    layout = _layout("Installs by source (hatched: TikTok fallback)", xaxis=_date_axis(window), barmode="stack")
    layout.update(_today_marker(window))
    layout["yaxis"]["title"] = {"text": "installs", "font": {"size": 11}}
    fig.update_layout(layout)
    return fig.to_plotly_json()


def trend_charts(view: AdvertiserView, window: WindowView) -> dict[str, Figure | None]:
    cur = view.currency
    return {
        "spend": _line_chart(view, window, "spend", "money", "Spend", cur),
        "installs": installs_chart(view, window),
        "cpi": _line_chart(view, window, "cpi", "money", "CPI (cost per install)", cur),
        "roas": _line_chart(view, window, "roas", "ratio", "ROAS (revenue / spend)", "revenue per 1 spent"),
    }


def delivery_chart(window: WindowView) -> Figure | None:
    """Forwarded events per day by ledger status (sent, dead, pending)."""
    if not window.delivery:
        return None
    fig = go.Figure()
    for status, colour in STATUS_COLOURS.items():
        rows = [r for r in window.delivery if r["status"] == status]
        fig.add_trace(
            go.Bar(
                x=[r["day"].isoformat() for r in rows],
                y=[int(r["events"]) for r in rows],
                name=status,
                width=BAR_WIDTH,
                marker={"color": colour},
                text=[f"{day(r['day'])}<br>{status}: {number(r['events'], 'count')}" for r in rows],
                textposition="none",
                hovertemplate="%{text}<extra></extra>",
            )
        )
    layout = _layout("Forwarded events per day (delivery ledger)", xaxis=_date_axis(window), barmode="stack")
    layout.update(_today_marker(window))
    layout["yaxis"]["title"] = {"text": "events", "font": {"size": 11}}
    fig.update_layout(layout)
    return fig.to_plotly_json()


def _side_by_side(
    title: str, names: list[str], series: list[tuple[str, str, list[int], list[str]]], axis: str, height: int
) -> tuple[go.Figure, dict[str, Any]]:
    """Horizontal bars, one group per name, one bar per series (label, colour, values, texts)."""
    fig = go.Figure()
    for label, colour, values, texts in series:
        fig.add_trace(
            go.Bar(
                y=names,
                x=values,
                name=label,
                orientation="h",
                marker={"color": colour},
                text=texts,
                textposition="outside",
                cliponaxis=False,
                hovertemplate=f"%{{y}}<br>{label}: %{{text}}<extra></extra>",
            )
        )
    layout = _layout(title, barmode="group", height=height)
    layout["legend"] = {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"}
    layout["yaxis"] = {"automargin": True, "autorange": "reversed", "tickfont": {"size": 11}}
    layout["xaxis"] = {"gridcolor": "#e5e7eb", "rangemode": "tozero", "nticks": 6, "title": {"text": axis}}
    layout["margin"] = {"l": 16, "r": 64, "t": 64, "b": 50}
    return fig, layout


def reconciliation_chart(window: WindowView) -> Figure | None:
    rows = window.reconciliation
    if not rows:
        return None
    series = []
    for column, label, colour in (
        ("installs_appsprint", "AppSprint", "#2563eb"),
        ("installs_tiktok", "TikTok", "#111827"),
    ):
        values = [int(r[column] or 0) for r in rows]
        series.append((label, colour, values, [number(v, "count") for v in values]))
    names = [r["campaign_name"] or r["campaign_id"] for r in rows]
    fig, layout = _side_by_side("Installs: AppSprint vs TikTok", names, series, "installs", 140 + 60 * len(rows))
    fig.update_layout(layout)
    return fig.to_plotly_json()


def readiness_chart(view: AdvertiserView) -> Figure | None:
    """Unique attributed Purchases per pixel, best and current 7 days, against the threshold."""
    rows = view.readiness
    if not rows:
        return None
    series = []
    for column, label, colour in (
        ("max_purchases_in_7_days", "best 7-day window", "#7c3aed"),
        ("current_7_day_purchases", "current 7 days", "#0891b2"),
    ):
        values = [int(r[column] or 0) for r in rows]
        series.append((label, colour, values, [f"{v:,} of {int(r['threshold'])}" for v, r in zip(values, rows)]))
    names = [f"{r['pixel_name'] or 'pixel'}<br>{r['pixel_code']}" for r in rows]
    fig, layout = _side_by_side(
        "Unique attributed Purchases in 7 days", names, series, "unique attributed Purchases", 200 + 70 * len(rows)
    )
    threshold = int(rows[0]["threshold"])
    layout["shapes"] = [
        {"type": "line", "xref": "x", "yref": "paper", "x0": threshold, "x1": threshold, "y0": 0, "y1": 1,
         "line": {"color": "#dc2626", "dash": "dash", "width": 2}}
    ]  # fmt: skip
    layout["annotations"] = [
        {"xref": "x", "yref": "paper", "x": threshold, "y": 1, "yanchor": "top", "xanchor": "left", "xshift": 4,
         "showarrow": False, "text": f"{threshold} unlock it", "font": {"size": 10, "color": "#dc2626"}}
    ]  # fmt: skip
    fig.update_layout(layout)
    return fig.to_plotly_json()
