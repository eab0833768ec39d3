"""The doctor's run: every check in order, each one's failure caught so the others still run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from signal_campaigns.cli.settings_store import SettingsStore
from signal_campaigns.errors import ActionableError

from .api_checks import ApiChecks
from .check import Check
from .warehouse_checks import WarehouseChecks


class Doctor:
    def __init__(
        self,
        store: SettingsStore,
        warehouse: str | None = None,
        test_event_code: str | None = None,
        advertisers: list[str] | None = None,
    ) -> None:
        """``advertisers``: the warehouse checks' scope (the selected ones; ``[]`` = all)."""
        self.api = ApiChecks(store, test_event_code)
        self.data = WarehouseChecks(warehouse, advertisers)

    def checks(self) -> list[tuple[str, str, Callable[[Check], Any]]]:
        return [
            ("oauth", "OAuth token valid and advertiser reachable", self.api.check_oauth),
            ("campaigns", "Campaigns load", self.api.check_campaigns),
            ("events_api", "Events API token accepted and Pixel ID matches it", self.api.check_events_api),
            ("skipped_events", "Events skipped for a missing or private IP or user agent", self.data.check_skipped),
            ("delivery", "Recent events reaching TikTok (delivery ledger)", self.data.check_delivery),
            ("objective_fit", "Optimisation events fit the campaign objectives", self.data.check_objectives),
            ("reporting_differences", "Reporting differences vs TikTok Ads Manager", self.data.check_reconciliation),
        ]

    def run(self, on_step: Callable[[str], None] | None = None) -> list[Check]:
        results = []
        try:
            for check_id, title, fn in self.checks():
                if on_step:
                    on_step(title)
                check = Check(check_id, title)
                try:
                    fn(check)
                except ActionableError as exc:
                    check.set("fail", exc.message, exc.fix, tiktok_code=exc.code)
                results.append(check)
        finally:
            self.data.close()
        return results
