"""Output: rich tables and messages for people, JSON for scripts (``--json``), masked secrets.

Every command builds plain data (dicts/lists) first; :class:`Output` shows it as a table (numbers
by the product's one display rule, :mod:`signal_campaigns.formatting`) or prints it as one JSON
document on stdout (exact values). In ``--json`` mode nothing for people is printed at all:
stdout holds the one JSON document (an error too, as ``{"ok": false, ...}``), stderr stays empty,
spinners are off.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import json
import sys
import zoneinfo
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table

from signal_campaigns.formatting import cell, utc_offset

WIDE = 200
STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red", "skip": "dim", "info": "cyan"}


def mask(secret: str | None) -> str:
    """``abcd...wxyz`` -> ``****wxyz`` (last 4 characters of long values, nothing of short ones)."""
    if not secret:
        return "(not set)"
    return "****" + secret[-4:] if len(secret) >= 16 else "****"


def timezone_label(name: str | None, at: dt.datetime | None = None) -> str | None:
    """An IANA timezone for people, its UTC offset first: ``Etc/GMT+8`` -> ``UTC−08:00 (Etc/GMT+8)``
    (POSIX-style ``Etc/GMT`` names carry the opposite sign of the offset), ``Europe/Berlin`` ->
    ``UTC+02:00 (Europe/Berlin)`` in summer. The offset is the one at ``at`` (default: now)."""
    if not name:
        return name
    try:
        local = (at or dt.datetime.now(dt.UTC)).astimezone(zoneinfo.ZoneInfo(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return name
    return f"{utc_offset(local)} ({name})"


def json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)  # exact: money is decimal, never float
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(data: Any) -> str:
    return json.dumps(data, default=json_default, indent=2, sort_keys=False)


class Output:
    """Where a command writes. ``json_mode``: one JSON document on stdout, messages on stderr."""

    def __init__(self, json_mode: bool = False) -> None:
        self.json_mode = json_mode
        self.out = Console(soft_wrap=True, highlight=False)
        self.err = Console(stderr=True, soft_wrap=True, highlight=False)
        for console in (self.out, self.err):
            if not console.is_terminal:  # piped or captured: do not fold ids and URLs at 80 columns
                console.width = max(console.width, WIDE)

    def say(self, message: str = "", style: str | None = None) -> None:
        """A message for people (stdout); nothing in ``--json`` mode."""
        if not self.json_mode:
            self.out.print(message, style=style)

    def note(self, message: str | None) -> None:
        """A side note on where the data comes from (stderr, so tables and CSV stay clean); in
        ``--json`` mode the command puts it in its document instead."""
        if message and not self.json_mode:
            self.err.print(f"[yellow]Note:[/] {message}", highlight=False)

    def url(self, label: str, url: str) -> None:
        """A URL on its own line, never wrapped (people copy it)."""
        if not self.json_mode:
            self.out.print(label)
            self.out.print(url, soft_wrap=True, markup=False, highlight=False)

    @contextlib.contextmanager
    def progress(self, description: str, total: int | None = None) -> Iterator[Callable[[str], None]]:
        """A transient spinner on stderr (none in ``--json`` mode); yields ``step(description)``."""
        if self.json_mode:
            yield lambda _description: None
            return
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=self.err, transient=True) as bar:
            task = bar.add_task(description, total=total)
            yield lambda text: bar.update(task, description=text, advance=1)

    def table(
        self,
        title: str | None,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        styles: dict[int, str] | None = None,
        fractions: Collection[str] = (),
    ) -> None:
        """A table for people; cells by :func:`signal_campaigns.formatting.cell` (money half-up to
        2 decimals), the columns named in ``fractions`` (CTR, CTI) with 4 decimals."""
        if self.json_mode:
            return
        table = Table(title=title, title_justify="left", header_style="bold cyan")
        for i, name in enumerate(columns):
            table.add_column(
                name, justify="right" if name.isupper() or name.startswith("#") else "left", style=(styles or {}).get(i)
            )
        for row in rows:
            table.add_row(*[cell(v, is_fraction=name in fractions) for name, v in zip(columns, row)])
        self.out.print(table)

    def emit_json(self, data: Any) -> None:
        if self.json_mode:
            sys.stdout.write(dumps(data) + "\n")
            sys.stdout.flush()

    def status(self, status: str) -> str:
        return f"[{STATUS_STYLE.get(status, '')}]{status.upper()}[/]"
