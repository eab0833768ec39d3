"""Asset definitions, one module per integration: ``tiktok_ads`` and ``appsprint`` (dlt),
``dbt`` (the dbt project), ``forwarding`` (the Events API forwarder's delivery ledger), and
``bi_copy`` (the read-only copy published at the end of every writing run)."""

from .appsprint import appsprint_assets
from .bi_copy import warehouse_bi_copy
from .dbt import dbt_models
from .forwarding import event_delivery_ledger
from .tiktok_ads import tiktok_ads_assets

ALL_ASSETS = [tiktok_ads_assets, appsprint_assets, dbt_models, event_delivery_ledger, warehouse_bi_copy]
