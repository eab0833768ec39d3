"""Events API 2.0 (web) of the TikTok sandbox: the store of what each pixel received, with dedup.

Validation is :func:`.tiktok_event_rules.validate_events` (the rules are listed there).

Dedup: key (pixel code, canonical event name, event_id); a repeat received within
``dedup_window_seconds`` (48 h of SANDBOX clock) of the first one is dropped (counted in
``duplicates_dropped``); events without an ``event_id`` are never deduplicated. Events of a request
with ``test_event_code`` are test events: stored and counted apart, never deduplicated and never
counted as production.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any, NamedTuple

import orjson

from .tiktok_event_rules import EventsConfig, field_error, validate_events


class ReceivedRequest(NamedTuple):
    """The events of one request, kept as the request's body as received (parsed again only when
    read back): a tuple of plain values per request instead of objects per event, so that millions
    of stored events cost Python's cyclic garbage collector nothing (rescanning stored event dicts
    was most of the server's time once a run had stored a few hundred thousand)."""

    received_at: float  # sandbox clock, unix seconds
    test_event_code: str | None
    body: bytes  # the request body; its ``data`` holds the events
    event_count: int  # events in it
    duplicates: bytes | None  # one byte per event, 1 = dropped as a duplicate (None: none was)
    flags: tuple[tuple[str, ...] | None, ...] | None  # per event (None: no event was flagged)

    def events(self, lo: int, hi: int) -> list[dict[str, Any]]:
        """The stored form of events ``lo..hi-1`` of this request."""
        data = orjson.loads(self.body)["data"]
        when = dt.datetime.fromtimestamp(self.received_at, dt.UTC).isoformat()
        return [
            {
                "received_at": when,
                "duplicate": bool(self.duplicates[i]) if self.duplicates else False,
                "flags": list((self.flags[i] if self.flags else None) or ()),
                "test_event_code": self.test_event_code,
                "event": data[i],
            }
            for i in range(lo, hi)
        ]


class PixelLedger:
    """Everything received for one pixel code."""

    __slots__ = (
        "by_event",
        "duplicates_dropped",
        "events_received",
        "flagged_events",
        "production",
        "production_stored",
        "rejected_requests",
        "requests",
        "seen",
        "test",
        "test_events",
        "test_requests",
        "test_stored",
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
        self.seen: dict[str, float] = {}  # canonical event NUL event_id -> first seen
        self.production: list[ReceivedRequest] = []  # what was received, request by request
        self.test: list[ReceivedRequest] = []
        self.production_stored = 0  # events in ``production``
        self.test_stored = 0

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

    def track(self, pixel_code: str, body: dict[str, Any], now: float, raw: bytes | None = None) -> None:
        """Validate ``body['data']`` and record it; ``raw``: the request body as received (kept for
        read-back; re-encoded from ``body`` when not given). Raises :class:`TrackError` on 40002."""
        config = self.config
        test_code = body.get("test_event_code")
        if test_code is not None and type(test_code) is not str:
            raise field_error("test_event_code", "Not a valid string.")
        data = body.get("data")
        checked = validate_events(data, now, config)
        assert isinstance(data, list)  # validate_events rejects anything else
        flags = tuple(f for _, _, f in checked) if any(f for _, _, f in checked) else None
        n = len(checked)
        with self._lock:
            ledger = self.ledger(pixel_code)
            ledger.requests += 1
            keep = config.store_payloads
            if test_code:
                ledger.test_requests += 1
                ledger.test_events += n
                if keep and ledger.test_stored < config.max_stored_payloads:
                    ledger.test.append(ReceivedRequest(now, test_code, raw or orjson.dumps(body), n, None, flags))
                    ledger.test_stored += n
                return
            ledger.events_received += n
            seen = ledger.seen
            by_event = ledger.by_event
            window = config.dedup_window_seconds
            duplicates: bytearray | None = None
            unique = 0
            for i, (name, event_id, _) in enumerate(checked):
                if event_id:
                    key = name + "\x00" + event_id  # a str, not a tuple: no work for the garbage collector
                    first = seen.get(key)
                    if first is not None and now - first < window:
                        if duplicates is None:
                            duplicates = bytearray(n)
                        duplicates[i] = 1
                        continue
                    seen[key] = now
                unique += 1
                by_event[name] = by_event.get(name, 0) + 1
            ledger.unique_events += unique
            ledger.duplicates_dropped += n - unique
            ledger.flagged_events += sum(1 for f in flags if f) if flags else 0
            if keep and ledger.production_stored < config.max_stored_payloads:
                dup = bytes(duplicates) if duplicates is not None else None
                ledger.production.append(ReceivedRequest(now, None, raw or orjson.dumps(body), n, dup, flags))
                ledger.production_stored += n

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
            requests: list[ReceivedRequest] = []
            for ledger in ledgers:
                requests.extend(ledger.test if test else ledger.production)
        total = 0
        page: list[dict[str, Any]] = []
        for request in requests:  # each request's events: total .. total + n - 1
            n = request.event_count
            lo, hi = max(offset - total, 0), min(offset + limit - total, n)
            if lo < hi:
                page.extend(request.events(lo, hi))
            total += n
        return total, page
