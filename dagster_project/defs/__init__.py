"""One folder per integration, each with its assets (and resources, sensors) beside it:
``tiktok_ads`` and ``appsprint`` (dlt), ``dbt`` (the dbt project), ``forwarding`` (the Events API
forwarder's delivery ledger and the sensor that triggers it) and ``bi_copy`` (the read-only copy
published at the end of every writing run). ``dagster_project.definitions`` wires them."""
