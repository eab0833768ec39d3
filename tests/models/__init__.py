"""dbt model tests: the real pipelines on the sandbox, then dbt build on DuckDB and PostgreSQL."""
