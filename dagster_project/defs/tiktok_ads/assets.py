"""TikTok Ads reporting (advertisers, campaigns, ad groups, ads, pixels, the daily ad report) with
dlt into the ``tiktok_ads`` raw dataset. Connection and token: dlt config ``sources.tiktok_ads.*``."""

from dagster import AssetExecutionContext, Config
from dagster_dlt import DagsterDltResource, dlt_assets

from dagster_project.defs.raw_tables import RawTableTranslator
from dagster_project.warehouse import WAREHOUSE_POOL, WarehouseResource
from dlt_sources.tiktok_ads import tiktok_ads


class TikTokSyncConfig(Config):
    """Run config of a TikTok sync (all optional; dlt config otherwise)."""

    lookback_days: int | None = (
        None  # days re-pulled for restated conversions (1..28; docs/decisions/0005-restatement-and-lookback.md)
    )
    now: str | None = None  # "today" of the report window, ISO-8601 (a sandbox clock); default: now
    start_date: str | None = None  # first report day of a backfill, YYYY-MM-DD


# The source is built here only to enumerate its resources; runs build it again from dlt
# config/secrets (the placeholders never reach an API).
@dlt_assets(
    dlt_source=tiktok_ads(advertiser_ids=["set-at-run-time"], access_token="set-at-run-time", base_url="http://unset"),
    dlt_pipeline=WarehouseResource().dlt_pipeline("tiktok_ads"),
    name="tiktok_ads",
    dagster_dlt_translator=RawTableTranslator(),
    pool=WAREHOUSE_POOL,
)
def tiktok_ads_assets(
    context: AssetExecutionContext, dlt: DagsterDltResource, warehouse: WarehouseResource, config: TikTokSyncConfig
):
    warehouse.claim(context.log)
    args = {k: v for k, v in config.model_dump().items() if v is not None}
    yield from dlt.run(
        context=context,
        dlt_source=tiktok_ads(**args),
        dlt_pipeline=warehouse.dlt_pipeline("tiktok_ads"),
        loader_file_format="parquet",
    )
