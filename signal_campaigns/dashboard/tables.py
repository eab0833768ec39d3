"""The HTML tables of the dashboard: the campaign -> ad group -> ad metrics with fallback-sourced
cells marked, reconciliation with its explanation, readiness, and skipped events with the remedy.
Every value is escaped; numbers come from :mod:`.display`."""

from __future__ import annotations

import re
from html import escape
from typing import Any

from .display import INSTALL_BASED, METRICS, REVENUE_BASED, amount, day, day_range, number
from .explain import reconciliation_explanation, remedy
from .queries import AdvertiserView, WindowView

FALLBACK_LEGEND = (
    '<p class="legend"><span class="fb-all">cell</span> all from TikTok\'s fallback (AppSprint attributed '
    'nothing there) &nbsp; <span class="fb-part">cell</span> partly from TikTok\'s fallback (some ad-days) '
    "&nbsp; Installs, CPI, IPM and CTI rest on installs; Revenue and ROAS on revenue. "
    '<span class="today-badge">today</span> the window includes today, a partial day.</p>'
)


def _prose(text: str) -> str:
    """Escaped text with `commands` as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text))


def _fallback_class(row: dict[str, Any], column: str) -> str:
    if column in INSTALL_BASED:
        source = row["installs_source"]
    elif column in REVENUE_BASED:
        source = row["revenue_source"]
    else:
        return ""
    return {"tiktok": "fb-all", "mixed": "fb-part"}.get(source, "")


def _fallback_title(row: dict[str, Any], column: str, currency: str) -> str:
    if column in INSTALL_BASED:
        return f"{number(row['installs_from_fallback'], 'count')} of {number(row['installs'], 'count')} installs from TikTok's fallback"
    return f"{amount(row['revenue_from_fallback'], currency)} of {amount(row['revenue'], currency)} revenue from TikTok's fallback"


def _name_cell(row: dict[str, Any]) -> str:
    grain = row["grain"]
    name = row[f"{grain}_name"] or row[f"{grain}_id"]
    label = {"campaign": "", "adgroup": "ad group ", "ad": "ad "}[grain]
    toggle = '<button class="toggle" aria-label="show or hide the rows below">▸</button>' if grain != "ad" else ""
    return (
        f'<th scope="row" class="name {grain}">{toggle}<span class="kind">{label}</span>{escape(str(name))}'
        f'<span class="id">{escape(str(row[f"{grain}_id"]))}</span></th>'
    )


def metrics_table(view: AdvertiserView, window: WindowView) -> str:
    head = "".join(
        f'<th scope="col" title="{kind}">{label}'
        + (f"<small>{view.currency}</small>" if kind == "money" else "")
        + "</th>"
        for _, label, kind in METRICS
    )
    body = []
    for row in window.table:
        grain = row["grain"]
        cells = []
        for column, _, kind in METRICS:
            css = _fallback_class(row, column)
            title = f' title="{escape(_fallback_title(row, column, view.currency))}"' if css else ""
            cells.append(f'<td class="{css}" data-col="{column}"{title}>{number(row[column], kind)}</td>')
        parent = row["campaign_id"] if grain == "adgroup" else (row["adgroup_id"] if grain == "ad" else "")
        body.append(
            f'<tr class="grain-{grain}{" collapsed" if grain == "ad" else ""}" data-grain="{grain}" '
            f'data-id="{escape(str(row[f"{grain}_id"]))}" data-parent="{escape(str(parent))}">'
            f"{_name_cell(row)}{''.join(cells)}</tr>"
        )
    if not body:
        return f'<p class="empty">No campaign has data from {day_range(window.start, window.end)}.</p>'
    caption = (
        f"Campaign → ad group → ad, {day_range(window.start, window.end)} "
        f'<span class="today-badge" title="data up to the time this page was written">today, '
        f"{day(window.end)}, is partial</span>"
    )
    return (
        f'<div class="table-wrap"><table class="metrics"><caption>{caption}</caption>'
        f'<thead><tr><th scope="col">Campaign / ad group / ad</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>{FALLBACK_LEGEND}"
    )


def reconciliation_table(view: AdvertiserView, window: WindowView) -> str:
    rows = [
        f'<tr data-campaign="{escape(str(r["campaign_id"]))}"><th scope="row">{escape(str(r["campaign_name"] or r["campaign_id"]))}</th>'
        f'<td data-col="installs_appsprint">{number(r["installs_appsprint"], "count")}</td>'
        f'<td data-col="installs_tiktok">{number(r["installs_tiktok"], "count")}</td>'
        f"<td>{amount(r['revenue_appsprint'], view.currency)}</td><td>{amount(r['revenue_tiktok'], view.currency)}</td>"
        f"<td>{number(r['diverging_days'], 'count')}</td><td class='why'>{_prose(reconciliation_explanation(r))}</td></tr>"
        for r in window.reconciliation
    ]
    return (
        '<table class="plain"><thead><tr><th scope="col">Campaign</th><th scope="col">Installs AppSprint</th>'
        '<th scope="col">Installs TikTok</th><th scope="col">Revenue AppSprint</th><th scope="col">Revenue TikTok</th>'
        '<th scope="col">Diverging days</th><th scope="col">Why</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def readiness_table(view: AdvertiserView) -> str:
    if not view.readiness:
        return '<p class="empty">No attributed Purchase yet for any pixel of this advertiser.</p>'
    rows = []
    for r in view.readiness:
        best = (
            day_range(r["best_window_start_date"], r["best_window_end_date"])
            if r["best_window_end_date"] is not None
            else "—"
        )
        ready = "ready" if r["reached_20"] else f"{int(r['threshold']) - int(r['max_purchases_in_7_days']):,} to go"
        rows.append(
            f"<tr><th scope='row'>{escape(str(r['pixel_name'] or ''))} <span class='id'>{escape(str(r['pixel_code']))}</span></th>"
            f"<td data-col='best'>{int(r['max_purchases_in_7_days']):,} of {int(r['threshold'])}</td><td>{best}</td>"
            f"<td data-col='current'>{int(r['current_7_day_purchases'] or 0):,} of {int(r['threshold'])}</td>"
            f"<td class='{'ok' if r['reached_20'] else 'warn'}'>{ready}</td></tr>"
        )
    return (
        '<table class="plain"><thead><tr><th scope="col">Pixel</th><th scope="col">Best 7 days</th>'
        '<th scope="col">Best window</th><th scope="col">Current 7 days</th><th scope="col">Value-based optimisation</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def skips_table(skips: list[dict[str, Any]], unattributed: list[dict[str, Any]]) -> str:
    if not skips and not unattributed:
        return '<p class="empty">No event was skipped.</p>'
    top = max(int(r["events"]) for r in skips + unattributed)
    rows = []
    for scope, group in (("this advertiser", skips), ("no TikTok advertiser (all advertisers)", unattributed)):
        for r in group:
            width = max(1, round(100 * int(r["events"]) / top))
            rows.append(
                f"<tr><th scope='row'><code>{escape(r['reason'])}</code><span class='id'>{scope}</span></th>"
                f"<td data-col='events'>{int(r['events']):,}</td>"
                f"<td class='bar-cell'><span class='bar' style='width:{width}%'></span></td>"
                f"<td class='why'>{_prose(remedy(r['reason']))}</td></tr>"
            )
    return (
        '<table class="plain skips"><thead><tr><th scope="col">Reason</th><th scope="col">Events</th><th></th>'
        f'<th scope="col">What to do</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )
