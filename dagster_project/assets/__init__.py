"""Asset definitions, one module per integration: ``tiktok_ads`` and ``appsprint`` (dlt),
``dbt`` (the dbt project), ``forwarding`` (the Events API forwarder's delivery ledger)."""
