"""Where the generator puts the tables it builds: in memory, or straight into Parquet files.

The generator hands every table to a sink as soon as it is complete (``put``), the big ones a
record batch at a time (``put_batches``), and the AppSprint ``events`` in chunks (``put_events``, one per cohort of installs, each sorted by ``updated_at``).
:class:`MemorySink` keeps them (``generate_world`` returns them as a :class:`~sandbox.world.World`);
:class:`ParquetSink` writes each table to ``<directory>/<table>.parquet`` and keeps nothing, so a
world of any size is generated in bounded memory: the events go to one Arrow file per
(chunk, day of ``updated_at``) first, and :meth:`ParquetSink.close` merges them day by day into one
``events.parquet`` sorted by (``updated_at``, ``event_id``), holding one day of events at a time.
Both sinks receive the same tables: the world does not depend on where it goes.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sandbox.world import EVENTS, TABLE_SCHEMAS

from .shape import DAY

EVENT_ORDER = [("updated_at", "ascending"), ("event_id", "ascending")]
# Uncompressed: loading is the point of the world cache (3-4x faster to read than zstd).
ROW_GROUP_ROWS = 1_000_000
# Dictionary pages keep repeated strings (user agents, pools) compact on disk; only for the
# columns that repeat: trying them on ids and timestamps doubles the time a big world takes to write.
DICTIONARY_COLUMNS = frozenset(
    (
        "advertiser_id", "campaign_id", "adgroup_id", "ad_id", "link_id", "app_id", "pixel_id", "currency",
        "timezone", "status", "country", "event_type", "event_name", "source", "environment", "user_agent",
        "parameters", "occurred_at_raw", "invalid_reason", "placement", "os", "platform", "app_version",
        "attribution_status", "attribution_network", "match_type", "network", "stat_date",
    )
)  # fmt: skip


def _writer_options(schema: pa.Schema) -> dict:
    return {"compression": "none", "use_dictionary": [n for n in schema.names if n in DICTIONARY_COLUMNS]}


class MemorySink:
    """Keeps every table (the world in memory)."""

    def __init__(self) -> None:
        self.tables: dict[str, pa.Table] = {}
        self._event_chunks: list[pa.Table] = []

    def put(self, name: str, table: pa.Table) -> None:
        self.tables[name] = table

    def put_batches(self, name: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> None:
        self.tables[name] = pa.Table.from_batches(list(batches), schema=schema)

    def put_events(self, chunk: pa.Table) -> None:
        self._event_chunks.append(chunk)

    def close(self) -> None:
        chunks, self._event_chunks = self._event_chunks, []
        self.tables["events"] = chunks[0] if len(chunks) == 1 else pa.concat_tables(chunks).sort_by(EVENT_ORDER)
        self.tables = {name: self.tables[name] for name in TABLE_SCHEMAS}


class ParquetSink:
    """Writes every table to ``directory`` as it comes; holds at most one day of events."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.row_counts: dict[str, int] = {}
        self._buckets = self.directory / ".event-days"
        self._chunks = 0

    def put(self, name: str, table: pa.Table) -> None:
        pq.write_table(
            table, self.directory / f"{name}.parquet", row_group_size=ROW_GROUP_ROWS, **_writer_options(table.schema)
        )
        self.row_counts[name] = table.num_rows

    def put_batches(self, name: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> None:
        """A table written as it is made, a record batch at a time."""
        rows = 0
        with pq.ParquetWriter(self.directory / f"{name}.parquet", schema, **_writer_options(schema)) as writer:
            for batch in batches:
                writer.write_batch(batch, row_group_size=ROW_GROUP_ROWS)
                rows += batch.num_rows
        self.row_counts[name] = rows

    def put_events(self, chunk: pa.Table) -> None:
        day = pc.divide(chunk.column("updated_at").cast(pa.int64()), DAY).to_numpy()
        cuts = np.flatnonzero(np.diff(day)) + 1  # the chunk is sorted by updated_at
        for lo, hi in zip(np.r_[0, cuts].tolist(), np.r_[cuts, len(day)].tolist()):
            folder = self._buckets / f"{int(day[lo]):06d}"
            folder.mkdir(parents=True, exist_ok=True)
            with pa.ipc.new_file(str(folder / f"{self._chunks:05d}.arrow"), EVENTS) as out:  # temporary: Arrow is
                out.write_table(chunk.slice(lo, hi - lo))  # much cheaper to write than Parquet
        self._chunks += 1

    def close(self) -> None:
        rows = 0
        with pq.ParquetWriter(self.directory / "events.parquet", EVENTS, **_writer_options(EVENTS)) as writer:
            for folder in sorted(self._buckets.iterdir()) if self._buckets.exists() else []:
                files = sorted(folder.iterdir())
                day = pa.concat_tables(pa.ipc.open_file(pa.OSFile(str(f))).read_all() for f in files)
                if len(files) > 1:  # one chunk's rows are in the world's order already
                    day = day.sort_by(EVENT_ORDER)
                writer.write_table(day, row_group_size=ROW_GROUP_ROWS)
                rows += day.num_rows
                shutil.rmtree(folder)
        shutil.rmtree(self._buckets, ignore_errors=True)
        self.row_counts["events"] = rows
