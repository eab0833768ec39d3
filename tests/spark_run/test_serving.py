"""On the Spark target the BI tools, the dashboard and the CLI read the Spark build through the
DuckDB file: every public mart copied from Spark equals the build it came from (row for row, typed,
with its comments), the table macro ``signal_campaign_metrics`` answers as on the DuckDB target,
and the read-only copy for BI tools keeps its rules (storage version, comments)."""

from __future__ import annotations

import duckdb

from signal_campaigns.dashboard import write_dashboard
from signal_campaigns.warehouse import publish_read_only_copy
from signal_campaigns.warehouse.location import STORAGE_VERSION_NUMBER, storage_version_number
from signal_campaigns.warehouse.spark_serving import refresh_marts_from_spark
from tests.conftest import FIXED_ANCHOR

from .conftest import public_relations, serving_file, spark_build_of

WINDOW = "SELECT * FROM signal_campaign_metrics('campaign', DATE '2026-06-08', DATE '2026-06-14') ORDER BY ALL"


def test_the_spark_marts_are_served_from_the_duckdb_file_as_built(spark_env, built_duckdb):
    db = built_duckdb["db"]
    rows = spark_build_of(db, spark_env)
    marts = [name for name, _, _ in public_relations(db)]
    assert sorted(rows) == marts and len(marts) == 8

    path = serving_file(spark_env)
    copied = refresh_marts_from_spark(path)  # in a child process: the metastore is free afterwards
    assert sorted(t.name for t in copied) == marts

    with duckdb.connect(str(path), read_only=True) as con:
        con.execute(f"ATTACH '{db}' AS built (READ_ONLY)")
        for name in marts:
            built_cols = con.execute(
                "SELECT column_name, data_type, comment FROM duckdb_columns() WHERE database_name = 'built' "
                "AND schema_name = 'main' AND table_name = ? ORDER BY column_index",
                [name],
            ).fetchall()
            served_cols = con.execute(
                "SELECT column_name, data_type, comment FROM duckdb_columns() WHERE database_name = current_database() "
                "AND schema_name = 'main' AND table_name = ? ORDER BY column_index",
                [name],
            ).fetchall()
            assert served_cols == built_cols, name  # names, types (UTC timestamps, decimals), comments
            for a, b in (("main", "built.main"), ("built.main", "main")):
                extra = con.execute(f"SELECT count(*) FROM (FROM {a}.{name} EXCEPT ALL FROM {b}.{name})").fetchall()
                assert extra == [(0,)], (name, a)
        served = {r[0]: r[2] for r in public_relations(path)}
        assert served == {r[0]: r[2] for r in public_relations(db)}  # the table comments
        window = con.execute(WINDOW).fetchall()
        campaign = con.execute(f"SELECT campaign_name FROM ({WINDOW}) ORDER BY spend DESC LIMIT 1").fetchall()[0][0]
    with duckdb.connect(str(db), read_only=True) as con:
        assert window == con.execute(WINDOW).fetchall() and window

    copy = publish_read_only_copy(path)
    assert storage_version_number(copy) == STORAGE_VERSION_NUMBER
    page = write_dashboard(copy, spark_env / "dashboard.html", now=FIXED_ANCHOR)
    assert page.stat().st_size > 10_000 and str(campaign) in page.read_text()
