"""Dagster code location: thin wiring of the dlt sources and the dbt project (docs/orchestration.md)."""
