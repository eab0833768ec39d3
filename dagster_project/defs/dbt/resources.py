"""The dbt project (``dbt/``) and the dbt CLI resource that runs it.

The code location reads dbt's manifest (``dbt/target/manifest.json``); it never parses the project
when it loads, except under ``dagster dev``. The manifest is prepared:

- under ``dagster dev`` (``make dev``): by :meth:`DbtProject.prepare_if_dev` when the location
  loads, so model changes show on reload (it runs the ``dbt`` on the PATH: ``make dev`` puts the
  virtualenv's first);
- for a deployment: at build time, ``dagster-dbt project prepare-and-package --file
  dagster_project/defs/dbt/resources.py``;
- for the tests: once per session by ``tests/dagster/conftest.py`` (:func:`prepare_manifest`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from signal_campaigns.warehouse import DBT_PROJECT_DIR, WAREHOUSE_VAR, run_dbt, warehouse_path
from signal_campaigns.warehouse.spark import selected_target

# The dbt beside this Python (the project's virtualenv), whatever the PATH of the process.
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"

# The manifest is parsed with the var the dbt steps pass for the default warehouse: dbt keeps its
# partial-parse state only for the same vars, so the steps then reuse it instead of parsing the
# whole project again (about 4 s a step on the 2-core machine).
PARSE_VARS = {WAREHOUSE_VAR: str(warehouse_path())}

DBT_PROJECT = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    prepare_project_cli_args=["parse", "--quiet", "--vars", json.dumps(PARSE_VARS)],
)
DBT_PROJECT.prepare_if_dev()


def prepare_manifest() -> Path:
    """Parse the dbt project into the manifest the code location reads (as ``prepare_if_dev``
    does under ``dagster dev``, but with this Python's dbt, in process) and return its path."""
    run_dbt(["parse", "--target-path", str(DBT_PROJECT.manifest_path.parent)], vars=PARSE_VARS)
    return DBT_PROJECT.manifest_path


def dbt_resource() -> DbtCliResource:
    """dagster-dbt's CLI resource on this project, with this virtualenv's dbt, on the selected
    target (env ``SIGNAL_DBT_TARGET``: dbt/profiles.yml's output of that name). On ``spark`` each dbt
    step is a process of its own that opens Spark's metastore and releases it when it ends."""
    return DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=str(DBT_EXECUTABLE), target=selected_target())
