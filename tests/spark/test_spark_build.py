"""The same dbt project built on Spark (docs/targets.md, docs/decisions/0009-portability.md): the
tiny sandbox world landed in a lake by the product's own extraction, ``dbt build --target spark``,
and every row of every public mart equal to the DuckDB build; the queue read from that build
forwarded to the sandbox Events API with the ledger consistent; again after a second extraction
that re-pulls restated days, with a load killed midway left in the lake."""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from sandbox.chaos import check_delivery
from signal_campaigns.forwarding import forward_events
from signal_campaigns.forwarding.spark_queue import stage_spark_queue
from signal_campaigns.warehouse.spark import spark_schema, spark_settings
from tests.conftest import FIXED_ANCHOR

from .conftest import assert_marts_equal, dbt, duckdb_rows, load_raw, normalise, public_marts, spark_rows

# the first test builds on Spark (a few minutes on 2 busy cores), the last one builds again
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
PROFILES = Path(__file__).resolve().parents[2] / "dbt" / "profiles.yml"
ADVANCE = dt.timedelta(days=2)
BUILD_MODELS = ["build", "--resource-type", "seed", "--resource-type", "model"]


def test_spark_build_succeeds_with_tests(built_spark):
    run = built_spark["run"]
    assert run.success, run.failures()
    statuses = run.statuses()
    assert sum(1 for uid in statuses if uid.startswith("unit_test.")) >= 10
    assert sum(1 for uid in statuses if uid.startswith("test.")) >= 100
    assert {f"model.signal_campaigns.{m}" for m in public_marts()} <= set(statuses)


def test_dbt_session_has_the_spark_settings(built_spark):
    """dbt opened its Spark session with spark_settings(), the one set of settings the forwarder
    opens too; and the spark output's defaults (a `dbt build --target spark` by hand) agree."""
    from pyspark.sql import SparkSession

    conf = SparkSession.builder.getOrCreate().conf
    got = {key: conf.get(key) for key in spark_settings()}
    got["spark.sql.warehouse.dir"] = str(got["spark.sql.warehouse.dir"]).removeprefix("file:")
    assert got == spark_settings()

    assert profile_spark_settings() == spark_settings()


def profile_spark_settings() -> dict[str, str]:
    """The session settings of dbt/profiles.yml's spark output as dbt renders them when no var
    gives them (a `dbt build --target spark` run by hand), from this process's environment."""
    from dbt.adapters.spark.connections import SparkCredentials
    from dbt.config.profile import Profile, read_profile
    from dbt.config.renderer import ProfileRenderer
    from dbt.flags import set_from_args
    from dbt.tests.util import safe_set_invocation_context

    safe_set_invocation_context()  # env_var() reads this process's environment
    set_from_args(argparse.Namespace(), None)
    profile = Profile.from_raw_profiles(
        read_profile(str(PROFILES.parent)), "signal_campaigns", ProfileRenderer({}), target_override="spark"
    )
    assert isinstance(profile.credentials, SparkCredentials)
    return dict(profile.credentials.server_side_parameters)


def test_every_mart_row_equals_duckdb(built_spark, built_duckdb):
    assert built_spark["run"].success, built_spark["run"].failures()
    assert assert_marts_equal(built_duckdb["db"]) > 500


def test_table_function_equals_duckdb(built_spark, built_duckdb):
    for grain in ("campaign", "adgroup", "ad"):
        window = f"signal_campaign_metrics('{grain}', date '1900-01-01', date '9999-12-31')"
        spark_columns, spark = spark_rows(f"select * from {spark_schema()}.{window}")
        duck_columns, duck = duckdb_rows(built_duckdb["db"], f"select * from main.{window}")
        assert spark_columns == duck_columns
        assert spark and normalise(spark) == normalise(duck), grain


