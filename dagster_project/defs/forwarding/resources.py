"""Resources of the forwarding: TikTok's Events API for the forwarder, and the AppSprint export
API for the forwarding sensor's probe.

Connection details and secrets are resolved when a run (or a sensor tick) uses them, from the
environment or dlt's config providers (env vars / ``.dlt/config.toml`` / ``.dlt/secrets.toml``),
never stored in a definition and never logged (docs/decisions/0007-secrets.md).
"""

from __future__ import annotations

import dlt
from dagster import ConfigurableResource

from dlt_sources.appsprint import AppSprintClient
from dlt_sources.tiktok_ads.settings import DEFAULT_BASE_URL
from signal_campaigns.forwarding import ForwarderConfig, RetryPolicy
from signal_campaigns.forwarding.forwarder import events_api_token
from signal_campaigns.setting_checks import check_url, dlt_setting


class EventsApiResource(ConfigurableResource):
    """TikTok's Events API for the forwarder.

    - ``base_url``: default dlt config ``sources.tiktok_ads.base_url`` (the same Business API as
      the reporting sync; env ``SOURCES__TIKTOK_ADS__BASE_URL``), else TikTok's production URL.
    - the token (secret): env ``TIKTOK_EVENTS_API_TOKEN``, else dlt secret
      ``tiktok_events_api_token`` in ``.dlt/secrets.toml`` (where ``signal-campaigns pixel`` saves it). The pixel of each event comes from the warehouse
      (``events_to_forward.pixel_code``, the advertiser's pixel loaded from TikTok).
    """

    base_url: str | None = None
    batch_size: int = 1000
    timeout_seconds: float = 30.0
    max_attempts: int = 8
    dry_run: bool = False

    def resolved_base_url(self) -> str:
        """The Events API base, checked: a value that is not a URL stops the run naming the setting."""
        if self.base_url:
            return check_url(self.base_url, "resource events_api: base_url", DEFAULT_BASE_URL)
        configured = dlt.config.get("sources.tiktok_ads.base_url", str)
        if configured:
            return check_url(configured, dlt_setting("tiktok_ads", "base_url"), DEFAULT_BASE_URL)
        return DEFAULT_BASE_URL

    def token(self) -> str:
        return events_api_token()

    def forwarder_config(self) -> ForwarderConfig:
        return ForwarderConfig(batch_size=self.batch_size, dry_run=self.dry_run)

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_attempts=self.max_attempts)


class AppSprintApiResource(ConfigurableResource):
    """The AppSprint export API as the forwarding sensor sees it (a cheap read, no warehouse).

    Defaults come from the same dlt config as the extraction: ``sources.appsprint.base_url``,
    ``sources.appsprint.app_id`` and the secret ``sources.appsprint.export_token``."""

    base_url: str | None = None
    app_id: str | None = None
    timeout_seconds: float = 10.0
    probe_page_limit: int = 1000
    probe_max_pages: int = 200

    def client(self) -> AppSprintClient:
        token = dlt.secrets.get("sources.appsprint.export_token", str) or ""
        return AppSprintClient(
            self.base_url or dlt.config.get("sources.appsprint.base_url", str) or "",
            self.app_id or dlt.config.get("sources.appsprint.app_id", str) or "",
            token,
            timeout=self.timeout_seconds,
            max_retries=0,  # the next tick is the retry
        )
