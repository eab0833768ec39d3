"""Chaos helpers shared by the crash-recovery tests and the chaos benchmark (``bench/bench_chaos.py``):
start the forwarder's command line against the sandbox and SIGKILL it, arm faults on the sandbox
Events API, and check what TikTok (the sandbox, after its ``event_id`` dedup) and the delivery
ledger hold afterwards.

The rules checked are docs/forwarding.md's: every eligible event accepted by TikTok exactly once
after its dedup, the ledger all ``sent`` with its journal folded, and at most the batch that was
in flight at a crash sent twice.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import httpx

from signal_campaigns.forwarding.ledger import FOLDED_TABLE, JOURNAL_TABLE, LEDGER_COLUMNS

from .runner import SandboxEndpoints

REPO = Path(__file__).resolve().parents[1]


# --- the forwarder's command line ------------------------------------------------------------------
def start_forwarder(
    path: str | os.PathLike[str], ep: SandboxEndpoints, *args: str, stdout: Any = None, stderr: Any = None
) -> subprocess.Popen:
    """``python -m signal_campaigns.forwarding`` on ``path`` against the sandbox (token in its
    environment, as in production; retries 0.01 s apart unless ``args`` say otherwise)."""
    env = {**os.environ, "TIKTOK_EVENTS_API_TOKEN": ep.credentials.events_api_token}
    cmd = [
        sys.executable,
        "-m",
        "signal_campaigns.forwarding",
        "--warehouse",
        str(path),
        "--base-url",
        ep.tiktok_url,
        "--base-delay",
        "0.01",
        *args,
    ]
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=stdout, stderr=stderr)


def sigkill(pid: int) -> bool:
    """SIGKILL process ``pid``; False when it had already ended."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


# --- the sandbox Events API's control routes ---------------------------------------------------------
def events_received(ep: SandboxEndpoints) -> dict[str, Any]:
    """The sandbox Events API's counters (``unique_events``, ``duplicates_dropped``, ...)."""
    return httpx.get(f"{ep.tiktok_url}/_sandbox/events/received", timeout=30).json()


def events_stored(ep: SandboxEndpoints, kind: str = "production") -> list[dict[str, Any]]:
    """Every event the sandbox Events API stored, in arrival order, each with its ``duplicate`` flag."""
    out: list[dict[str, Any]] = []
    url = f"{ep.tiktok_url}/_sandbox/events/received"
    while True:
        params: dict[str, str | int] = {"payloads": "true", "limit": 10000, "offset": len(out), "kind": kind}
        page = httpx.get(url, params=params, timeout=60).json()["payloads"]
        out.extend(page["events"])
        if len(out) >= page["total"] or not page["events"]:
            return out


def arm_events_fault(ep: SandboxEndpoints, **fault: Any) -> None:
    """Arm one fault on ``event/track`` (fields of ``sandbox.control.Fault``)."""
    url = f"{ep.tiktok_url}/_sandbox/faults"
    httpx.post(url, json={"endpoint": "event/track", **fault}, timeout=10).raise_for_status()


def disarm_faults(ep: SandboxEndpoints) -> None:
    httpx.delete(f"{ep.tiktok_url}/_sandbox/faults", timeout=10).raise_for_status()


def reset_events_api(ep: SandboxEndpoints) -> None:
    """Disarm every fault and empty the Events API store (its dedup index included)."""
    disarm_faults(ep)
    httpx.post(f"{ep.tiktok_url}/_sandbox/events/reset", timeout=10).raise_for_status()


# --- what TikTok and the ledger hold -------------------------------------------------------------------
def ledger_state(path: str | os.PathLike[str]) -> tuple[dict[str, int], int]:
    """(rows per status as a reader sees them, unfolded journal rows)."""
    with duckdb.connect(str(path), read_only=True) as conn:
        counts = dict(conn.execute("SELECT status, count(*) FROM main.event_delivery_ledger GROUP BY 1").fetchall())
        journal = conn.execute(f"SELECT count(*) FROM forwarding.{JOURNAL_TABLE}").fetchall()[0][0]
    return counts, journal


@dataclasses.dataclass(frozen=True)
class DeliveryCheck:
    """The outcome of forwarding ``expected`` eligible events, as TikTok and the ledger see it."""

    expected: int
    unique_events: int  # TikTok's counter of events kept after its dedup
    lost: int  # eligible events TikTok never kept
    extra: int  # events TikTok kept that are not eligible
    duplicates: int  # events TikTok kept more than once (its dedup let a repeat through)
    resent: int  # deliveries TikTok dropped as repeats of an event it had
    ledger: dict[str, int]  # rows per status
    ledger_ids: int  # distinct event ids in the ledger
    journal_rows: int  # unfolded journal rows (0 after a run that ended)
    stale_rows: int  # ledger rows the folded table says otherwise than the view

    @property
    def ledger_consistent(self) -> bool:
        return (
            self.ledger == {"sent": self.expected}
            and self.ledger_ids == self.expected
            and self.journal_rows == 0
            and self.stale_rows == 0
        )

    @property
    def exactly_once(self) -> bool:
        kept_once = self.lost == 0 and self.extra == 0 and self.duplicates == 0
        return kept_once and self.unique_events == self.expected and self.ledger_consistent


def check_delivery(path: str | os.PathLike[str], ep: SandboxEndpoints, event_ids: Iterable[str]) -> DeliveryCheck:
    """Compare the eligible ``event_ids`` with what the sandbox kept and the ledger in ``path`` says."""
    expected = set(event_ids)
    kept: dict[str, int] = {}
    resent = 0
    for item in events_stored(ep):
        if item["duplicate"]:
            resent += 1
        else:
            event_id = item["event"]["event_id"]
            kept[event_id] = kept.get(event_id, 0) + 1
    counts, journal = ledger_state(path)
    cols = ", ".join(LEDGER_COLUMNS)
    with duckdb.connect(str(path), read_only=True) as conn:
        ledger_ids = conn.execute("SELECT count(DISTINCT event_id) FROM main.event_delivery_ledger").fetchall()[0][0]
        stale = conn.execute(
            f"SELECT count(*) FROM (SELECT {cols} FROM main.event_delivery_ledger "
            f"EXCEPT SELECT {cols} FROM forwarding.{FOLDED_TABLE})"
        ).fetchall()[0][0]
    return DeliveryCheck(
        expected=len(expected),
        unique_events=events_received(ep)["unique_events"],
        lost=len(expected - kept.keys()),
        extra=len(kept.keys() - expected),
        duplicates=sum(n - 1 for n in kept.values()),
        resent=resent,
        ledger=counts,
        ledger_ids=ledger_ids,
        journal_rows=journal,
        stale_rows=stale,
    )
