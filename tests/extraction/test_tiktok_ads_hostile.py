"""The TikTok Ads source against hostile answers of the sandbox, over real HTTP (issue: hostile data).

Each case asserts the clear outcome (handled, quarantined with the reason, or stopped with a
message naming the endpoint, the advertiser and the field) and that the good rows still load:
compared with a clean sync of the same sandbox world (docs/decisions/0011-hostile-input.md).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from dlt_sources.tiktok_ads import QUARANTINE_TABLE, RequestStats, TikTokApiError
from dlt_sources.tiktok_ads.parsing import BadValue, parse_decimal, parse_stat_day, parse_tiktok_time
from tests.extraction.test_tiktok_ads_source import (
    advertiser_ids,
    all_tables,
    arm,
    make_pipeline,
    make_source,
    report_by_key,
    rows,
    sandbox_now,
    server_requests,
    tiktok_cause,
)

REPORT = "report/integrated/get"
ENTITY_ENDPOINTS = ("campaign/get", "adgroup/get", "ad/get")


def reference(sandbox, world, tmp_path, now, **options):
    pipeline = make_pipeline(tmp_path, "reference")
    pipeline.run(make_source(sandbox, world, now=now, **options))
    return pipeline


def clean_and_shaped(sandbox, world, tmp_path, shape, endpoints=(REPORT,), count=None, **options):
    """A clean sync, then the same sync while ``endpoints`` answer in ``shape`` (the next ``count``
    answers; ``None``: all): both pipelines and the second one's request counters."""
    now = sandbox_now(sandbox)
    clean = reference(sandbox, world, tmp_path, now)
    for endpoint in endpoints:
        arm(sandbox, endpoint=endpoint, kind="shape", message=shape, count=count)
    stats = RequestStats()
    pipeline = make_pipeline(tmp_path)
    pipeline.run(make_source(sandbox, world, now=now, stats=stats, **options))
    return clean, pipeline, stats


def quarantine(pipeline) -> list[dict]:
    """The quarantined rows; none while the table does not exist (it appears with its first row)."""
    if QUARANTINE_TABLE not in pipeline.default_schema.data_table_names():
        return []
    return rows(pipeline, QUARANTINE_TABLE, drop=("_dlt_load_id", "_dlt_id", "quarantined_at"))


# --------------------------------------------------------------------------------------------------
# the one time parser
# --------------------------------------------------------------------------------------------------
INSTANT = dt.datetime(2026, 6, 1, 10, 0, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "value",
    [
        "2026-06-01 10:00:00",  # TikTok's usual form, UTC
        "2026-06-01T10:00:00Z",
        "2026-06-01T12:00:00+02:00",
        int(INSTANT.timestamp()),  # unix seconds
        str(int(INSTANT.timestamp())),
        int(INSTANT.timestamp()) * 1000,  # unix milliseconds (once: "year 58369 is out of range")
        str(int(INSTANT.timestamp()) * 1000),
    ],
)
def test_every_time_form_tiktok_uses_is_read(value):
    assert parse_tiktok_time(value, "create_time") == INSTANT


@pytest.mark.parametrize("value", ["last Tuesday", "2026-13-45 25:61:00", float("nan"), 10**20, True, -5])
def test_a_time_in_no_form_names_the_field(value):
    with pytest.raises(BadValue, match="bad_timestamp: modify_time=") as info:
        parse_tiktok_time(value, "modify_time")
    assert info.value.field == "modify_time"


def test_report_days_in_every_form_land_on_the_advertiser_day():
    berlin = dt.timezone(dt.timedelta(hours=2))
    for value in ("2026-06-01 00:00:00", "2026-06-01", "2026-06-01T00:00:00", "2026-05-31T22:30:00Z"):
        assert parse_stat_day(value, berlin) == dt.date(2026, 6, 1)
    with pytest.raises(BadValue, match="bad_stat_day"):
        parse_stat_day("06/01/2026", berlin)


@pytest.mark.parametrize("value", ["NaN", "nan", "Infinity", "-inf", "12abc", True])
def test_numbers_that_are_not_finite_are_refused(value):
    with pytest.raises(BadValue, match="bad_number: spend="):
        parse_decimal(value, "spend")
    assert parse_decimal("-") is None and parse_decimal("1,234.500") == Decimal("1234.500")


# --------------------------------------------------------------------------------------------------
# handled: the same tables as a clean sync
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", ["times_ms", "times_seconds", "times_iso"])
def test_entity_times_in_any_form_load_the_same_tables(sandbox, tiny_world, tmp_path, shape):
    clean, pipeline, _ = clean_and_shaped(sandbox, tiny_world, tmp_path, shape, ENTITY_ENDPOINTS)
    assert server_requests(sandbox)["campaign/get|fault"] >= 1
    assert all_tables(pipeline) == all_tables(clean)
    assert not quarantine(pipeline)


def test_report_days_in_other_forms_load_the_same_rows(sandbox, tiny_world, tmp_path):
    clean, pipeline, _ = clean_and_shaped(sandbox, tiny_world, tmp_path, "stat_day_forms")
    assert report_by_key(pipeline) == report_by_key(clean)


