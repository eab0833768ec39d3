"""dlt sources of the warehouse's raw layer (docs/raw_layer.md): ``tiktok_ads`` and ``appsprint``."""