def test_the_spark_queue_is_forwarded_once_with_a_consistent_ledger(built_spark, sandbox, tmp_path):
    """The forwarder on the Spark target: the Spark build's events_to_forward read into the DuckDB
    file that keeps the ledger (in this process: dbt's session holds the metastore), sent to the
    sandbox Events API over HTTP; TikTok keeps every queued event once, the ledger has every one
    sent, and a second run sends nothing. (Before the restatement test, which moves the clock.)"""
    assert built_spark["run"].success, built_spark["run"].failures()
    _, queued = spark_rows(f"select event_id from {spark_schema()}.events_to_forward")
    ids = [row[0] for row in queued]
    serving = tmp_path / "serving.duckdb"
    with duckdb.connect(str(serving)) as con:
        assert stage_spark_queue(con, in_process=True) == len(ids) > 50

    token = sandbox.credentials.events_api_token
    first = forward_events(serving, base_url=sandbox.tiktok_url, token=token)
    assert (first.sent, first.dead) == (len(ids), 0)
    check = check_delivery(serving, sandbox, ids)
    assert check.exactly_once, check
    again = forward_events(serving, base_url=sandbox.tiktok_url, token=token)
    assert again.sent == 0


def plant_killed_load(lake: Path) -> int:
    """A load killed midway: its files are in the lake, its row in _dlt_loads never written. A copy
    of the events with a later load id, so that it would change the marts if it counted."""
    folder = lake / "appsprint" / "events"
    table = pq.read_table(sorted(folder.glob("*.parquet"))[0])
    killed = "9999999999.000001"
    column = table.schema.get_field_index("_dlt_load_id")
    table = table.set_column(column, "_dlt_load_id", [[killed] * table.num_rows])
    pq.write_table(table, folder / f"{killed}.killed.parquet")
    return table.num_rows


def test_restated_days_and_a_killed_load_still_equal_duckdb(
    built_spark, sandbox, tiny_world, raw_warehouse, tmp_path, dbt_target_paths
):
    """A second extraction two days later re-pulls the trailing report days (TikTok restated them:
    the lake then holds both versions and the days' marker rows) and brings late attributions and
    re-delivered events (more versions per key); a load killed midway left files. DuckDB merges on
    load; Spark must read the same raw layer from the lake."""
    assert built_spark["run"].success, built_spark["run"].failures()
    sandbox.advance_clock(ADVANCE.total_seconds())
    now = FIXED_ANCHOR + ADVANCE
    vars_now = {"forwarding_now": now.isoformat()}

    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(raw_warehouse["db"], db)
    shutil.copytree(raw_warehouse["pipelines_dir"], tmp_path / "pipelines")
    load_raw(sandbox, tiny_world, duckdb_path=db, pipelines_dir=tmp_path / "pipelines", now=now)
    dbt(BUILD_MODELS, warehouse=db, vars=vars_now, target_path=dbt_target_paths["duckdb"])

    load_raw(sandbox, tiny_world, lake=built_spark["lake"], pipelines_dir=built_spark["pipelines"], now=now)
    planted = plant_killed_load(built_spark["lake"])
    # the models again (the views too: they hold the forwarding clock, which moved)
    dbt(["run"], target="spark", vars=vars_now, target_path=dbt_target_paths["spark"])

    (_, [(files, kept, markers)]) = spark_rows(
        "select (select count(*) from tiktok_ads_lake.ad_daily_report), (select count(*) from tiktok_ads.ad_daily_report), "
        "(select count(*) from tiktok_ads_lake.ad_daily_report where _day_replaced)"
    )
    assert markers > 0 and files > kept + markers, "the second run must re-pull days (versions and markers in the lake)"
    (_, [(in_lake, staged)]) = spark_rows(
        "select (select count(*) from appsprint_lake.events), (select count(*) from appsprint.events)"
    )
    assert in_lake - staged >= planted, "the killed load's rows must be in the lake but not in the raw layer"
    assert assert_marts_equal(db) > 500