def test_report_pages_without_page_info_still_load_every_row(sandbox, tiny_world, tmp_path):
    clean, pipeline, stats = clean_and_shaped(sandbox, tiny_world, tmp_path, "no_page_info", page_size=7)
    assert stats.by_endpoint[REPORT] > 2 * len(advertiser_ids(tiny_world))  # paged past page 1, and stopped
    assert all_tables(pipeline) == all_tables(clean)


# --------------------------------------------------------------------------------------------------
# one bad row: quarantined with its reason, the rest loads
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("shape", "reason"),
    [
        ("negative_spend", "negative_metric: spend='-12.500'"),
        ("bad_stat_day", "bad_stat_day: stat_time_day='"),
    ],
)
def test_a_bad_report_row_is_quarantined_and_the_rest_load(sandbox, tiny_world, tmp_path, shape, reason):
    reference_run, pipeline, _ = clean_and_shaped(sandbox, tiny_world, tmp_path, shape, count=1)  # one page
    clean = report_by_key(reference_run)

    [bad] = quarantine(pipeline)
    assert bad["resource"] == "ad_daily_report" and bad["reason"].startswith(reason)
    raw = json.loads(bad["raw"])
    ad_id, served_day = bad["row_key"].split("|")
    assert raw["dimensions"] == {"ad_id": ad_id, "stat_time_day": served_day}
    day = dt.date.fromisoformat(served_day[:10]) if shape == "negative_spend" else None
    lost = [k for k in clean if k[:2] == (bad["advertiser_id"], ad_id) and (day is None or k[2] == day)]
    report = report_by_key(pipeline)
    assert len(report) == len(clean) - 1
    assert {k: v for k, v in clean.items() if k in report} == report
    assert set(clean) - set(report) <= set(lost)
    assert all(row["spend"] >= 0 for row in report.values())


def test_an_entity_row_with_a_bad_time_is_quarantined_and_the_rest_load(sandbox, tiny_world, tmp_path):
    clean, pipeline, _ = clean_and_shaped(sandbox, tiny_world, tmp_path, "bad_time", ("campaign/get",), count=1)
    [bad] = quarantine(pipeline)
    assert (bad["resource"], bad["reason"]) == ("campaigns", "bad_timestamp: modify_time='last Tuesday'")
    assert bad["advertiser_id"] == advertiser_ids(tiny_world)[0]
    campaigns = rows(pipeline, "campaigns")
    assert campaigns == [c for c in rows(clean, "campaigns") if c["campaign_id"] != bad["row_key"]]
    assert report_by_key(pipeline) == report_by_key(clean)


# --------------------------------------------------------------------------------------------------
# shapes that cannot be handled: stop naming endpoint, advertiser and field; keep what was loaded
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("endpoint", "field"), [("campaign/get", "data.list"), (REPORT, "data.list")])
def test_an_answer_without_its_rows_stops_with_a_clear_message(sandbox, tiny_world, tmp_path, endpoint, field):
    pipeline = make_pipeline(tmp_path)
    pipeline.run(make_source(sandbox, tiny_world))
    before, state = all_tables(pipeline), pipeline.state["sources"]
    arm(sandbox, endpoint=endpoint, kind="shape", message="no_list")
    with pytest.raises(PipelineStepFailed) as info:
        pipeline.run(make_source(sandbox, tiny_world, now=sandbox_now(sandbox) + dt.timedelta(days=1)))
    error = tiktok_cause(info.value)
    assert isinstance(error, TikTokApiError), repr(error)
    message = str(error)
    assert endpoint in message and advertiser_ids(tiny_world)[0] in message and field in message
    assert "run the sync again later" in message
    assert all_tables(pipeline) == before and pipeline.state["sources"] == state


# --------------------------------------------------------------------------------------------------
# 40067: the report query is split and its parts load the same rows
# --------------------------------------------------------------------------------------------------
def test_query_too_large_is_split_into_days_and_campaigns_with_the_same_rows(sandbox, tiny_world, tmp_path):
    # a day of one advertiser has up to 6 ad rows, a day of one campaign up to 4: over 4 rows is
    # "too large", so windows are halved down to days, and the fullest days split by campaign
    clean, pipeline, stats = clean_and_shaped(sandbox, tiny_world, tmp_path, "too_large:4")
    assert stats.splits > 2 * 30  # every window down to days, then campaigns
    assert stats.by_endpoint["campaign/get"] > len(advertiser_ids(tiny_world))  # ids to split by
    assert all_tables(pipeline) == all_tables(clean)
    assert not quarantine(pipeline)


def test_query_too_large_even_for_one_day_and_one_campaign_stops_clearly(sandbox, tiny_world, tmp_path):
    pipeline = make_pipeline(tmp_path)
    pipeline.run(make_source(sandbox, tiny_world))
    before = all_tables(pipeline)
    arm(sandbox, endpoint=REPORT, kind="shape", message="too_large:0", count=None)
    stats = RequestStats()
    with pytest.raises(PipelineStepFailed) as info:
        pipeline.run(make_source(sandbox, tiny_world, now=sandbox_now(sandbox) + dt.timedelta(days=1), stats=stats))
    error = tiktok_cause(info.value)
    assert isinstance(error, TikTokApiError) and error.code == 40067
    message = str(error)
    assert advertiser_ids(tiny_world)[0] in message and "one day" in message and "campaign " in message
    assert "fewer metrics" in message and REPORT in message
    assert stats.splits < 20  # bounded: halves, not every combination
    assert all_tables(pipeline) == before
