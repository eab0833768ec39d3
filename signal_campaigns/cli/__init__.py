"""The setup and operations CLI (``signal-campaigns``): connect, accounts, pixel, test-event,
mapping, link, doctor, report, status. See docs/cli.md.

Modules: :mod:`.app` (the typer commands), :mod:`.settings_store` (``.dlt/config.toml`` and the
0600 ``.dlt/secrets.toml``), :mod:`.tiktok` (the TikTok calls the CLI makes), :mod:`.oauth`
(authorization URL, localhost callback), :mod:`.mapping` (the event-mapping seed), :mod:`.link`,
:mod:`.warehouse_reads` (read-only queries of the marts), :mod:`.doctor`, :mod:`.report`,
:mod:`.status`, :mod:`.render` (tables, JSON, masking).
"""

from __future__ import annotations


def main() -> None:
    from .app import main as run

    run()


__all__ = ["main"]
