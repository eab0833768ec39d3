"""One module per command group of ``signal-campaigns``; :mod:`signal_campaigns.cli.app` adds them to
the app. Each module holds the typer commands (options, help, output); the logic they call lives in
the modules of :mod:`signal_campaigns.cli` (e.g. ``commands/mapping.py`` is the ``mapping`` command,
``cli/mapping.py`` the event-mapping seed it edits)."""
