"""Synthetic ``events_to_forward`` rows (the mart's columns) for the forwarding tests and benchmark:
no dbt build needed to exercise the forwarder at any size."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Sequence
from decimal import Decimal

import duckdb
import pyarrow as pa

from signal_campaigns.forwarding.ledger import qualified, quote_ident

EVENTS = ("Purchase", "Download", "CompleteRegistration", "StartTrial", "Subscribe")
UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"

QUEUE_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("advertiser_id", pa.string()),
        ("pixel_code", pa.string()),
        ("tiktok_event", pa.string()),
        ("event_time", pa.int64()),
        ("occurred_at", pa.timestamp("us", tz="UTC")),
        ("ttclid", pa.string()),
        ("ip", pa.string()),
        ("user_agent", pa.string()),
        ("external_id_source", pa.string()),
        ("value", pa.decimal128(18, 6)),
        ("currency", pa.string()),
        ("page_url", pa.string()),
        ("is_test", pa.bool_()),
        ("event_source", pa.string()),
    ]
)


def synthetic_queue(
    n: int, pixel_codes: Sequence[str], anchor: dt.datetime, *, seed: int = 1, prefix: str = "evt"
) -> pa.Table:
    """``n`` eligible events spread over ``pixel_codes``, occurred within 6 days before ``anchor``.
    Every 7th user id is pre-hashed (upper-case hex), every 11th missing."""
    rng = random.Random(seed)
    now = int(anchor.timestamp())
    cols: dict[str, list] = {f.name: [] for f in QUEUE_SCHEMA}
    for i in range(n):
        name = EVENTS[i % len(EVENTS)]
        t = now - rng.randint(60, 6 * 86400)
        if i % 11 == 0:
            ext = None
        elif i % 7 == 0:
            ext = hashlib.sha256(f"user_{i}".encode()).hexdigest().upper()
        else:
            ext = f" user_{i % 5000} "
        has_rev = name in ("Purchase", "Subscribe")
        cols["event_id"].append(f"{prefix}_{i:08d}")
        cols["advertiser_id"].append("7000000000000000001")
        cols["pixel_code"].append(pixel_codes[i % len(pixel_codes)])
        cols["tiktok_event"].append(name)
        cols["event_time"].append(t)
        cols["occurred_at"].append(dt.datetime.fromtimestamp(t, dt.UTC))
        cols["ttclid"].append(f"E.C.P.{i:012d}")
        cols["ip"].append(f"203.0.{(i >> 8) & 255}.{i & 255}")
        cols["user_agent"].append(UA)
        cols["external_id_source"].append(ext)
        cols["value"].append(Decimal(f"{(i % 50) + 0.99:.2f}") if has_rev else None)
        cols["currency"].append("USD" if has_rev else None)
        cols["page_url"].append(f"https://sandbox.appsprint.link/s/link{i % 10}?ttclid=E.C.P.{i:012d}")
        cols["is_test"].append(False)
        cols["event_source"].append("web")
    return pa.table(cols, schema=QUEUE_SCHEMA)


def create_queue(
    conn: duckdb.DuckDBPyConnection, rows: pa.Table, table: str = "events_to_forward", schema: str = "main"
) -> None:
    """Create (or replace) ``schema.table`` holding ``rows``."""
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
    conn.register("_rows", rows)
    try:
        conn.execute(f"CREATE OR REPLACE TABLE {qualified(schema, table)} AS SELECT * FROM _rows")
    finally:
        conn.unregister("_rows")


def write_queue_file(path, rows: pa.Table, **kw) -> None:
    """A DuckDB file at ``path`` whose ``events_to_forward`` holds ``rows`` (see :func:`create_queue`)."""
    conn = duckdb.connect(str(path))
    try:
        create_queue(conn, rows, **kw)
    finally:
        conn.close()
