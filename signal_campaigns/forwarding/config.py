"""What a forwarding run is told (:class:`ForwarderConfig`, the Events API token) and what it
reports (:class:`ForwardingSummary`, with the wall seconds per phase)."""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Any

from signal_campaigns.setting_checks import check_int

from .payload import MAX_BATCH_EVENTS

TOKEN_ENV = "TIKTOK_EVENTS_API_TOKEN"
# The same secret as dlt names it: dlt reads TIKTOK_EVENTS_API_TOKEN from the environment first,
# then `tiktok_events_api_token` from .dlt/secrets.toml (where `signal-campaigns pixel` saves it).
TOKEN_SECRET_KEY = TOKEN_ENV.lower()


def events_api_token() -> str:
    """The Events API token from the environment or .dlt/secrets.toml ("" when unset)."""
    import dlt  # noqa: PLC0415 (importing dlt takes ~1.2 s; only runs that send need the token)

    return os.environ.get(TOKEN_ENV) or dlt.secrets.get(TOKEN_SECRET_KEY, str) or ""


@dataclasses.dataclass
class ForwarderConfig:
    """Knobs of one forwarding run."""

    queue_table: str = "events_to_forward"
    queue_schema: str | None = None  # None: "main" if it has the queue, else the one schema that does
    ledger_schema: str | None = None  # None: the queue's schema
    batch_size: int = MAX_BATCH_EVENTS
    dry_run: bool = False
    test_event_code: str | None = None  # for is_test rows without their own test_event_code
    partner_name: str | None = None
    max_events: int | None = None  # at most this many events per run (None: all pending)
    chunk_rows: int = 50_000  # queue rows converted to Python at a time
    progress_every_seconds: float = 5.0
    fold_every_batches: int = 100  # fold the ledger journal this often (and at the end of a run)
    build_in_background: bool = True  # build the next batch's payloads on a thread while one is posted

    def __post_init__(self) -> None:
        # SettingError is a ValueError naming the setting, its value and what is expected
        check_int(self.batch_size, "batch_size (--batch-size)", 1, MAX_BATCH_EVENTS)
        check_int(self.fold_every_batches, "fold_every_batches (--fold-every-batches)", 1, 1_000_000)
        if self.max_events is not None:
            check_int(self.max_events, "max_events (--max-events)", 0, 10**12)


@dataclasses.dataclass
class ForwardingSummary:
    """What one run did. ``pending`` / ``sent_total`` / ``dead_total`` are ledger totals after it."""

    run_id: str
    dry_run: bool = False
    recovered_in_flight: int = 0
    enqueued: int = 0
    sent: int = 0
    dead: int = 0
    partial_success_batches: int = 0
    batches: int = 0
    requests: int = 0
    retries: dict[str, int] = dataclasses.field(default_factory=dict)
    dry_run_payloads: int = 0
    pending: int = 0
    sent_total: int = 0
    dead_total: int = 0
    in_flight: int = 0
    elapsed_seconds: float = 0.0
    stopped_reason: str | None = None
    phases: dict[str, float] = dataclasses.field(default_factory=dict)  # seconds per phase

    @property
    def events_per_second(self) -> float:
        done = self.sent + self.dead + self.dry_run_payloads
        return done / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["events_per_second"] = round(self.events_per_second, 1)
        return out


class PhaseTimer:
    """Accumulates wall seconds per phase into ``ForwardingSummary.phases``."""

    def __init__(self, phases: dict[str, float]) -> None:
        self.phases = phases

    def __call__(self, phase: str, since: float) -> float:
        """Add the time since ``since`` to ``phase``; returns now (the next phase's start)."""
        now = time.perf_counter()
        self.add(phase, now - since)
        return now

    def add(self, phase: str, seconds: float) -> None:
        self.phases[phase] = self.phases.get(phase, 0.0) + seconds
