"""Forwarding AppSprint in-app events to TikTok's web Events API 2.0 (DESIGN D6, D7, D8).

Plain Python (no Dagster): the Dagster sensor/job only calls :func:`forward_events`.

- :mod:`.payload`: Events API payloads and the project's one hashing function (:func:`hash_identifier`).
- :mod:`.client`: :class:`EventsApiClient` (error classification, backoff) and the errors.
- :mod:`.ledger`: the delivery ledger ``event_delivery_ledger`` (a view over a table and its
  journal) and ``event_payloads_dry_run``.
- :mod:`.batching`: batches of <= 1,000 events per pixel and their request bodies.
- :mod:`.synthetic_queue`: synthetic ``events_to_forward`` rows for tests and the benchmark.
- :mod:`.forwarder`: the loop, :func:`forward_events`, :class:`ForwardingSummary`.

Command line: ``python -m signal_campaigns.forwarding --warehouse PATH --base-url URL [--dry-run]``
with the token in env ``TIKTOK_EVENTS_API_TOKEN``.
"""

from signal_campaigns.tiktok.events_api import (
    AUTH_ADVICE,
    EventsApiAuthError,
    EventsApiClient,
    EventsApiRequestError,
    EventsApiUnavailableError,
    ForwardingError,
    RetryPolicy,
)

from .batching import PayloadError
from .forwarder import Forwarder, ForwarderConfig, ForwardingSummary, forward_events
from .ledger import DRY_RUN_TABLE, LEDGER_TABLE, DeliveryLedger
from .payload import build_event, build_events, encode_body, hash_email, hash_external_id, hash_identifier, hash_phone

__all__ = [
    "AUTH_ADVICE",
    "DRY_RUN_TABLE",
    "LEDGER_TABLE",
    "DeliveryLedger",
    "EventsApiAuthError",
    "EventsApiClient",
    "EventsApiRequestError",
    "EventsApiUnavailableError",
    "Forwarder",
    "ForwarderConfig",
    "ForwardingError",
    "ForwardingSummary",
    "PayloadError",
    "RetryPolicy",
    "build_event",
    "build_events",
    "encode_body",
    "forward_events",
    "hash_email",
    "hash_external_id",
    "hash_identifier",
    "hash_phone",
]
