"""TikTok Ads reporting (advertisers, campaigns, ad groups, ads, pixels, the daily ad report) with
dlt into the ``tiktok_ads`` raw dataset, and ``quarantine``, the rows it could not type (an asset of
the same load: :func:`tiktok_ads_load`). Connection and token: dlt config ``sources.tiktok_ads.*``."""

from typing import Any

from dagster import AssetExecutionContext, Config
from dagster_dlt import DagsterDltResource, dlt_assets
from dlt.extract import DltSource

from dagster_project.defs.raw_tables import RawTableTranslator, with_quarantine_table
from dagster_project.warehouse import WAREHOUSE_POOL, WarehouseResource
from dlt_sources.tiktok_ads import tiktok_ads
from dlt_sources.tiktok_ads.quarantine import QUARANTINE_COLUMNS


class TikTokSyncConfig(Config):
    """Run config of a TikTok sync (all optional; dlt config otherwise)."""

    lookback_days: int | None = (
        None  # days re-pulled for restated conversions (1..28; docs/decisions/0005-restatement-and-lookback.md)
    )
    now: str | None = None  # "today" of the report window, ISO-8601 (a sandbox clock); default: now
    start_date: str | None = None  # first report day of a backfill, YYYY-MM-DD


def tiktok_ads_load(**source_args: Any) -> DltSource:
    """The TikTok Ads source with its quarantine table in the resource list (``source_args``:
    :func:`dlt_sources.tiktok_ads.tiktok_ads`'s; dlt config otherwise)."""
    return with_quarantine_table(tiktok_ads(**source_args), QUARANTINE_COLUMNS)


# The source is built here only to enumerate its resources; runs build it again from dlt
# config/secrets (the placeholders never reach an API).
@dlt_assets(
    dlt_source=tiktok_ads_load(
        advertiser_ids=["set-at-run-time"], access_token="set-at-run-time", base_url="http://unset"
    ),
    dlt_pipeline=WarehouseResource().dlt_pipeline("tiktok_ads"),
    name="tiktok_ads",
    dagster_dlt_translator=RawTableTranslator(),
    pool=WAREHOUSE_POOL,
)
def tiktok_ads_assets(
    context: AssetExecutionContext, dlt: DagsterDltResource, warehouse: WarehouseResource, config: TikTokSyncConfig
):
    args = {k: v for k, v in config.model_dump().items() if v is not None}
    with warehouse.landing(context.log):  # DuckDB: dlt's own open shares this process's hold on the file
        yield from dlt.run(
            context=context,
            dlt_source=tiktok_ads_load(**args),
            dlt_pipeline=warehouse.dlt_pipeline("tiktok_ads"),
            loader_file_format="parquet",
        )
