"""The same dbt build on PostgreSQL (docs/decisions/0009-portability.md): raw data loaded with dlt's postgres destination,
results identical to DuckDB and to the ground truth. Fails loudly if PostgreSQL is unavailable."""

from __future__ import annotations

from decimal import Decimal

from .conftest import pg_query, query
from .expectations import expected_installs, expected_revenue


def test_postgres_build_succeeds(built_postgres):
    run = built_postgres["run"]
    assert run.success, run.failures()
    assert sum(1 for uid in run.statuses() if uid.startswith("unit_test.")) >= 10


def test_postgres_matches_ground_truth(built_postgres, tiny_world):
    env = built_postgres["env"]
    rows = pg_query(
        env,
        "select advertiser_id, ad_id, report_date, installs_appsprint from public.signal_campaign_daily "
        "where installs_appsprint > 0",
    )
    assert {(a, ad, d): n for a, ad, d, n in rows} == expected_installs(tiny_world)
    rows = pg_query(
        env,
        "select advertiser_id, ad_id, report_date, revenue_appsprint, revenue_events_without_fx_rate "
        "from public.signal_campaign_daily where revenue_appsprint <> 0 or revenue_events_without_fx_rate > 0",
    )
    expected = {k: v for k, v in expected_revenue(tiny_world).items() if v[0] != 0 or v[1] > 0}
    assert {(a, ad, d): (Decimal(r), int(n)) for a, ad, d, r, n in rows} == expected


def _normalise(rows):
    out = []
    for row in rows:
        out.append(
            tuple(
                round(float(v), 9)
                if isinstance(v, float)
                else (Decimal(v).normalize() if isinstance(v, Decimal) else v)
                for v in row
            )
        )
    return sorted(out, key=repr)


def test_postgres_and_duckdb_agree(built_postgres, built_duckdb):
    env = built_postgres["env"]
    cols = (
        "report_date, advertiser_id, campaign_id, adgroup_id, ad_id, report_timezone, currency, spend, impressions, "
        "clicks, installs, installs_appsprint, installs_tiktok, installs_source, revenue, revenue_appsprint, "
        "revenue_tiktok, revenue_source, revenue_events_without_fx_rate, cpi, ipm, cpm, cpc, ctr, cti, roas"
    )
    pg = pg_query(env, f"select {cols} from public.signal_campaign_daily")
    dd = query(built_duckdb["db"], f"select {cols} from main.signal_campaign_daily")
    assert _normalise(pg) == _normalise(dd)
    for sql_pg, sql_dd in (
        (
            "select reason, count(*) from public.forwarding_skips group by reason",
            "select reason, count(*) from main.forwarding_skips group by reason",
        ),
        ("select count(*) from public.events_to_forward", "select count(*) from main.events_to_forward"),
        (
            "select advertiser_id, max_purchases_in_7_days, reached_20 from public.value_optimization_readiness",
            "select advertiser_id, max_purchases_in_7_days, reached_20 from main.value_optimization_readiness",
        ),
        (
            "select count(*), sum(spend), sum(installs) from public.signal_campaign_campaign_daily",
            "select count(*), sum(spend), sum(installs) from main.signal_campaign_campaign_daily",
        ),
        (
            "select count(*), sum(spend), sum(installs), sum(revenue) from public.signal_campaign_adgroup_daily",
            "select count(*), sum(spend), sum(installs), sum(revenue) from main.signal_campaign_adgroup_daily",
        ),
    ):
        assert sorted(pg_query(env, sql_pg)) == sorted(query(built_duckdb["db"], sql_dd))
    for grain in ("campaign", "adgroup", "ad"):
        window = f"signal_campaign_metrics('{grain}', date '1900-01-01', date '9999-12-31')"
        cols = "grain, advertiser_id, campaign_id, adgroup_id, ad_id, ad_days, spend, installs, installs_source, cpi"
        pg = pg_query(env, f"select {cols} from public.{window}")
        dd = query(built_duckdb["db"], f"select {cols} from main.{window}")
        assert pg and _normalise(pg) == _normalise(dd), grain


def test_postgres_public_objects_carry_comments(built_postgres):
    """persist_docs on PostgreSQL too: the marts' table and column comments, and the function's."""
    env = built_postgres["env"]
    rows = pg_query(
        env,
        """select c.relname, obj_description(c.oid, 'pg_class') is not null,
                  count(*) filter (where col_description(c.oid, a.attnum) is null)
           from pg_class c join pg_namespace n on n.oid = c.relnamespace
           join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
           where n.nspname = 'public' and c.relkind in ('r', 'v') group by c.relname, c.oid""",
    )
    got = {name: (has_comment, undocumented) for name, has_comment, undocumented in rows}
    assert {"signal_campaign_daily", "signal_campaign_campaign_daily", "signal_campaign_adgroup_daily"} <= set(got)
    assert all(v == (True, 0) for v in got.values()), got
    ((comment,),) = pg_query(
        env, "select obj_description('public.signal_campaign_metrics(text, date, date)'::regprocedure, 'pg_proc')"
    )
    assert comment and "signal_campaign_metrics(grain, start_date, end_date)" in comment
