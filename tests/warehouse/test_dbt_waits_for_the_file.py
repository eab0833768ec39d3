"""dbt waits for a warehouse another process holds, and keeps it once it has it: dbt run as the
Dagster dbt step runs it (the dbt executable, in its own process) queues behind a second writer
instead of failing at once (docs/decisions/0008-one-writer-and-bi-copy.md)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from signal_campaigns.warehouse import BI_COPY_VAR, DBT_PROJECT_DIR, WAREHOUSE_VAR, create_warehouse_file

from .processes import REPO, LockHolder, child_env

DBT = Path(sys.executable).parent / "dbt"
SEED = "fx_rates"


def dbt_seed(warehouse: Path) -> subprocess.Popen[str]:
    """``dbt seed`` of one seed into ``warehouse``, as the Dagster dbt step runs dbt (its artifacts
    and log beside the warehouse)."""
    dbt_vars = {WAREHOUSE_VAR: str(warehouse), BI_COPY_VAR: "false"}
    work = warehouse.parent
    project = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    output = ["--target-path", str(work / "target"), "--log-path", str(work / "logs"), "--no-use-colors"]
    return subprocess.Popen(
        [str(DBT), "seed", "--select", SEED, "--no-write-json", "--vars", json.dumps(dbt_vars), *project, *output],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=child_env(),
        cwd=REPO,
    )


def test_dbt_waits_for_another_writer_and_then_builds(tmp_path):
    warehouse = create_warehouse_file(tmp_path / "warehouse.duckdb")
    lines: list[str] = []
    with LockHolder(warehouse) as holder:
        dbt = dbt_seed(warehouse)
        assert dbt.stdout is not None
        for line in dbt.stdout:  # until dbt says it waits for the holder (or ends without waiting)
            lines.append(line)
            if "waiting up to" in line:
                break
        time.sleep(2)  # dbt keeps waiting
        assert dbt.poll() is None, "".join(lines)
    # the holder let go: dbt goes on
    lines += dbt.stdout.readlines()
    output = "".join(lines)
    assert dbt.wait(600) == 0, output
    assert f"{warehouse} is locked by python" in output and f"(PID {holder.pid})" in output, output
    assert "free again" in output and "Completed successfully" in output
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(f"select count(*) from reference.{SEED}").fetchall()[0][0] > 0
