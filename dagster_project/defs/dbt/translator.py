"""How the dbt project becomes assets and checks: dagster-dbt's translator, with

- groups by layer: a model's group is its top folder under ``models/`` (``staging``,
  ``intermediate``, ``marts``), seeds are ``reference``; a ``meta.dagster.group`` or dbt group
  on a node still wins;
- every dbt test as an asset check: source tests too (on the dlt asset of the raw table), and a
  singular test that reads several models is attached to the model named by its
  ``config(meta={"dagster": {"ref": {"name": ...}}})`` (dagster-dbt's own convention).

Column types reach the asset metadata at run time (``columns.py``: each built model's columns
from the warehouse's catalog); the manifest holds only the columns' descriptions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

LAYERS = ("staging", "intermediate", "marts")
SEED_GROUP = "reference"


class LayeredDbtTranslator(DagsterDbtTranslator):
    """dagster-dbt's translator with groups by layer and source tests as checks."""

    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_source_tests_as_checks=True))

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        configured = super().get_group_name(dbt_resource_props)
        if configured:
            return configured
        resource_type = dbt_resource_props.get("resource_type")
        if resource_type == "seed":
            return SEED_GROUP
        fqn = dbt_resource_props.get("fqn", [])  # [project, folder, ..., name]
        if resource_type in ("model", "snapshot") and len(fqn) > 2 and fqn[1] in LAYERS:
            return fqn[1]
        return None
