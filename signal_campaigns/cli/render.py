"""Output: rich tables and messages for people, JSON for scripts (``--json``), masked secrets.

Every command builds plain data (dicts/lists) first; :class:`Output` shows it as a table (numbers
by the product's one display rule, :mod:`signal_campaigns.formatting`) or prints it as one JSON
document on stdout (exact values). Messages for people go to stderr in ``--json`` mode so
stdout stays parseable.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import sys
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from signal_campaigns.formatting import cell

WIDE = 200
STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red", "skip": "dim", "info": "cyan"}


def mask(secret: str | None) -> str:
    """``abcd...wxyz`` -> ``****wxyz`` (last 4 characters of long values, nothing of short ones)."""
    if not secret:
        return "(not set)"
    return "****" + secret[-4:] if len(secret) >= 16 else "****"


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

    @property
    def say_console(self) -> Console:
        return self.err if self.json_mode else self.out

    def say(self, message: str = "", style: str | None = None) -> None:
        self.say_console.print(message, style=style)

    def url(self, label: str, url: str) -> None:
        """A URL on its own line, never wrapped (people copy it)."""
        self.say_console.print(label)
        self.say_console.print(url, soft_wrap=True, markup=False, highlight=False)

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
