"""The forwarder on the Spark target (docs/forwarding.md, "On the Spark target").

The queue is built on Spark (``<spark_schema>.events_to_forward``), but the delivery ledger cannot
live there with its guarantees: Spark's tables over Parquet files have no row-level transactions,
so "batch N+1 in flight, committed before its POST" would be a rewrite of files per batch, and a
crash between two writes could leave both or neither. The ledger stays in the DuckDB warehouse file
(one writer, one commit per batch, crash-safe: docs/decisions/0006-forwarding-rules.md), which on
the Spark target is the activation and serving store:

1. :func:`stage_spark_queue`: the Spark build's ``events_to_forward`` is read into ``main`` of the
   DuckDB file (typed columns, UTC), replacing the previous copy in ONE transaction;
2. the forwarder runs on it unchanged (:func:`.forwarder.forward_events`): recovery, enqueue, one
   journal commit before each POST;
3. :func:`publish_ledger`: the ledger view is written to the lake as Parquet
   (``<lake>/forwarding/event_delivery_ledger/``) and renamed into place, so Spark (and the dbt
   source ``forwarding.event_delivery_ledger`` on Spark) can read a consistent snapshot of it.

A Spark queue that cannot be read (PySpark or Java missing, the metastore held by another process,
the queue not built) is refused with what to do before anything is written.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

import duckdb

from signal_campaigns.warehouse.spark import lake_path, spark_schema
from signal_campaigns.warehouse.spark_marts import export_tables, load_exported

from .ledger import LEDGER_TABLE

QUEUE_TABLE = "events_to_forward"
LEDGER_DATASET = "forwarding"  # the lake folder of the ledger's snapshot, as the dbt source names it
LEDGER_FILE = "ledger.parquet"


def stage_spark_queue(
    con: duckdb.DuckDBPyConnection, *, in_process: bool = False, lock_wait: float = 0.0, log: Any = None
) -> int:
    """Replace ``main.events_to_forward`` in the DuckDB warehouse on ``con`` with the Spark build's
    queue (one transaction); returns its rows. A metastore another process holds is waited for up
    to ``lock_wait`` seconds. Raises :class:`~signal_campaigns.errors.ActionableError` when Spark
    cannot be read."""
    with tempfile.TemporaryDirectory(prefix="signal-spark-queue-") as folder:
        relation = f"{spark_schema()}.{QUEUE_TABLE}"
        tables = export_tables([relation], folder, in_process=in_process, lock_wait=lock_wait, log=log)
        load_exported(con, tables)
    return tables[0].rows


def ledger_lake_folder(lake: str | os.PathLike[str] | None = None) -> Path:
    """``<lake>/forwarding/event_delivery_ledger``: where Spark reads the ledger's snapshot."""
    return lake_path(lake) / LEDGER_DATASET / LEDGER_TABLE


def publish_ledger(con: duckdb.DuckDBPyConnection, lake: str | os.PathLike[str] | None = None) -> Path:
    """Write ``main.event_delivery_ledger`` (a committed state) to the lake as one Parquet file,
    renamed over the previous one: a Spark reader sees the old snapshot or the new, never half."""
    folder = ledger_lake_folder(lake)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / LEDGER_FILE
    tmp = folder / f".{LEDGER_FILE}.{os.getpid()}.tmp"  # hidden: Spark skips files starting with "."
    try:
        path = str(tmp).replace("'", "''")
        con.execute(f"COPY (SELECT * FROM main.{LEDGER_TABLE} ORDER BY event_id) TO '{path}' (FORMAT parquet)")
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return target
