"""The page's style sheet and script (no external font, image or script: the file opens offline)."""

from __future__ import annotations

CSS = """
:root { --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb; --bg: #f8fafc; --accent: #2563eb; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: var(--ink);
       background: var(--bg); }
header { background: white; border-bottom: 1px solid var(--line); padding: 16px 24px; position: sticky; top: 0;
         z-index: 10; }
h1 { margin: 0 0 4px; font-size: 20px; }
h2 { font-size: 18px; margin: 8px 0 12px; }
h3 { font-size: 15px; margin: 0 0 10px; }
.meta { color: var(--muted); font-size: 12.5px; font-weight: normal; margin: 0; }
.controls { display: flex; gap: 24px; align-items: center; margin-top: 10px; flex-wrap: wrap; }
select, .windows button { font: inherit; padding: 5px 10px; border: 1px solid #cbd5e1; border-radius: 6px;
                          background: white; cursor: pointer; }
.windows { display: inline-flex; gap: 0; }
.windows button { border-radius: 0; margin-left: -1px; }
.windows button:first-child { border-radius: 6px 0 0 6px; }
.windows button:last-child { border-radius: 0 6px 6px 0; }
.windows button[aria-pressed="true"] { background: var(--accent); color: white; border-color: var(--accent); }
main { padding: 16px 24px 48px; max-width: 1500px; }
section { background: white; border: 1px solid var(--line); border-radius: 10px; padding: 16px; margin: 0 0 16px; }
.kpis { display: grid; grid-template-columns: repeat(5, minmax(0, 1fr)); gap: 12px; margin-bottom: 16px; }
.kpi { background: white; border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.kpi-label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.kpi-value { font-size: 20px; font-weight: 600; margin: 2px 0; font-variant-numeric: tabular-nums; }
.kpi-note { color: var(--muted); font-size: 12px; }
.grid { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 12px; }
.split { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1.6fr); gap: 16px; align-items: start; }
.chart { min-height: 120px; }
.chart-empty { display: flex; align-items: center; justify-content: center; min-height: 120px; color: var(--muted);
               border: 1px dashed var(--line); border-radius: 8px; }
.note, .legend { color: var(--muted); font-size: 12.5px; margin: 0 0 10px; }
.legend { margin-top: 8px; }
.empty { color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: 0 0 8px; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
thead th { position: sticky; top: 0; background: #f1f5f9; font-size: 12px; color: #374151; }
thead th small { display: block; font-weight: normal; color: var(--muted); }
th[scope=row], thead th:first-child { text-align: left; }
.table-wrap { overflow-x: auto; }
table.metrics th.name { font-weight: normal; }
tr.grain-campaign th.name { font-weight: 600; }
tr.grain-campaign { background: #f8fafc; }
tr.grain-adgroup th.name { padding-left: 26px; }
tr.grain-ad th.name { padding-left: 52px; color: #374151; }
tr.collapsed { display: none; }
.kind { color: var(--muted); font-size: 11px; margin-right: 4px; }
.id { display: block; color: #9ca3af; font-size: 10.5px; font-family: ui-monospace, monospace; }
button.toggle { border: 0; background: none; cursor: pointer; width: 18px; padding: 0; color: var(--muted); }
button.toggle.open { transform: rotate(90deg); }
td.fb-all { background: #fed7aa; }
td.fb-part { background: #ffedd5; box-shadow: inset 3px 0 0 #fb923c; }
span.fb-all, span.fb-part { padding: 1px 6px; border-radius: 3px; }
span.fb-all { background: #fed7aa; }
span.fb-part { background: #ffedd5; box-shadow: inset 3px 0 0 #fb923c; }
.today-badge { display: inline-block; background: #fef3c7; color: #92400e; border: 1px solid #fcd34d;
               border-radius: 10px; padding: 0 8px; font-size: 11.5px; font-weight: normal; }
table.plain thead th { white-space: normal; }
table.plain td.why { white-space: normal; text-align: left; color: #374151; min-width: 220px; font-size: 12.5px; }
.split > div { overflow-x: auto; }
td.ok { color: #047857; font-weight: 600; }
td.warn { color: #b45309; font-weight: 600; }
.bar-cell { width: 90px; }
.bar { display: block; height: 10px; background: #94a3b8; border-radius: 2px; }
@media (max-width: 1000px) { .grid, .split { grid-template-columns: 1fr; } .kpis { grid-template-columns: repeat(2, 1fr); } }
"""

SCRIPT = """
const select = document.getElementById('advertiser');
const buttons = Array.from(document.querySelectorAll('.windows button'));
let days = DEFAULT_DAYS;
function draw(root) {
  root.querySelectorAll('.chart[data-figure]').forEach((el) => {
    if (el.closest('[hidden]')) return;
    if (el.dataset.drawn) { Plotly.Plots.resize(el); return; }
    const fig = FIGURES[el.dataset.figure];
    Plotly.newPlot(el, fig.data, fig.layout, CONFIG);
    el.dataset.drawn = '1';
  });
}
function show() {
  document.querySelectorAll('article.advertiser').forEach((art) => {
    const on = art.dataset.advertiser === select.value;
    art.hidden = !on;
    art.querySelectorAll('.window').forEach((w) => { w.hidden = !(on && Number(w.dataset.window) === days); });
  });
  buttons.forEach((b) => b.setAttribute('aria-pressed', String(Number(b.dataset.days) === days)));
  const art = document.querySelector(`article.advertiser[data-advertiser="${select.value}"]`);
  if (art) draw(art);
}
function toggleRows(button) {
  const row = button.closest('tr');
  const open = !button.classList.contains('open');
  button.classList.toggle('open', open);
  const table = row.closest('tbody');
  const hide = (parentId) => table.querySelectorAll(`tr[data-parent="${parentId}"]`).forEach((child) => {
    child.classList.toggle('collapsed', !open);
    if (!open) { const b = child.querySelector('button.toggle'); if (b) b.classList.remove('open'); hide(child.dataset.id); }
  });
  if (open) {
    table.querySelectorAll(`tr[data-parent="${row.dataset.id}"]`).forEach((child) => child.classList.remove('collapsed'));
  } else { hide(row.dataset.id); }
}
document.addEventListener('click', (e) => {
  const t = e.target.closest('button.toggle');
  if (t) toggleRows(t);
});
document.querySelectorAll('tr.grain-campaign button.toggle').forEach((b) => b.classList.add('open'));
select.addEventListener('change', show);
buttons.forEach((b) => b.addEventListener('click', () => { days = Number(b.dataset.days); show(); }));
show();
"""
