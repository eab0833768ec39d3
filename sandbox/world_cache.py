"""A disk cache of generated sandbox worlds: Parquet files + a JSON manifest per parameter set.

``load_or_generate(seed, scale, anchor, days, events, cache_dir)`` returns the same
:class:`~.world.World` as :func:`.generate.generate_world` with those arguments, loading it from
``cache_dir/<key>/`` when present (much faster than regenerating the big scales) and saving it
there otherwise. The key covers every generation parameter and :data:`.generate.GENERATOR_VERSION`.

Safe for concurrent callers: a world is written to a private temporary directory and renamed into
place in one step; a reader only ever sees complete directories. If two processes generate the same
world at once, the first rename wins and the other process discards its copy.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .generate import GENERATOR_VERSION, PRESETS, default_anchor, generate_into, generate_world
from .generate.sink import ParquetSink
from .world import TABLE_SCHEMAS, Credentials, World

MANIFEST = "manifest.json"
DEFAULT_CACHE_DIR = Path("data/sandbox")


def cache_key(seed: int, scale: str, anchor: dt.datetime, days: int | None = None, events: int | None = None) -> str:
    """Directory name for one parameter set (days/events resolved to the preset's values)."""
    preset = PRESETS[scale]
    days = preset.days if days is None else int(days)
    events = preset.events if events is None else int(events)
    stamp = anchor.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"world-v{GENERATOR_VERSION}-seed{seed}-{scale}-{stamp}-d{days}-e{events}"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def save_world(world: World, directory: Path, *, days: int | None = None, events: int | None = None) -> None:
    """Write ``world`` into ``directory`` (created): one Parquet file per table + manifest.json."""
    sink = ParquetSink(directory)
    for name, table in world.tables.items():
        sink.put(name, table)
    facts = {f.name: getattr(world, f.name) for f in dataclasses.fields(World) if f.name != "tables"}
    _write_manifest(directory, facts, sink.row_counts, days=days, events=events)


def _write_manifest(
    directory: Path, facts: dict[str, Any], row_counts: dict[str, int], *, days: int | None, events: int | None
) -> None:
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "seed": facts["seed"],
        "scale": facts["scale"],
        "anchor": facts["anchor"].isoformat(),
        "days": days,
        "events": events,
        "future_horizon_seconds": facts["future_horizon"].total_seconds(),
        "tracking_domain": facts["tracking_domain"],
        "credentials": dataclasses.asdict(facts["credentials"]),
        "row_counts": row_counts,
        "notes": _jsonable(facts["notes"]),
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))


APPSPRINT_ROWS = ("clicks", "installs", "events")  # the tables that grow with the world's size
IN_MEMORY_EVENTS = 2_000_000  # open_world: a world with more events leaves its AppSprint rows on disk


def open_world(directory: Path, in_memory_events: int = IN_MEMORY_EVENTS) -> World:
    """The cached world of ``directory`` for serving: whole in memory up to ``in_memory_events``
    events; beyond, its AppSprint rows stay in their Parquet files (``World.rows_dir``; the
    AppSprint server pages through them) and memory holds the rest."""
    manifest = json.loads((directory / MANIFEST).read_text())
    if manifest["row_counts"]["events"] <= in_memory_events:
        return load_world(directory)
    return dataclasses.replace(load_world(directory, without=APPSPRINT_ROWS), rows_dir=directory)


def load_world(directory: Path, *, without: Collection[str] = ()) -> World:
    """Read a world written by :func:`save_world` or :func:`write_world`. ``without``: tables
    left empty (their schema, no rows), for a reader that needs the others only, e.g. the TikTok
    side of a world whose AppSprint rows (:data:`APPSPRINT_ROWS`) it reads from the files."""
    manifest = json.loads((directory / MANIFEST).read_text())
    tables: dict[str, pa.Table] = {}
    for name, schema in TABLE_SCHEMAS.items():
        if name in without:
            tables[name] = schema.empty_table()
            continue
        table = pq.read_table(directory / f"{name}.parquet", schema=schema)
        if not table.schema.equals(schema, check_metadata=False):
            table = table.cast(schema)
        tables[name] = table.replace_schema_metadata(None)
        if tables[name].num_rows != manifest["row_counts"][name]:
            raise ValueError(
                f"cached table {name} has {tables[name].num_rows} rows, manifest says {manifest['row_counts'][name]}"
            )
    world = World(
        seed=int(manifest["seed"]),
        scale=manifest["scale"],
        anchor=dt.datetime.fromisoformat(manifest["anchor"]).astimezone(dt.UTC),
        future_horizon=dt.timedelta(seconds=manifest["future_horizon_seconds"]),
        tracking_domain=manifest["tracking_domain"],
        credentials=Credentials(**manifest["credentials"]),
        tables=tables,
        notes=manifest["notes"],
    )
    world.validate()
    return world


