"""A world generated straight into the cache's files (``write_world``, memory bounded whatever its
size) is the world ``generate_world`` returns, including a world of several cohorts of installs."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from sandbox import ground_truth as gt
from sandbox.generate import generate_world
from sandbox.generate.events import INSTALLS_PER_CHUNK
from sandbox.world import TABLE_SCHEMAS
from sandbox.world_cache import MANIFEST, load_world, write_world
from tests.conftest import FIXED_ANCHOR


def assert_same_world(a, b) -> None:
    for name in TABLE_SCHEMAS:
        assert a.table(name).equals(b.table(name)), name
    assert a.notes == b.notes and a.credentials == b.credentials


def test_written_world_is_the_generated_one(tmp_path, tiny_world):
    directory = write_world(seed=7, scale="tiny", anchor=FIXED_ANCHOR, cache_dir=tmp_path)
    assert_same_world(load_world(directory), tiny_world)
    manifest = json.loads((directory / MANIFEST).read_text())
    assert manifest["row_counts"] == {name: tiny_world.table(name).num_rows for name in TABLE_SCHEMAS}
    assert [p.name for p in tmp_path.iterdir()] == [directory.name]  # nothing temporary left
    assert sorted(p.name for p in directory.iterdir()) == sorted([MANIFEST, *(f"{t}.parquet" for t in TABLE_SCHEMAS)])
    assert write_world(seed=7, scale="tiny", anchor=FIXED_ANCHOR, cache_dir=tmp_path) == directory  # cached


@pytest.mark.slow
def test_a_world_of_several_cohorts(tmp_path):
    events = 2_300_000  # ~230,000 installs: two cohorts
    in_memory = generate_world(seed=7, scale="1m", anchor=FIXED_ANCHOR, events=events)
    assert in_memory.notes["installs"] > INSTALLS_PER_CHUNK
    written = load_world(write_world(seed=7, scale="1m", anchor=FIXED_ANCHOR, events=events, cache_dir=tmp_path))
    assert_same_world(written, in_memory)

    ev = in_memory.table("events")
    assert ev.num_rows == events == in_memory.notes["events"]
    upd = ev.column("updated_at").cast(pa.int64()).to_numpy()
    assert (np.diff(upd) >= 0).all()  # sorted by (updated_at, event_id) across cohorts
    ids = ev.column("event_id")
    ties = np.flatnonzero(np.diff(upd) == 0)
    assert all(ids[int(i)].as_py() <= ids[int(i) + 1].as_py() for i in ties)
    # one install event per install, every re-delivery a second row of an existing event
    install_ids = ids.filter(pc.equal(ev.column("event_type"), "install"))
    assert pc.count_distinct(install_ids).as_py() == in_memory.notes["installs"]
    assert ev.num_rows - pc.count_distinct(ids).as_py() == in_memory.notes["duplicate_deliveries"] > 0
    assert all(in_memory.notes[f"hostile_{k}"] > 0 for k in ("bad_timestamp", "bad_currency", "negative_revenue"))
    # TikTok's report, added up cohort by cohort, still tracks AppSprint's attributed installs
    end = in_memory.anchor + in_memory.future_horizon
    fallback = set(in_memory.notes["fallback_ad_ids"])
    daily = in_memory.table("ad_daily").to_pylist()
    downloads = sum(r["download_start"] for r in daily if r["ad_id"] not in fallback)
    attributed = sum(r["installs"] for r in gt.attributed_installs(in_memory, end).to_pylist())
    assert 0.75 * attributed <= downloads <= 1.2 * attributed
    purchases = sum(r["complete_payment"] for r in daily if r["ad_id"] not in fallback)
    assert purchases > 0
