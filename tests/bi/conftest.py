"""Fixtures of the BI copy tests: older DuckDB clients in throwaway virtual environments, and a
warehouse built from a tiny sandbox world anchored at the current hour (as the demo's data is, so
that queries with dates relative to today find rows), whose BI copy dbt published.

The clients are installed from PyPI with ``python -m venv`` + pip into ``data/bi_clients/`` (git
ignored) once and reused by later runs; when PyPI cannot be reached the tests that need a client
are skipped with that reason (any other install failure fails them)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from signal_campaigns.warehouse import REPO_ROOT, bi_copy_path, publish_read_only_copy, run_dbt

CLIENTS_DIR = REPO_ROOT / "data" / "bi_clients"
# The oldest client the README promises (DuckDB 0.10, the storage format of signal_campaigns.warehouse.STORAGE_VERSION) and
# the newest 1.x, the driver BI tools bundle
OLD_CLIENTS = ["0.10.3", "1.5.6"]

_UNREACHABLE = (
    "Could not fetch URL",
    "NewConnectionError",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "No matching distribution found",
    "ConnectTimeout",
    "ReadTimeoutError",
)


def duckdb_client(version: str) -> Path:
    """The Python of a virtual environment with ``duckdb==<version>`` (created on first use; with
    pytz, which the Python client needs to return TIMESTAMP WITH TIME ZONE values)."""
    venv = CLIENTS_DIR / f"duckdb-{version}"
    python = venv / "bin" / "python"
    if python.exists():
        return python
    CLIENTS_DIR.mkdir(parents=True, exist_ok=True)
    building = CLIENTS_DIR / f".duckdb-{version}.{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(building)], check=True, capture_output=True, timeout=300)
        pip = subprocess.run(
            [
                str(building / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                f"duckdb=={version}",
                "pytz",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if pip.returncode != 0:
            output = pip.stdout + pip.stderr
            if any(sign in output for sign in _UNREACHABLE):
                pytest.skip(f"PyPI is unreachable: cannot install duckdb=={version} ({output.strip()[-300:]})")
            pytest.fail(f"pip could not install duckdb=={version}:\n{output[-3000:]}", pytrace=False)
        with contextlib.suppress(OSError):  # another run may have finished first: keep that one
            building.rename(venv)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return python


def run_client(python: Path, script: str, *args: str, timeout: float = 300) -> str:
    """Run ``script`` with an old client's Python; its stdout (fails the test with its stderr)."""
    proc = subprocess.run(
        [str(python), "-c", script, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        pytest.fail(f"the DuckDB client {python.parent.parent.name} failed:\n{proc.stderr[-4000:]}", pytrace=False)
    return proc.stdout


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory) -> dict[str, Path]:
    """A tiny world ending now, extracted by the real pipelines, built by ``dbt build`` (whose
    on-run-end hook publishes the BI copy beside the warehouse) and forwarded, then published."""

    from sandbox.connection import extract_sandbox_world
    from sandbox.generate import generate_world
    from sandbox.runner import default_anchor, sandbox_in_threads
    from signal_campaigns.forwarding import forward_events

    anchor = default_anchor()
    world = generate_world(seed=7, scale="tiny", anchor=anchor)
    root = tmp_path_factory.mktemp("bi")
    db = root / "warehouse.duckdb"
    with sandbox_in_threads(world, marketing_qps=None) as endpoints:
        extract_sandbox_world(endpoints, db, anchor)
        run_dbt(
            ["build", "--target-path", str(root / "dbt_target")],
            warehouse=db,
            vars={"forwarding_now": anchor.isoformat()},
            publish_bi_copy=True,
        )
        # the forwarder's run writes the delivery ledger (a public relation) and republishes, as a
        # Dagster run does
        forward_events(db, base_url=endpoints.tiktok_url, token=endpoints.credentials.events_api_token)
    publish_read_only_copy(db)
    return {"db": db, "bi": bi_copy_path(db), "target_path": root / "dbt_target"}
