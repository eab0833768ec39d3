"""Forwarding AppSprint in-app events to TikTok's web Events API 2.0.

The rules (eligibility, payload, batching, retries, the ledger) are
docs/decisions/0006-forwarding-rules.md; secrets: 0007-secrets.md; the one DuckDB writer:
0008-one-writer-and-bi-copy.md.

Plain Python (no Dagster): the Dagster sensor/job only calls :func:`forward_events`.

- :mod:`.payload`: Events API payloads and the project's one hashing function (:func:`hash_identifier`).
- :mod:`signal_campaigns.tiktok.events_api`: :class:`EventsApiClient` and the errors (re-exported).
- :mod:`.ledger`: the delivery ledger ``event_delivery_ledger`` (a view over a table and its
  journal, in the schema ``forwarding``); :mod:`.dry_run`: ``forwarding.event_payloads_dry_run``;
  :mod:`.storage`: the schemas, DDL and view comments.
- :mod:`.batching`: batches of <= 1,000 events per pixel and their request bodies.
- :mod:`.forwarder`: the loop and :func:`forward_events`; :mod:`.config`: :class:`ForwarderConfig`,
  :class:`ForwardingSummary` and the Events API token.

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
)
from signal_campaigns.tiktok.retry import RetryPolicy

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
