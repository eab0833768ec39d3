"""Incremental correctness: late attributions, late and re-delivered events and restated TikTok days
arrive in a second load (the sandbox clock advanced); an incremental build must equal the ground
truth at the new clock and a full refresh."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from typing import Any

from tests.conftest import FIXED_ANCHOR

from .conftest import dbt, load_raw, query
from .expectations import expected_installs, expected_revenue

ADVANCE = dt.timedelta(days=2)
BUILD_MODELS = ["build", "--resource-type", "seed", "--resource-type", "model"]
MART_SQL = """select report_date, advertiser_id, ad_id, spend, installs, installs_appsprint, installs_tiktok,
                     installs_source, revenue, revenue_appsprint, revenue_tiktok, revenue_source,
                     revenue_events_without_fx_rate, cpi, ctr, roas
              from main.signal_campaign_daily order by advertiser_id, ad_id, report_date"""
READINESS_SQL = """select advertiser_id, pixel_id, max_purchases_in_7_days, best_window_end_date, current_7_day_purchases
                   from main.value_optimization_readiness order by advertiser_id, pixel_id"""


def readiness_from_forwarding_decisions(db, now: dt.datetime) -> list[tuple]:
    """value_optimization_readiness recomputed from every event's forwarding decision (the rule as
    events_to_forward applies it): Purchase events forwarded or too old, 7 advertiser-local days."""
    events = query(
        db,
        """
        select d.advertiser_id, d.pixel_id, cast(d.occurred_at at time zone a.report_timezone as date), d.occurred_at
        from intermediate.int_events__forwarding_decisions as d
        inner join staging.stg_tiktok_ads__advertisers as a on d.advertiser_id = a.advertiser_id
        where d.tiktok_event in ('Purchase', 'CompletePayment') and coalesce(d.skip_reason, 'too_old') = 'too_old'""",
    )
    daily: dict[tuple, dict[dt.date, int]] = {}
    current: dict[tuple, int] = {}
    for advertiser_id, pixel_id, day, occurred_at in events:
        days = daily.setdefault((advertiser_id, pixel_id), {})
        days[day] = days.get(day, 0) + 1
        if now - dt.timedelta(days=7) < occurred_at <= now:
            current[(advertiser_id, pixel_id)] = current.get((advertiser_id, pixel_id), 0) + 1
    expected: list[tuple[Any, Any, int, dt.date | None, int]] = []
    for (advertiser_id, pixel_id), days in daily.items():
        windows = [(sum(n for d, n in days.items() if end - dt.timedelta(days=7) < d <= end), end) for end in days]
        best, best_end = max(windows, key=lambda w: (w[0], -w[1].toordinal()))
        expected.append((advertiser_id, pixel_id, best, best_end, current.get((advertiser_id, pixel_id), 0)))
    pixels = query(db, "select advertiser_id, pixel_id from main.value_optimization_readiness")
    counted = {(a, p) for a, p, *_ in expected}
    expected += [(a, p, 0, None, 0) for a, p in pixels if (a, p) not in counted]
    return sorted(expected)


def test_incremental_build_after_late_rows(sandbox, tiny_world, raw_warehouse, tmp_path, dbt_target_paths):
    # 1. the session's first load (clock = anchor), then a first build
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(raw_warehouse["db"], db)
    pipelines_dir = tmp_path / "pipelines"
    shutil.copytree(raw_warehouse["pipelines_dir"], pipelines_dir)
    dbt(BUILD_MODELS, warehouse=db, target_path=dbt_target_paths["duckdb"])
    ((events_before,),) = query(db, "select count(*) from staging.stg_appsprint__events")

    # 2. later: the sandbox clock advances; the pipelines load only what changed
    sandbox.advance_clock(ADVANCE.total_seconds())
    now = FIXED_ANCHOR + ADVANCE
    load_raw(sandbox, tiny_world, duckdb_path=db, pipelines_dir=pipelines_dir, now=now)
    ((load_ids,),) = query(db, "select count(distinct _dlt_load_id) from appsprint.events")
    assert load_ids >= 2, "the second load must be incremental (new load ids)"

    # 3. incremental build
    vars_now = {"forwarding_now": now.isoformat()}
    dbt(BUILD_MODELS, warehouse=db, vars=vars_now, target_path=dbt_target_paths["duckdb"])
    ((events_after, distinct_after),) = query(
        db, "select count(*), count(distinct event_id) from staging.stg_appsprint__events"
    )
    assert events_after == distinct_after > events_before
    ((raw_distinct,),) = query(db, "select count(distinct event_id) from appsprint.events")
    assert events_after == raw_distinct

    rows = query(
        db,
        "select advertiser_id, ad_id, report_date, installs_appsprint from main.signal_campaign_daily "
        "where installs_appsprint > 0",
    )
    assert {(a, ad, d): n for a, ad, d, n in rows} == expected_installs(tiny_world, now)
    rows = query(
        db,
        "select advertiser_id, ad_id, report_date, revenue_appsprint, revenue_events_without_fx_rate "
        "from main.signal_campaign_daily where revenue_appsprint <> 0 or revenue_events_without_fx_rate > 0",
    )
    expected = {k: v for k, v in expected_revenue(tiny_world, now).items() if v[0] != 0 or v[1] > 0}
    assert {(a, ad, d): (Decimal(r), int(n)) for a, ad, d, r, n in rows} == expected
    incremental = query(db, MART_SQL)
    forwarded = query(db, "select event_id from main.events_to_forward order by event_id")
    # value-optimisation readiness counts exactly the Purchase events the forwarding rule lets through;
    # its device checks are judged once per event in int_appsprint__value_events, across both loads
    judged = query(
        db,
        """select d.skip_reason, v.device_skip_reason
                          from intermediate.int_appsprint__value_events as v
                          inner join intermediate.int_events__forwarding_decisions as d on v.event_id = d.event_id
                          where d.skip_reason in ('missing_ip', 'private_ip', 'missing_user_agent')
                             or coalesce(d.skip_reason, 'too_old') = 'too_old'""",
    )
    assert any(reason is not None and reason != "too_old" for reason, _ in judged), (
        "the world must plant value events that fail the device checks"
    )
    assert [(r, j) for r, j in judged if j != ("" if r in (None, "too_old") else r)] == []
    readiness = query(db, READINESS_SQL)
    assert readiness == readiness_from_forwarding_decisions(db, now)

    # 4. a full refresh gives the same marts
    dbt([*BUILD_MODELS, "--full-refresh"], warehouse=db, vars=vars_now, target_path=dbt_target_paths["duckdb"])
    assert query(db, MART_SQL) == incremental
    assert query(db, READINESS_SQL) == readiness
    assert query(db, "select event_id from main.events_to_forward order by event_id") == forwarded
