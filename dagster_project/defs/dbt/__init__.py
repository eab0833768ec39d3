"""The dbt project: models as assets, tests as asset checks."""
