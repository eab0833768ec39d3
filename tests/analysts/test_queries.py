"""The example queries for analysts (README's "Querying" and docs/analyst_queries.md) run exactly as
printed, read-only, on the published BI copy of a demo-sized build anchored at the current hour,
and each returns rows: so their dates must be relative to today and their relations public."""

from __future__ import annotations

import re

import duckdb
import pytest

from tests.analyst_queries import MARKED, QUERY_FILES, REPO_ROOT, SQL_BLOCK, printed_queries

QUERIES = printed_queries()


def test_every_sql_example_is_marked_and_so_tested():
    for name in QUERY_FILES:
        text = (REPO_ROOT / name).read_text(encoding="utf-8")
        assert len(SQL_BLOCK.findall(text)) == len(MARKED.findall(text)), f"{name}: a ```sql block has no marker"
    assert len(QUERIES) >= 8


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_query_uses_no_fixed_date_and_no_catalog(name):
    sql = QUERIES[name]
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", sql), "a fixed date stops returning rows as days pass"
    assert not re.search(r"\b(main|warehouse|warehouse_bi)\.", sql), "unqualified public names only"


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_query_returns_rows_on_the_bi_copy(name, demo_warehouse):
    with duckdb.connect(str(demo_warehouse["bi_copy"]), read_only=True) as con:
        rows = con.execute(QUERIES[name]).fetchall()
    assert rows, f"{name} returned no rows on the demo data"
