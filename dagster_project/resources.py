"""Resources of the code location: the warehouse, dlt, dbt, the Events API and the AppSprint probe.

Connection details and secrets are resolved when a run (or a sensor tick) uses them, from the
environment or dlt's config providers (env vars / ``.dlt/config.toml`` / ``.dlt/secrets.toml``),
never stored in a definition and never logged (DESIGN.md D7).
"""

from __future__ import annotations

import importlib.metadata
import sys
from functools import cached_property
from pathlib import Path

import dlt
from dagster import ConfigurableResource
from dagster_dbt import DbtCliResource, DbtProject
from dagster_dlt import DagsterDltResource
from packaging import version

from signal_campaigns.forwarding import ForwarderConfig, RetryPolicy
from signal_campaigns.forwarding.forwarder import events_api_token
from signal_campaigns.pipeline import warehouse_pipeline
from signal_campaigns.warehouse import (
    DBT_PROJECT_DIR,
    LOCK_WAIT_SECONDS,
    WAREHOUSE_ENV,
    duckdb_destination,
    publish_read_only_copy,
    run_dbt,
    wait_for_write_access,
    warehouse_path,
)

WAREHOUSE_POOL = "warehouse"  # every asset that writes the warehouse (D8: DuckDB has one writer)

DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
if not DBT_PROJECT.manifest_path.exists():  # a fresh checkout: parse once to get the manifest
    run_dbt(["parse", "--target-path", str(DBT_PROJECT.manifest_path.parent)])


class ProjectDbtCliResource(DbtCliResource):
    """dagster-dbt's ``DbtCliResource`` for this project's own dbt (the ``dbt`` beside this Python).

    Two start-up costs of every dbt step are skipped, because the forwarding loop's latency is
    mostly fixed costs (docs/orchestration.md): asking the executable for its version (a whole
    ``dbt --version`` process: the installed dbt-core's version is the answer), and building a
    dbt adapter inside Dagster's process (a macro parse of several seconds) that dagster-dbt only
    uses to fetch row counts or column metadata, which these assets do not ask for. Both are
    private hooks of dagster-dbt 0.29 (pinned in requirements/requirements.lock); should they
    change, the stock behaviour comes back, only slower.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None


class WarehouseResource(ConfigurableResource):
    """The DuckDB warehouse: the file (default env ``SIGNAL_WAREHOUSE_PATH``, else
    ``data/warehouse.duckdb``), the dlt pipelines' working directory (default ``pipelines/``
    beside the file), how long a writer waits for a foreign lock, and the read-only copy
    published for BI tools at the end of every writing run (``<stem>_bi.duckdb``, asset
    ``warehouse_bi_copy``)."""

    path: str | None = None
    pipelines_dir: str | None = None
    lock_wait_seconds: float = LOCK_WAIT_SECONDS
    publish_bi_copy: bool = True

    def file(self) -> Path:
        return warehouse_path(self.path)

    def dlt_pipeline(self, dataset: str) -> dlt.Pipeline:
        """The dlt pipeline (``tiktok_ads`` or ``appsprint``) into this warehouse."""
        pipelines_dir = Path(self.pipelines_dir) if self.pipelines_dir else self.file().parent / "pipelines"
        return warehouse_pipeline(dataset, duckdb_destination(self.file()), pipelines_dir)

    def dbt_env(self) -> dict[str, str]:
        """Environment for a dbt invocation on this warehouse (dbt/profiles.yml reads it)."""
        return {WAREHOUSE_ENV: str(self.file())}

    def claim(self, log) -> Path:
        """Wait (bounded) until no other process holds the file, then return it."""
        return wait_for_write_access(self.file(), timeout=self.lock_wait_seconds, log=log)

    def publish(self, log) -> Path | None:
        """Publish the read-only BI copy (call after the writes, inside the pool)."""
        if not self.publish_bi_copy or not self.file().exists():
            return None
        target = publish_read_only_copy(self.file())
        log.info(f"published the read-only copy for BI tools: {target}")
        return target


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
        from dlt_sources.tiktok_ads.settings import DEFAULT_BASE_URL

        return self.base_url or dlt.config.get("sources.tiktok_ads.base_url", str) or DEFAULT_BASE_URL

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

    def client(self):
        from dlt_sources.appsprint.helpers import AppSprintClient

        token = dlt.secrets.get("sources.appsprint.export_token", str) or ""
        return AppSprintClient(
            self.base_url or dlt.config.get("sources.appsprint.base_url", str) or "",
            self.app_id or dlt.config.get("sources.appsprint.app_id", str) or "",
            token,
            timeout=self.timeout_seconds,
            max_retries=0,  # the next tick is the retry
        )


def default_resources() -> dict[str, object]:
    return {
        "warehouse": WarehouseResource(),
        "dlt": DagsterDltResource(),
        "dbt": ProjectDbtCliResource(project_dir=DBT_PROJECT, dbt_executable=str(Path(sys.executable).parent / "dbt")),
        "events_api": EventsApiResource(),
        "appsprint_api": AppSprintApiResource(),
    }
