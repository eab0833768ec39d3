"""The dry-run table ``forwarding.event_payloads_dry_run``: the payloads a dry run would have sent.
An internal table: it lives in the forwarder's internal schema, not in the public one (:mod:`.storage`)."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from .ledger import DRY_RUN_TABLE, utc_now
from .storage import internal_schema_for, qualified, quote_ident


class DryRunTable:
    """``event_payloads_dry_run``: batch_id, pixel_code, event_id, test_event_code, payload (the
    exact, hashed ``data[]`` item as JSON), created_at. ``schema`` is the ledger's (public) schema;
    the table goes to its internal schema (``forwarding`` for ``main``)."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, schema: str = "main", table: str = DRY_RUN_TABLE) -> None:
        self.conn = conn
        self.schema = internal_schema_for(schema)
        self.fqn = qualified(self.schema, table)

    def ensure(self) -> None:
        self.conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(self.schema)}")
        for payload_type in ("JSON", "VARCHAR"):  # JSON needs the json extension; VARCHAR otherwise
            try:
                self.conn.execute(f"""
                    CREATE TABLE IF NOT EXISTS {self.fqn} (
                        batch_id VARCHAR, pixel_code VARCHAR, event_id VARCHAR, test_event_code VARCHAR,
                        payload {payload_type}, created_at TIMESTAMPTZ)""")
                return
            except duckdb.Error:
                continue

    def write(
        self,
        batch_ids: list[str],
        pixel_codes: list[str],
        event_ids: list[str],
        test_codes: list[str | None],
        payloads: list[str],
    ) -> None:
        if not event_ids:
            return
        table = pa.table(
            {
                "batch_id": pa.array(batch_ids, pa.string()),
                "pixel_code": pa.array(pixel_codes, pa.string()),
                "event_id": pa.array(event_ids, pa.string()),
                "test_event_code": pa.array(test_codes, pa.string()),
                "payload": pa.array(payloads, pa.string()),
            }
        )
        self.conn.register("_fwd_dry", table)
        try:
            self.conn.execute(
                f"""INSERT INTO {self.fqn} (batch_id, pixel_code, event_id, test_event_code, payload,
                                  created_at)
                                  SELECT batch_id, pixel_code, event_id, test_event_code, payload, ?::TIMESTAMPTZ
                                  FROM _fwd_dry""",
                [utc_now()],
            )
        finally:
            self.conn.unregister("_fwd_dry")
