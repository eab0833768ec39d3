"""Project-wide fixtures: a deterministic sandbox world and both sandbox servers over real HTTP."""

from __future__ import annotations

import datetime as dt
import os

import pytest

# A developer's own event mapping (signal-campaigns mapping set: data/event_mapping.local.csv) must
# not change what the tests build; tests of the override point this at their own file.
os.environ["SIGNAL_EVENT_MAPPING_OVERRIDE"] = os.path.join(os.path.dirname(__file__), "no-local-mapping.csv")

# A fixed "now" for the sandbox, so every test sees the same world.
FIXED_ANCHOR = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def tiny_world():
    """The tiny sandbox world (2 advertisers, ~10 ads, a few thousand events). Read-only."""
    from sandbox.generate import generate_world

    return generate_world(seed=7, scale="tiny", anchor=FIXED_ANCHOR)


@pytest.fixture
def sandbox(tiny_world):
    """Both sandbox servers (TikTok, AppSprint) on loopback for one test, rate limits lifted.

    Fresh servers per test: clock, faults, counters and the Events API store start clean.
    Yields :class:`sandbox.runner.SandboxEndpoints`.
    """
    from sandbox.runner import sandbox_in_threads

    with sandbox_in_threads(tiny_world, marketing_qps=None) as endpoints:
        yield endpoints


def run_module(module: str, *args: str, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    """``python -m module args`` from the repository root in a process of its own (this process's
    environment, or ``env``); its stdout. Fails the test with the end of its stderr unless it exits 0."""
    import subprocess
    import sys
    from pathlib import Path

    proc = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout
