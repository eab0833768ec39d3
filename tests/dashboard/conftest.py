"""Fixtures of the dashboard tests: a tiny sandbox world anchored at the current hour, built as
`make demo` builds it (tests/analysts/conftest.py: the real dlt sources, `dbt build`, the forwarder),
the dashboard written from it, and Chromium from Debian packages (scripts/chromium.sh) driven by
playwright. When Chromium cannot be installed the browser tests FAIL, they never skip."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from signal_campaigns.warehouse import REPO_ROOT
from tests.analysts.conftest import build_demo_warehouse

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = REPO_ROOT / "data" / "artifacts"


@pytest.fixture(scope="session")
def dashboard_warehouse(tmp_path_factory) -> dict[str, Path]:
    """The tiny world as the demo builds it: the warehouse (with a delivery ledger) and its BI copy."""
    return build_demo_warehouse(tmp_path_factory.mktemp("dashboard"), scale="tiny")


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium, installed by the repository's script when missing."""
    script = REPO_ROOT / "scripts" / "chromium.sh"
    proc = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0:
        pytest.fail(f"Chromium could not be installed by scripts/chromium.sh:\n{proc.stderr[-3000:]}", pytrace=False)
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()
