"""dbt run by hand the two usual ways, from the repository root (`--project-dir dbt --profiles-dir
dbt`) and from `dbt/` (`--profiles-dir .`), with no setting in the environment: both write the
repository's data/warehouse.duckdb, one after the other with dbt's partial parsing on."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT = str(Path(sys.executable).parent / "dbt")


def _dbt(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIGNAL_", "DBT_"))}
    return subprocess.run([DBT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_dbt_from_the_repository_root_and_from_dbt_uses_data_warehouse(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(REPO_ROOT / "dbt", repo / "dbt", symlinks=True, ignore=shutil.ignore_patterns("target", "logs"))
    (repo / "data").mkdir()
    warehouse = repo / "data" / "warehouse.duckdb"

    for args, cwd in (
        (["seed", "--project-dir", "dbt", "--profiles-dir", "dbt"], repo),
        (["seed", "--profiles-dir", "."], repo / "dbt"),
        (["seed", "--project-dir", "dbt", "--profiles-dir", "dbt"], repo),
    ):
        warehouse.unlink(missing_ok=True)
        run = _dbt(args, cwd)
        assert run.returncode == 0, f"dbt {' '.join(args)} in {cwd}:\n{run.stdout[-3000:]}"
        with duckdb.connect(str(warehouse), read_only=True) as con:
            assert con.execute("select count(*) from reference.event_mapping").fetchone() != (0,)
    # one warehouse (and the BI copy dbt's run publishes beside it), wherever dbt was started
    assert sorted(p.name for p in repo.rglob("*.duckdb")) == ["warehouse.duckdb", "warehouse_bi.duckdb"]
