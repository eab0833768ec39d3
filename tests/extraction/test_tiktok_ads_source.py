"""The TikTok Ads dlt source against the TikTok sandbox over real HTTP, loading into DuckDB files.

Each test gets fresh sandbox servers (clock at the fixed anchor, no faults, counters at zero) and
its own warehouse and pipelines directory under ``tmp_path``.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import dlt
import duckdb
import httpx
import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from dlt_sources.tiktok_ads import (
    RequestStats,
    TikTokAuthError,
    TikTokError,
    TikTokParameterError,
    TikTokRetryExhausted,
    plan_report_days,
    split_windows,
    tiktok_ads,
)
from dlt_sources.tiktok_ads.parsing import parse_decimal, parse_int, parse_stat_day

TABLES = ("advertisers", "campaigns", "adgroups", "ads", "pixels", "ad_daily_report")
REPORT_KEY = ("advertiser_id", "ad_id", "stat_date")
FAST_RETRY = {"backoff_seconds": 0.01, "max_backoff_seconds": 0.05}


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------
def advertiser_ids(world) -> list[str]:
    return world.table("advertisers").column("advertiser_id").to_pylist()


def advertiser_by_timezone(world, timezone: str) -> str:
    for row in world.table("advertisers").to_pylist():
        if row["timezone"] == timezone:
            return row["advertiser_id"]
    raise AssertionError(f"no advertiser in {timezone}")


def sandbox_now(sandbox) -> dt.datetime:
    body = httpx.get(f"{sandbox.tiktok_url}/_sandbox/clock", timeout=10).json()
    return dt.datetime.fromisoformat(body["now"])


def control(sandbox, route: str, body: dict | None = None, method: str = "POST") -> dict:
    response = httpx.request(method, f"{sandbox.tiktok_url}/_sandbox/{route}", json=body, timeout=10)
    response.raise_for_status()
    return response.json()


def arm(sandbox, **fault: Any) -> None:
    control(sandbox, "faults", fault)


def server_requests(sandbox) -> dict[str, int]:
    return control(sandbox, "stats", method="GET")["requests"]


def make_pipeline(tmp_path: Path, name: str = "tiktok") -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=name,
        destination=dlt.destinations.duckdb(str(tmp_path / f"{name}.duckdb")),
        dataset_name="tiktok_ads",
        pipelines_dir=str(tmp_path / f"pipelines_{name}"),
    )


def make_source(
    sandbox,
    world,
    *,
    now: dt.datetime | None = None,
    ids: list[str] | None = None,
    token: str | None = None,
    **options: Any,
):
    options.setdefault("start_date", "2026-05-01")
    for key, value in FAST_RETRY.items():
        options.setdefault(key, value)
    return tiktok_ads(
        advertiser_ids=ids or advertiser_ids(world),
        access_token=token or sandbox.credentials.tiktok_access_token,
        base_url=sandbox.tiktok_api_url,
        now=(now or sandbox_now(sandbox)).isoformat(),
        **options,
    )


def rows(pipeline: dlt.Pipeline, table: str, drop: tuple[str, ...] = ("_dlt_load_id", "_dlt_id", "synced_at")):
    with (
        pipeline.sql_client() as client,
        client.execute_query(f"SELECT * FROM {client.make_qualified_table_name(table)}") as cursor,
    ):
        columns = [c[0] for c in cursor.description]
        data = cursor.fetchall()
    keep = [i for i, c in enumerate(columns) if c not in drop]
    out = [{columns[i]: record[i] for i in keep} for record in data]
    return sorted(out, key=lambda r: tuple(str(r.get(k)) for k in sorted(r)))


def report_by_key(pipeline: dlt.Pipeline) -> dict[tuple, dict]:
    out: dict[tuple, dict] = {}
    for row in rows(pipeline, "ad_daily_report"):
        key = tuple(row[k] for k in REPORT_KEY)
        assert key not in out, f"duplicate report row {key}"
        out[key] = row
    return out


def all_tables(pipeline: dlt.Pipeline) -> dict[str, list[dict]]:
    return {table: rows(pipeline, table) for table in TABLES}


def tiktok_cause(exc: BaseException) -> TikTokError | None:
    seen = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, TikTokError):
            return current
        stack.extend([current.__cause__, current.__context__, getattr(current, "exception", None)])
    return None


def full_text(exc: BaseException) -> str:
    """Every message and traceback line of the exception chain."""
    import traceback

    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def world_daily(world) -> dict[tuple, dict]:
    return {(r["advertiser_id"], r["ad_id"], r["stat_date"]): r for r in world.table("ad_daily").to_pylist()}


# --------------------------------------------------------------------------------------------------
# pure planning logic
# --------------------------------------------------------------------------------------------------
def test_plan_first_run_backfills_from_start_date():
    plan = plan_report_days(today=dt.date(2026, 6, 15), lookback_days=7, start_date=dt.date(2026, 5, 1))
    assert plan is not None
    assert (plan.start, plan.end) == (dt.date(2026, 5, 1), dt.date(2026, 6, 15))


def test_plan_next_run_repulls_lookback_and_new_days():
    plan = plan_report_days(
        today=dt.date(2026, 6, 16),
        lookback_days=7,
        last_stat_date=dt.date(2026, 6, 15),
        first_stat_date=dt.date(2026, 5, 1),
        start_date=dt.date(2026, 5, 1),
    )
    assert plan is not None
    assert (plan.start, plan.end) == (dt.date(2026, 6, 9), dt.date(2026, 6, 16))
    assert plan.days == 8  # 7 re-pulled days + the new day


def test_plan_start_date_moved_earlier_backfills_gap():
    plan = plan_report_days(
        today=dt.date(2026, 6, 16),
        lookback_days=7,
        last_stat_date=dt.date(2026, 6, 15),
        first_stat_date=dt.date(2026, 5, 1),
        start_date=dt.date(2026, 4, 1),
    )
    assert plan is not None
    assert plan.start == dt.date(2026, 4, 1)


def test_windows_are_at_most_30_days():
    windows = split_windows(dt.date(2026, 1, 1), dt.date(2026, 3, 15), 30)
    assert windows[0] == (dt.date(2026, 1, 1), dt.date(2026, 1, 30))
    assert all((b - a).days + 1 <= 30 for a, b in windows)
    assert windows[-1][1] == dt.date(2026, 3, 15)
    assert sum((b - a).days + 1 for a, b in windows) == 74


def test_value_parsing():
    assert parse_decimal("20.000") == Decimal("20.000")
    assert parse_decimal("-") is None and parse_int("-") is None
    assert parse_int("4696") == 4696 and isinstance(parse_int("4696"), int)
    assert parse_stat_day("2026-06-01 00:00:00") == dt.date(2026, 6, 1)


@pytest.mark.parametrize("lookback", [0, 29, 60])
def test_lookback_out_of_range_is_rejected(lookback):
    with pytest.raises(Exception, match="lookback_days") as info:
        tiktok_ads(advertiser_ids=["1"], access_token="x", lookback_days=lookback)
    text = str(info.value)
    assert "lookback_days" in text and "28" in text


def test_ratio_metrics_are_rejected():
    with pytest.raises(Exception, match="ratio metrics") as info:
        tiktok_ads(advertiser_ids=["1"], access_token="x", metrics=["spend", "ctr", "cpc"])
    assert "ctr" in str(info.value) and "recompute" in str(info.value)


# --------------------------------------------------------------------------------------------------
# against the sandbox
# --------------------------------------------------------------------------------------------------
def test_full_load_tables_types_and_values(sandbox, tiny_world, tmp_path):
    pipeline = make_pipeline(tmp_path)
    pipeline.run(make_source(sandbox, tiny_world))
    tables = all_tables(pipeline)
    assert {r["advertiser_id"] for r in tables["advertisers"]} == set(advertiser_ids(tiny_world))
    assert len(tables["campaigns"]) == tiny_world.table("campaigns").num_rows
    assert len(tables["adgroups"]) == tiny_world.table("adgroups").num_rows
    assert len(tables["ads"]) == tiny_world.table("ads").num_rows
    world_pixels = {r["pixel_id"]: r for r in tiny_world.table("pixels").to_pylist()}
    assert {r["pixel_id"]: (r["advertiser_id"], r["pixel_code"]) for r in tables["pixels"]} == {
        k: (v["advertiser_id"], v["pixel_code"]) for k, v in world_pixels.items()
    }

    db = duckdb.connect(str(tmp_path / "tiktok.duckdb"), read_only=True)
    types = dict(
        db.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema='tiktok_ads' AND table_name='ad_daily_report'"
        ).fetchall()
    )
    db.close()
    assert types["stat_date"] == "DATE"
    assert types["spend"] == "DECIMAL(18,6)"
    assert types["total_complete_payment_rate"] == "DECIMAL(18,6)"
    assert types["impressions"] == "BIGINT"
    assert types["ad_id"] == "VARCHAR" and types["campaign_id"] == "VARCHAR"
    assert "ctr" not in types and "cpc" not in types and "cpm" not in types
    expected = {
        "advertiser_id",
        "ad_id",
        "stat_date",
        "campaign_id",
        "campaign_name",
        "adgroup_id",
        "adgroup_name",
        "ad_name",
        "report_timezone",
        "currency",
        "spend",
        "impressions",
        "clicks",
        "conversion",
        "real_time_conversion",
        "download_start",
        "complete_payment",
        "total_complete_payment_rate",
        "on_web_subscribe",
        "total_on_web_subscribe_value",
        "start_trial",
        "user_registration",
        "page_content_view_events",
        "synced_at",
        "_day_replaced",
        "_dlt_load_id",
        "_dlt_id",
    }
    assert set(types) == expected

    # spend, impressions, clicks and real-time conversions equal the world's (they are never restated)
    truth = world_daily(tiny_world)
    report = report_by_key(pipeline)
    assert report
    for key, row in report.items():
        t = truth[key]
        assert row["spend"] == t["spend"]
        assert (row["impressions"], row["clicks"], row["real_time_conversion"]) == (
            t["impressions"],
            t["clicks"],
            t["real_time_conversion"],
        )
        assert row["currency"] and row["report_timezone"]


def test_advertisers_ahead_and_behind_utc_land_on_local_days(sandbox, tiny_world, tmp_path):
    # 22:30 UTC: already the next day in Berlin (UTC+2), still the same day in Etc/GMT+8 (UTC-8)
    sandbox.advance_clock(10.5 * 3600)
    now = sandbox_now(sandbox)
    assert now.hour == 22
    pipeline = make_pipeline(tmp_path)
    pipeline.run(make_source(sandbox, tiny_world, now=now))
    berlin = advertiser_by_timezone(tiny_world, "Europe/Berlin")
    west = advertiser_by_timezone(tiny_world, "Etc/GMT+8")
    report = report_by_key(pipeline)
    last_day = {adv: max(k[2] for k in report if k[0] == adv) for adv in (berlin, west)}
    assert last_day[berlin] == (now + dt.timedelta(hours=2)).date() == dt.date(2026, 6, 16)
    assert last_day[west] == (now - dt.timedelta(hours=8)).date() == dt.date(2026, 6, 15)
    tz = {r["advertiser_id"]: r["timezone"] for r in rows(pipeline, "advertisers")}
    truth = world_daily(tiny_world)
    for key, row in report.items():
        assert row["report_timezone"] == tz[key[0]]
        t = truth[key]  # the same local day in the world: same spend / impressions
        assert (row["spend"], row["impressions"]) == (t["spend"], t["impressions"])
    # every world row up to each advertiser's local today (and from the start date) was loaded
    expected = {k for k in truth if k[2] >= dt.date(2026, 5, 1) and k[2] <= last_day[k[0]]}
    assert set(report) == expected


def test_restated_conversions_replace_lookback_days_without_duplicates(sandbox, tiny_world, tmp_path):
    pipeline = make_pipeline(tmp_path)
    first_now = sandbox_now(sandbox)
    pipeline.run(make_source(sandbox, tiny_world, now=first_now))
    before = report_by_key(pipeline)

    sandbox.advance_clock(24 * 3600)
    stats = RequestStats()
    pipeline.run(make_source(sandbox, tiny_world, now=sandbox_now(sandbox), stats=stats))
    after = report_by_key(pipeline)  # asserts no duplicate keys

    assert set(before) <= set(after)
    new_keys = set(after) - set(before)
    assert new_keys and {k[2] for k in new_keys} == {dt.date(2026, 6, 16)}
    changed = [
        k
        for k in before
        if (before[k]["conversion"], before[k]["download_start"])
        != (after[k]["conversion"], after[k]["download_start"])
    ]
    assert changed, "the sandbox restates recent days: some conversions must have changed"
    assert all(k[2] >= dt.date(2026, 6, 9) for k in changed)
    for key in before:
        assert after[key]["real_time_conversion"] == before[key]["real_time_conversion"]
        assert after[key]["spend"] == before[key]["spend"]
        assert after[key]["impressions"] == before[key]["impressions"]
    increased = sum(after[k]["conversion"] > before[k]["conversion"] for k in changed)
    assert increased == len([k for k in changed if after[k]["conversion"] != before[k]["conversion"]])
    # the second run pulled only the lookback + the new day: one report page per advertiser
    assert stats.by_endpoint["report/integrated/get"] == len(advertiser_ids(tiny_world))
    # the rows outside the lookback kept their first load
    with pipeline.sql_client() as client:
        loads = client.execute_sql(
            "SELECT min(stat_date) FROM ad_daily_report "
            "WHERE _dlt_load_id = (SELECT max(_dlt_load_id) FROM ad_daily_report)"
        )
    assert loads is not None
    assert loads[0][0] == dt.date(2026, 6, 9)


def test_a_repulled_day_reported_empty_loses_its_stale_rows(sandbox, tiny_world, tmp_path):
    # The sandbox world has report rows up to 2026-06-18: four days later, 06-19..06-22 are
    # days TikTok reports empty. A row stored for 06-19 earlier (e.g. before TikTok withdrew
    # invalid traffic) must not survive the re-pull of that day.
    pipeline = make_pipeline(tmp_path)
    pipeline.run(make_source(sandbox, tiny_world, now=sandbox_now(sandbox)))
    advertiser = advertiser_by_timezone(tiny_world, "Europe/Berlin")
    with pipeline.sql_client() as client:
        client.execute_sql(
            f"INSERT INTO {client.make_qualified_table_name('ad_daily_report')} "
            "(advertiser_id, ad_id, stat_date, spend, report_timezone, _dlt_load_id, _dlt_id) "
            "VALUES (?, 'stale-ad', DATE '2026-06-19', 12.5, 'Europe/Berlin', 'earlier', 'stale-row')",
            advertiser,
        )
    before = report_by_key(pipeline)

    sandbox.advance_clock(4 * 24 * 3600)
    pipeline.run(make_source(sandbox, tiny_world, now=sandbox_now(sandbox)))
    after = report_by_key(pipeline)

    assert (advertiser, "stale-ad", dt.date(2026, 6, 19)) in before
    assert not [k for k in after if k[2] > dt.date(2026, 6, 18)], "empty days must stay empty"
    assert {k for k in before if k[1] != "stale-ad"} <= set(after)
    assert set(after) <= set(world_daily(tiny_world))
    # the day markers that cleared the days are never stored
    with pipeline.sql_client() as client:
        markers = client.execute_sql(
            f"SELECT count(*) FROM {client.make_qualified_table_name('ad_daily_report')} "
            "WHERE _day_replaced IS NOT NULL OR ad_id = '(day marker)'"
        )
    assert markers is not None
    assert markers[0][0] == 0


def test_run_killed_midway_then_rerun_equals_one_clean_run(sandbox, tiny_world, tmp_path):
    # reference: a clean first sync then a clean daily sync, in its own warehouse
    clean = make_pipeline(tmp_path, "clean")
    crashy = make_pipeline(tmp_path, "crashy")
    first_now = sandbox_now(sandbox)
    clean.run(make_source(sandbox, tiny_world, now=first_now, page_size=10))
    crashy.run(make_source(sandbox, tiny_world, now=first_now, page_size=10))

    sandbox.advance_clock(24 * 3600)
    now = sandbox_now(sandbox)
    # the crashing run: after 3 report pages TikTok starts failing for good (50000, retries exhausted)
    source = make_source(sandbox, tiny_world, now=now, page_size=10, max_attempts=2)
    pages = {"n": 0}

    def break_after_three_pages(item):
        pages["n"] += 1
        if pages["n"] == 3 * 10:
            arm(sandbox, endpoint="report/integrated/get", kind="code", code=50000, count=None)
        return item

    source.resources["ad_daily_report"].add_map(break_after_three_pages)
    with pytest.raises(PipelineStepFailed) as info:
        crashy.run(source)
    assert isinstance(tiktok_cause(info.value), TikTokRetryExhausted)
    assert pages["n"] >= 30
    control(sandbox, "faults", method="DELETE")

    # and an exception inside the extraction (e.g. the process killed) on the next try
    source = make_source(sandbox, tiny_world, now=now, page_size=10)

    def crash(item):
        if item["stat_date"] == dt.date(2026, 6, 12):
            raise RuntimeError("killed")
        return item

    source.resources["ad_daily_report"].add_map(crash)
    with pytest.raises(PipelineStepFailed):
        crashy.run(source)

    crashy.run(make_source(sandbox, tiny_world, now=now, page_size=10))
    clean.run(make_source(sandbox, tiny_world, now=now, page_size=10))
    assert all_tables(crashy) == all_tables(clean)


def test_pagination_with_small_pages_returns_every_row_once(sandbox, tiny_world, tmp_path):
    big = make_pipeline(tmp_path, "big")
    small = make_pipeline(tmp_path, "small")
    now = sandbox_now(sandbox)
    big.run(make_source(sandbox, tiny_world, now=now))
    control(sandbox, "stats/reset")
    stats = RequestStats()
    small.run(make_source(sandbox, tiny_world, now=now, page_size=3, stats=stats))
    assert stats.by_endpoint["ad/get"] > len(advertiser_ids(tiny_world))  # really paged
    assert stats.by_endpoint["report/integrated/get"] > 50
    assert server_requests(sandbox)["report/integrated/get|total"] == stats.by_endpoint["report/integrated/get"]
    assert all_tables(small) == all_tables(big)
    assert len(report_by_key(small)) == len(rows(big, "ad_daily_report"))


def test_deleted_ads_and_their_spend_are_loaded(sandbox, tiny_world, tmp_path):
    pipeline = make_pipeline(tmp_path)
    pipeline.run(make_source(sandbox, tiny_world))
    deleted_world = {r["ad_id"] for r in tiny_world.table("ads").to_pylist() if r["is_deleted"]}
    deleted_campaigns = {r["campaign_id"] for r in tiny_world.table("campaigns").to_pylist() if r["is_deleted"]}
    deleted_world |= {r["ad_id"] for r in tiny_world.table("ads").to_pylist() if r["campaign_id"] in deleted_campaigns}
    assert deleted_world, "the tiny world plants deleted ads"
    ads = {r["ad_id"]: r for r in rows(pipeline, "ads")}
    assert deleted_world <= set(ads)
    assert all(ads[a]["is_deleted"] for a in deleted_world)
    report = report_by_key(pipeline)
    truth = world_daily(tiny_world)
    expected_spend = sum(r["spend"] for k, r in truth.items() if k[1] in deleted_world and k in report)
    loaded_spend = sum(r["spend"] for k, r in report.items() if k[1] in deleted_world)
    assert loaded_spend > 0 and loaded_spend == expected_spend
    campaigns = {r["campaign_id"]: r for r in rows(pipeline, "campaigns")}
    assert all(campaigns[c]["is_deleted"] for c in deleted_campaigns)


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ({"kind": "code", "code": 40100, "count": 2}, "40100"),
        ({"kind": "code", "code": 40133, "count": 2}, "40133"),
        ({"kind": "code", "code": 50000, "count": 2}, "50000"),
        ({"kind": "http", "status": 502, "count": 2}, "http_502"),
        ({"kind": "timeout", "seconds": 6, "count": 1}, "ReadTimeout"),
    ],
    ids=["40100", "40133", "50000", "http502_html", "timeout"],
)
def test_transient_failures_are_retried_and_the_load_succeeds(sandbox, tiny_world, tmp_path, fault, reason):
    now = sandbox_now(sandbox)
    reference = make_pipeline(tmp_path, "reference")
    reference.run(make_source(sandbox, tiny_world, now=now))
    control(sandbox, "stats/reset")

    arm(sandbox, endpoint="report/integrated/get", **fault)
    stats = RequestStats()
    pipeline = make_pipeline(tmp_path)
    pipeline.run(make_source(sandbox, tiny_world, now=now, stats=stats, request_timeout=2.0))
    assert stats.retries == fault["count"]
    assert stats.retry_reasons[reason] == fault["count"]
    server = server_requests(sandbox)
    assert server["report/integrated/get|fault"] == fault["count"]
    assert server["report/integrated/get|ok"] == stats.by_endpoint["report/integrated/get"] - (
        0 if fault["kind"] == "timeout" else fault["count"]
    )
    assert all_tables(pipeline) == all_tables(reference)


def test_retries_are_bounded(sandbox, tiny_world, tmp_path):
    arm(sandbox, endpoint="campaign/get", kind="code", code=40100, count=None)
    stats = RequestStats()
    with pytest.raises(PipelineStepFailed) as info:
        make_pipeline(tmp_path).run(make_source(sandbox, tiny_world, stats=stats, max_attempts=3))
    error = tiktok_cause(info.value)
    assert isinstance(error, TikTokRetryExhausted) and error.attempts == 3 and error.code == 40100
    assert stats.retries == 2
    assert server_requests(sandbox)["campaign/get|fault"] == 3


def _assert_auth_failure(info, token: str, code: int, advice: str, caplog) -> None:
    error = tiktok_cause(info.value)
    assert isinstance(error, TikTokAuthError), repr(error)
    assert error.code == code
    assert advice in str(error)
    assert token not in full_text(info.value)
    assert token not in caplog.text


def test_revoked_token_fails_with_advice_and_keeps_loaded_data(sandbox, tiny_world, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    token = sandbox.credentials.tiktok_access_token
    pipeline = make_pipeline(tmp_path)
    pipeline.run(make_source(sandbox, tiny_world))
    before = all_tables(pipeline)
    state_before = pipeline.state["sources"]

    control(sandbox, "tokens/revoke", {"token": token})
    with pytest.raises(PipelineStepFailed) as info:
        pipeline.run(make_source(sandbox, tiny_world, now=sandbox_now(sandbox) + dt.timedelta(days=1)))
    _assert_auth_failure(
        info,
        token,
        40105,
        "TikTok rejected the access token (code 40105): reconnect TikTok Ads with an account "
        "that still has advertiser access",
        caplog,
    )
    assert all_tables(pipeline) == before
    assert pipeline.state["sources"] == state_before


def test_no_permission_on_an_advertiser_fails_with_advice(sandbox, tiny_world, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    ids = advertiser_ids(tiny_world)
    limited = control(sandbox, "tokens", {"kind": "marketing", "advertiser_ids": ids[:1]})["token"]
    pipeline = make_pipeline(tmp_path)
    pipeline.run(make_source(sandbox, tiny_world, ids=ids[:1], token=limited))
    before = all_tables(pipeline)
    with pytest.raises(PipelineStepFailed) as info:
        pipeline.run(make_source(sandbox, tiny_world, ids=ids, token=limited))
    _assert_auth_failure(
        info, limited, 40001, "reconnect TikTok Ads with an account that has advertiser access", caplog
    )
    assert all_tables(pipeline) == before


def test_auth_error_is_not_retried(sandbox, tiny_world, tmp_path):
    arm(sandbox, endpoint="ad/get", kind="code", code=40105, count=None)
    stats = RequestStats()
    with pytest.raises(PipelineStepFailed) as info:
        make_pipeline(tmp_path).run(make_source(sandbox, tiny_world, stats=stats))
    assert isinstance(tiktok_cause(info.value), TikTokAuthError)
    assert stats.retries == 0
    assert server_requests(sandbox)["ad/get|fault"] == 1


def test_parameter_error_names_the_parameter_and_is_not_retried(sandbox, tiny_world, tmp_path):
    stats = RequestStats()
    with pytest.raises(PipelineStepFailed) as info:
        make_pipeline(tmp_path).run(make_source(sandbox, tiny_world, metrics=["spend", "not_a_metric"], stats=stats))
    error = tiktok_cause(info.value)
    assert isinstance(error, TikTokParameterError)
    assert error.parameter == "metrics"
    assert "'metrics'" in str(error) and "not_a_metric" in str(error)
    assert stats.retries == 0
    assert stats.by_endpoint["report/integrated/get"] == 1


def test_token_never_lands_in_the_warehouse_or_pipeline_files(sandbox, tiny_world, tmp_path, monkeypatch):
    token = sandbox.credentials.tiktok_access_token
    monkeypatch.setenv("SOURCES__TIKTOK_ADS__ACCESS_TOKEN", token)
    pipeline = make_pipeline(tmp_path)
    source = tiktok_ads(
        advertiser_ids=advertiser_ids(tiny_world),
        base_url=sandbox.tiktok_api_url,
        start_date="2026-06-01",
        now=sandbox_now(sandbox).isoformat(),
    )
    pipeline.run(source)
    assert rows(pipeline, "ads")
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), f"token found in {path}"
    assert token not in repr(source) and token not in str(pipeline.last_trace)


def test_daily_sync_request_budget(sandbox, tiny_world, tmp_path):
    """One advertiser's daily sync: info 1 + campaigns 1 + adgroups 1 + ads 1 + pixels 1 + report pages."""
    adv = advertiser_ids(tiny_world)[:1]
    pipeline = make_pipeline(tmp_path)
    pipeline.run(make_source(sandbox, tiny_world, ids=adv))
    sandbox.advance_clock(24 * 3600)
    control(sandbox, "stats/reset")
    stats = RequestStats()
    pipeline.run(make_source(sandbox, tiny_world, ids=adv, stats=stats))
    assert stats.requests == 6, stats.as_dict()
    assert server_requests(sandbox)["report/integrated/get|total"] == 1
