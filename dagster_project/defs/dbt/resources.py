"""The dbt project (``dbt/``) and the dbt CLI resource that runs it."""

from __future__ import annotations

import importlib.metadata
from functools import cached_property

from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

from signal_campaigns.warehouse import DBT_PROJECT_DIR, run_dbt

DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
if not DBT_PROJECT.manifest_path.exists():  # a fresh checkout: parse once to get the manifest
    run_dbt(["parse", "--target-path", str(DBT_PROJECT.manifest_path.parent)])


class ProjectDbtCliResource(DbtCliResource):
    """dagster-dbt's ``DbtCliResource`` for this project's own dbt (the ``dbt`` beside this Python).

    Two start-up costs of every dbt step are skipped, because the forwarding loop's latency is
    mostly fixed costs (docs/orchestration.md): asking the executable for its version (a whole
    ``dbt --version`` process: the installed dbt-core's version is the answer), and building a
    dbt adapter inside Dagster's process (a macro parse of several seconds) that dagster-dbt only
    uses to fetch row counts or column metadata, which these assets do not ask for. Both are
    private hooks of dagster-dbt 0.29 (pinned in requirements/requirements.lock); should they
    change, the stock behaviour comes back, only slower.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None
