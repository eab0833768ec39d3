"""The published BI copy as a BI tool sees it: opened read-only by an older DuckDB client (the
oldest the README promises and the newest 1.x, installed by the test), every public relation of the
target schema read in full, with the comments of the warehouse, and the README's example queries
run exactly as printed."""

from __future__ import annotations

import json

import duckdb
import pytest

from tests.analyst_queries import printed_queries

from .conftest import OLD_CLIENTS, duckdb_client, run_client

CLIENT_SCRIPT = r"""
import json, sys, duckdb
path, queries = sys.argv[1], json.loads(sys.argv[2])
con = duckdb.connect(path, read_only=True)
out = {"version": duckdb.__version__, "relations": {}, "queries": [], "comments": {}}
relations = con.execute(
    "select table_name from information_schema.tables where table_schema = current_schema() order by 1"
).fetchall()
for (name,) in relations:
    # every column converted, so every value of every row is decoded (a count alone reads none)
    out["relations"][name] = len(con.execute(f'select cast(columns(*) as varchar) from "{name}"').fetchall())
for name, comment in con.execute(
    "select table_name, comment from duckdb_tables() where database_name = current_database() and schema_name = current_schema() "
    "union all select view_name, comment from duckdb_views() where database_name = current_database() and schema_name = current_schema() and not internal"
).fetchall():
    out["comments"][name] = comment
out["column_comments"] = sorted(
    [r[0], r[1], r[2]] for r in con.execute(
        "select table_name, column_name, comment from duckdb_columns() where database_name = current_database() and schema_name = current_schema() and not internal"
    ).fetchall()
)
out["table_macros"] = sorted(r[0] for r in con.execute(
    "select distinct function_name from duckdb_functions() "
    "where database_name = current_database() and schema_name = current_schema() and function_type = 'table_macro'"
).fetchall())
for query in queries:
    rows = con.execute(query).fetchall()
    out["queries"].append({"query": query, "rows": len(rows)})
print(json.dumps(out, default=str))
"""


def main_file_view(db) -> dict:
    """What the main warehouse holds in its target schema, read by this process's DuckDB."""
    with duckdb.connect(str(db), read_only=True) as con:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = current_schema() order by 1"
            ).fetchall()
        ]
        counts = {name: con.execute(f'select count(*) from "{name}"').fetchall()[0][0] for name in names}
        comments = dict(
            con.execute(
                "select table_name, comment from duckdb_tables() where database_name = current_database() and schema_name = current_schema() "
                "union all select view_name, comment from duckdb_views() "
                "where database_name = current_database() and schema_name = current_schema() and not internal"
            ).fetchall()
        )
        column_comments = sorted(
            [r[0], r[1], r[2]]
            for r in con.execute(
                "select table_name, column_name, comment from duckdb_columns() where database_name = current_database() and schema_name = current_schema() and not internal"
            ).fetchall()
        )
    return {"relations": counts, "comments": comments, "column_comments": column_comments}


@pytest.mark.parametrize("version", OLD_CLIENTS)
def test_an_old_duckdb_client_reads_every_public_relation_and_runs_the_readme_queries(built_warehouse, version):
    python = duckdb_client(version)
    queries = list(printed_queries().values())  # the README's and docs/analyst_queries.md's, as printed
    seen = json.loads(run_client(python, CLIENT_SCRIPT, str(built_warehouse["bi"]), json.dumps(queries)))
    assert seen["version"] == version
    main = main_file_view(built_warehouse["db"])
    # the same public relations, every row of each, as on the main file
    assert seen["relations"] == main["relations"]
    assert "signal_campaign_daily" in seen["relations"] and seen["relations"]["signal_campaign_daily"] > 0
    # the comments dbt persisted on the warehouse survive the copy
    assert seen["comments"] == main["comments"]
    assert seen["column_comments"] == main["column_comments"]
    assert "signal_campaign_metrics" in seen["table_macros"]
    # the README's queries, as printed, each with rows on data that ends today
    assert [q["query"] for q in seen["queries"]] == queries
    assert all(q["rows"] > 0 for q in seen["queries"]), seen["queries"]


def test_the_table_macro_works_on_the_bi_copy_in_an_old_client(built_warehouse):
    python = duckdb_client(OLD_CLIENTS[-1])
    query = "select * from signal_campaign_metrics('campaign', current_date - 30, current_date)"
    seen = json.loads(run_client(python, CLIENT_SCRIPT, str(built_warehouse["bi"]), json.dumps([query])))
    assert seen["queries"][0]["rows"] > 0
