"""Events API 2.0 (web) of the TikTok sandbox: the store of what each pixel received, with dedup.

Validation is :func:`.tiktok_event_rules.validate_events` (the rules are listed there).

Dedup: key (pixel code, canonical event name, event_id); a repeat received within
``dedup_window_seconds`` (48 h of SANDBOX clock) of the first one is dropped (counted in
``duplicates_dropped``); events without an ``event_id`` are never deduplicated. Events of a request
with ``test_event_code`` are test events: stored and counted apart, never deduplicated and never
counted as production.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from typing import Any

from .tiktok_event_rules import EventsConfig, field_error, validate_events


@dataclasses.dataclass
class StoredEvent:
    received_at: float  # sandbox clock, unix seconds
    duplicate: bool
    flags: tuple[str, ...] | None
    test_event_code: str | None
    payload: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "received_at": dt.datetime.fromtimestamp(self.received_at, dt.UTC).isoformat(),
            "duplicate": self.duplicate,
            "flags": list(self.flags or ()),
            "test_event_code": self.test_event_code,
            "event": self.payload,
        }


class PixelLedger:
    """Everything received for one pixel code."""

    __slots__ = (
        "by_event",
        "duplicates_dropped",
        "events_received",
        "flagged_events",
        "production",
        "rejected_requests",
        "requests",
        "seen",
        "test",
        "test_events",
        "test_requests",
        "unique_events",
    )

    def __init__(self) -> None:
        self.requests = 0
        self.rejected_requests = 0
        self.test_requests = 0
        self.events_received = 0
        self.unique_events = 0
        self.duplicates_dropped = 0
        self.test_events = 0
        self.flagged_events = 0
        self.by_event: dict[str, int] = {}
        self.seen: dict[tuple[str, str], float] = {}  # (canonical event, event_id) -> first seen
        self.production: list[StoredEvent] = []
        self.test: list[StoredEvent] = []

    def counts(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "rejected_requests": self.rejected_requests,
            "test_requests": self.test_requests,
            "events_received": self.events_received,
            "unique_events": self.unique_events,
            "duplicates_dropped": self.duplicates_dropped,
            "test_events": self.test_events,
            "flagged_events": self.flagged_events,
            "unique_by_event": dict(self.by_event),
        }


_COUNT_KEYS = (
    "requests",
    "rejected_requests",
    "test_requests",
    "events_received",
    "unique_events",
    "duplicates_dropped",
    "test_events",
    "flagged_events",
)


class EventStore:
    """In-memory Events API store: per-pixel counters, the 48 h dedup index and the payloads.

    Thread-safe (one lock; the server's event loop is the only writer in practice)."""

    def __init__(self, config: EventsConfig | None = None) -> None:
        self.config = config or EventsConfig()
        self._pixels: dict[str, PixelLedger] = {}
        self._lock = threading.Lock()

    def ledger(self, pixel_code: str) -> PixelLedger:
        ledger = self._pixels.get(pixel_code)
        if ledger is None:
            ledger = self._pixels[pixel_code] = PixelLedger()
        return ledger

    def reset(self) -> None:
        with self._lock:
            self._pixels.clear()

    def reject(self, pixel_code: str) -> None:
        with self._lock:
            self.ledger(pixel_code).rejected_requests += 1

    def track(self, pixel_code: str, body: dict[str, Any], now: float) -> None:
        """Validate ``body['data']`` and record it. Raises :class:`TrackError` on 40002."""
        config = self.config
        test_code = body.get("test_event_code")
        if test_code is not None and type(test_code) is not str:
            raise field_error("test_event_code", "Not a valid string.")
        data = body.get("data")
        checked = validate_events(data, now, config)
        assert isinstance(data, list)  # validate_events rejects anything else
        with self._lock:
            ledger = self.ledger(pixel_code)
            ledger.requests += 1
            if test_code:
                ledger.test_requests += 1
                ledger.test_events += len(checked)
                if config.store_payloads and len(ledger.test) < config.max_stored_payloads:
                    ledger.test.extend(
                        StoredEvent(now, False, flags, test_code, ev) for ev, (_, _, flags) in zip(data, checked)
                    )
                return
            ledger.events_received += len(checked)
            seen = ledger.seen
            by_event = ledger.by_event
            window = config.dedup_window_seconds
            store = ledger.production if config.store_payloads else None
            if store is not None and len(store) >= config.max_stored_payloads:
                store = None
            unique = dropped = flagged = 0
            for ev, (name, event_id, flags) in zip(data, checked):
                duplicate = False
                if event_id:
                    key = (name, event_id)
                    first = seen.get(key)
                    if first is not None and now - first < window:
                        duplicate = True
                    else:
                        seen[key] = now
                if duplicate:
                    dropped += 1
                else:
                    unique += 1
                    by_event[name] = by_event.get(name, 0) + 1
                if flags:
                    flagged += 1
                if store is not None:
                    store.append(StoredEvent(now, duplicate, flags, None, ev))
            ledger.unique_events += unique
            ledger.duplicates_dropped += dropped
            ledger.flagged_events += flagged

    # --- read-back ------------------------------------------------------------------------------
    def counts(self, pixel_code: str | None = None) -> dict[str, Any]:
        with self._lock:
            if pixel_code is not None:
                ledger = self._pixels.get(pixel_code) or PixelLedger()
                return {"pixel_code": pixel_code, **ledger.counts()}
            total: dict[str, Any] = dict.fromkeys(_COUNT_KEYS, 0)
            by_event: dict[str, int] = {}
            for ledger in self._pixels.values():
                for key in _COUNT_KEYS:
                    total[key] += getattr(ledger, key)
                for name, n in ledger.by_event.items():
                    by_event[name] = by_event.get(name, 0) + n
            total["unique_by_event"] = by_event
            total["pixels"] = {code: ledger.counts() for code, ledger in self._pixels.items()}
            return total

    def payloads(
        self, pixel_code: str | None, *, test: bool = False, limit: int = 100, offset: int = 0
    ) -> tuple[int, list[dict[str, Any]]]:
        with self._lock:
            if pixel_code is not None:
                ledgers = [self._pixels[pixel_code]] if pixel_code in self._pixels else []
            else:
                ledgers = list(self._pixels.values())
            rows: list[StoredEvent] = []
            for ledger in ledgers:
                rows.extend(ledger.test if test else ledger.production)
            total = len(rows)
            page = rows[offset : offset + limit]
        return total, [row.to_json() for row in page]
