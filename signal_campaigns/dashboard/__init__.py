"""The marketer's dashboard: one self-contained HTML file from the public marts (docs/dashboard.md).

:func:`write_dashboard` reads the warehouse read-only (:mod:`.queries`), draws the charts
(:mod:`.figures`) and tables (:mod:`.tables`) and writes the page (:mod:`.page`). It is written by
the Dagster asset ``dashboard`` after every writing run, by ``make demo`` and by
``signal-campaigns dashboard``."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from signal_campaigns.cli.warehouse_reads import Warehouse
from signal_campaigns.errors import ActionableError
from signal_campaigns.warehouse import warehouse_path

from .page import render_page
from .queries import read_dashboard, skips

WINDOWS = (7, 14, 28)
DASHBOARD_FILE = "dashboard.html"
MAX_DAYS = 90


def dashboard_path(warehouse: str | os.PathLike[str] | None = None) -> Path:
    """Where the dashboard of a warehouse is written: ``dashboard.html`` beside it (``data/``)."""
    return warehouse_path(warehouse).parent / DASHBOARD_FILE


def windows_for(days: int) -> list[int]:
    """The windows of the switch: 7, 14 and 28 days, plus ``days`` when it is another."""
    if not 1 <= days <= MAX_DAYS:
        raise ActionableError(f"--days {days} is out of range", fix=f"choose a window of 1 to {MAX_DAYS} days")
    return sorted({*WINDOWS, days})


def write_dashboard(
    warehouse: str | Path | None = None,
    out: str | os.PathLike[str] | None = None,
    *,
    days: int = 7,
    advertiser_id: str | None = None,
    now: dt.datetime | None = None,
) -> Path:
    """Read ``warehouse`` (read-only) and write the dashboard to ``out`` (default: beside the
    warehouse) atomically; ``days`` is the window shown first, ``advertiser_id`` limits the page to
    one advertiser. Returns the file written."""
    windows = windows_for(days)
    generated_at = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    with Warehouse(warehouse) as wh:
        views = read_dashboard(wh, windows, advertiser_id, generated_at)
        if advertiser_id is not None and not views:
            raise ActionableError(
                f"advertiser {advertiser_id} has no data in {wh.path}",
                fix="pass an advertiser id from `signal-campaigns report`, or leave --advertiser out",
            )
        unattributed = skips(wh, None)
        source = str(wh.path)
    html = render_page(views, unattributed, source=source, generated_at=generated_at, default_days=days)
    target = Path(out) if out is not None else dashboard_path(warehouse)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=target.parent, suffix=".tmp", delete=False) as tmp:
        tmp.write(html)
    os.chmod(tmp.name, 0o644)  # a page to open and share, not a secret (the temp file starts at 0600)
    Path(tmp.name).replace(target)
    return target.resolve()


__all__ = ["DASHBOARD_FILE", "WINDOWS", "dashboard_path", "windows_for", "write_dashboard"]