def load_or_generate(
    seed: int = 7,
    scale: str = "demo",
    anchor: dt.datetime | None = None,
    days: int | None = None,
    events: int | None = None,
    cache_dir: Path | str = DEFAULT_CACHE_DIR,
) -> World:
    """The world for these parameters, from ``cache_dir`` if cached, else generated and cached."""
    anchor, final = _entry(seed, scale, anchor, days, events, cache_dir)
    if (final / MANIFEST).exists():
        try:
            return load_world(final)
        except Exception:
            _discard(final, final.parent)
    world = generate_world(seed=seed, scale=scale, anchor=anchor, days=days, events=events)
    _publish(final, lambda tmp: save_world(world, tmp, days=days, events=events))
    # Serve the in-memory world: identical to what was (or another process) cached.
    return world


def write_world(
    seed: int = 7,
    scale: str = "demo",
    anchor: dt.datetime | None = None,
    days: int | None = None,
    events: int | None = None,
    cache_dir: Path | str = DEFAULT_CACHE_DIR,
) -> Path:
    """Make sure the world for these parameters is cached and return its directory, never holding
    the world in memory: a world not cached yet is generated straight into Parquet files
    (:func:`.generate.generate_into`), in memory bounded whatever its size (the way to make the
    big scales' worlds; :func:`load_or_generate` would hold them)."""
    anchor, final = _entry(seed, scale, anchor, days, events, cache_dir)
    if not (final / MANIFEST).exists():

        def generate(tmp: Path) -> None:
            sink = ParquetSink(tmp)
            facts = generate_into(sink, seed=seed, scale=scale, anchor=anchor, days=days, events=events)
            _write_manifest(tmp, facts, sink.row_counts, days=days, events=events)

        _publish(final, generate)
    return final


def _entry(
    seed: int, scale: str, anchor: dt.datetime | None, days: int | None, events: int | None, cache_dir: Path | str
) -> tuple[dt.datetime, Path]:
    """The anchor (UTC; the default one if None) and the cache directory of these parameters."""
    if scale not in PRESETS:
        raise ValueError(f"unknown scale {scale!r}; choose one of {sorted(PRESETS)}")
    anchor = (anchor or default_anchor()).astimezone(dt.UTC)
    return anchor, Path(cache_dir) / cache_key(seed, scale, anchor, days, events)


def _publish(final: Path, write: Callable[[Path], None]) -> None:
    """``write`` a world into a private directory, renamed to ``final`` in one step."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=final.parent))
    try:
        write(tmp)
        try:
            os.rename(tmp, final)  # atomic; fails if another process got there first
        except OSError:
            if not (final / MANIFEST).exists():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def cached_credentials(
    seed: int = 7,
    scale: str = "demo",
    anchor: dt.datetime | None = None,
    days: int | None = None,
    events: int | None = None,
    cache_dir: Path | str = DEFAULT_CACHE_DIR,
) -> Credentials:
    """Make sure the world for these parameters is cached and return its credentials, without
    loading its tables (the launcher's children load them; the parent only needs credentials)."""
    anchor = (anchor or default_anchor()).astimezone(dt.UTC)
    manifest = Path(cache_dir) / cache_key(seed, scale, anchor, days, events) / MANIFEST
    if not manifest.exists():
        write_world(seed, scale, anchor, days, events, cache_dir)
    return Credentials(**json.loads(manifest.read_text())["credentials"])


def _discard(directory: Path, cache_dir: Path) -> None:
    """Move a damaged entry aside atomically, then delete it."""
    trash = cache_dir / f".trash-{directory.name}-{uuid.uuid4().hex[:8]}"
    try:
        os.rename(directory, trash)
    except OSError:
        return
    shutil.rmtree(trash, ignore_errors=True)
