"""Incremental correctness: late attributions, late and re-delivered events and restated TikTok days
arrive in a second load (the sandbox clock advanced); an incremental build must equal the ground
truth at the new clock and a full refresh."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal

from tests.conftest import FIXED_ANCHOR

from .conftest import dbt, load_raw, query
from .expectations import expected_installs, expected_revenue

ADVANCE = dt.timedelta(days=2)
BUILD_MODELS = ["build", "--resource-type", "seed", "--resource-type", "model"]
MART_SQL = """select report_date, advertiser_id, ad_id, spend, installs, installs_appsprint, installs_tiktok,
                     installs_source, revenue, revenue_appsprint, revenue_tiktok, revenue_source,
                     revenue_events_without_fx_rate, cpi, ctr, roas
              from main.signal_campaign_daily order by advertiser_id, ad_id, report_date"""


def test_incremental_build_after_late_rows(sandbox, tiny_world, raw_warehouse, tmp_path, dbt_target_paths):
    # 1. the session's first load (clock = anchor), then a first build
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(raw_warehouse["db"], db)
    pipelines_dir = tmp_path / "pipelines"
    shutil.copytree(raw_warehouse["pipelines_dir"], pipelines_dir)
    dbt(BUILD_MODELS, warehouse=db, target_path=dbt_target_paths["duckdb"])
    (events_before,), = query(db, "select count(*) from staging.stg_appsprint__events")

    # 2. later: the sandbox clock advances; the pipelines load only what changed
    sandbox.advance_clock(ADVANCE.total_seconds())
    now = FIXED_ANCHOR + ADVANCE
    load_raw(sandbox, tiny_world, duckdb_path=db, pipelines_dir=pipelines_dir, now=now)
    (load_ids,), = query(db, "select count(distinct _dlt_load_id) from appsprint.events")
    assert load_ids >= 2, "the second load must be incremental (new load ids)"

    # 3. incremental build
    vars_now = {"forwarding_now": now.isoformat()}
    dbt(BUILD_MODELS, warehouse=db, vars=vars_now, target_path=dbt_target_paths["duckdb"])
    (events_after, distinct_after), = query(db, "select count(*), count(distinct event_id) from staging.stg_appsprint__events")
    assert events_after == distinct_after > events_before
    (raw_distinct,), = query(db, "select count(distinct event_id) from appsprint.events")
    assert events_after == raw_distinct

    rows = query(db, "select advertiser_id, ad_id, report_date, installs_appsprint from main.signal_campaign_daily "
                     "where installs_appsprint > 0")
    assert {(a, ad, d): n for a, ad, d, n in rows} == expected_installs(tiny_world, now)
    rows = query(db, "select advertiser_id, ad_id, report_date, revenue_appsprint, revenue_events_without_fx_rate "
                     "from main.signal_campaign_daily where revenue_appsprint <> 0 or revenue_events_without_fx_rate > 0")
    expected = {k: v for k, v in expected_revenue(tiny_world, now).items() if v[0] != 0 or v[1] > 0}
    assert {(a, ad, d): (Decimal(r), int(n)) for a, ad, d, r, n in rows} == expected
    incremental = query(db, MART_SQL)
    forwarded = query(db, "select event_id from main.events_to_forward order by event_id")

    # 4. a full refresh gives the same marts
    dbt(BUILD_MODELS + ["--full-refresh"], warehouse=db, vars=vars_now, target_path=dbt_target_paths["duckdb"])
    assert query(db, MART_SQL) == incremental
    assert query(db, "select event_id from main.events_to_forward order by event_id") == forwarded
