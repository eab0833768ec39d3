"""Dagster code location: thin wiring of the dlt sources and the dbt project (DESIGN.md §3)."""
