"""The warehouse's public contract: the target schema holds exactly the public relations (the
forwarder's internals are in the schema `forwarding`), every public column is described in dbt and
carries that description as a comment in DuckDB, `dbt docs generate` shows the ledger and every
public mart, and every public object works from a plain DuckDB client on a copy of the file under
another name (the BI copy)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from .conftest import dbt

PUBLIC_MARTS = (
    "signal_campaign_daily",
    "signal_campaign_adgroup_daily",
    "signal_campaign_campaign_daily",
    "events_to_forward",
    "forwarding_skips",
    "value_optimization_readiness",
    "attribution_reconciliation",
    "event_mapping_coverage",
)
LEDGER = "event_delivery_ledger"
PUBLIC_RELATIONS = {*PUBLIC_MARTS, LEDGER}
LEDGER_SOURCE = "source.signal_campaigns.forwarding.event_delivery_ledger"


def normalised(text: str | None) -> str:
    return " ".join((text or "").split())


@pytest.fixture(scope="module")
def forwarded_warehouse(built_duckdb, tmp_path_factory) -> Path:
    """The built warehouse after the forwarder has set up its ledger and dry-run table (what a
    first forwarding run leaves, without sending)."""
    from signal_campaigns.forwarding.dry_run import DryRunTable
    from signal_campaigns.forwarding.ledger import DeliveryLedger

    db = tmp_path_factory.mktemp("contract") / "warehouse.duckdb"
    shutil.copyfile(built_duckdb["db"], db)
    with duckdb.connect(str(db)) as conn:
        ledger = DeliveryLedger(conn)
        ledger.ensure()
        ledger.enqueue('"main"."events_to_forward"')
        DryRunTable(conn).ensure()
    return db


@pytest.fixture(scope="module")
def docs(forwarded_warehouse, tmp_path_factory) -> dict[str, dict]:
    """`dbt docs generate` on the forwarded warehouse: its manifest and catalog."""
    target = tmp_path_factory.mktemp("docs_target")
    dbt(["docs", "generate"], warehouse=forwarded_warehouse, target_path=target)
    return {name: json.loads((target / f"{name}.json").read_text()) for name in ("manifest", "catalog")}


def warehouse_columns(db: Path) -> dict[str, dict[str, str | None]]:
    """``{relation: {column: comment}}`` of the target schema, views and tables."""
    out: dict[str, dict[str, str | None]] = {}
    with duckdb.connect(str(db), read_only=True) as con:
        for table, column, comment in con.execute(
            "select table_name, column_name, comment from duckdb_columns() "
            "where schema_name = 'main' and database_name = current_database()"
        ).fetchall():
            out.setdefault(table, {})[column] = comment
    return out


def relation_comments(db: Path) -> dict[str, str | None]:
    with duckdb.connect(str(db), read_only=True) as con:
        return dict(
            con.execute(
                "select table_name, comment from duckdb_tables() where schema_name = 'main' "
                "and database_name = current_database() union all "
                "select view_name, comment from duckdb_views() where schema_name = 'main' and not internal "
                "and database_name = current_database()"
            ).fetchall()
        )


def manifest_entry(manifest: dict, relation: str) -> dict:
    if relation == LEDGER:
        return manifest["sources"][LEDGER_SOURCE]
    return manifest["nodes"][f"model.signal_campaigns.{relation}"]


def test_the_target_schema_holds_exactly_the_public_relations(forwarded_warehouse):
    with duckdb.connect(str(forwarded_warehouse), read_only=True) as con:
        by_schema: dict[str, set[str]] = {}
        for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables where table_catalog = current_database()"
        ).fetchall():
            by_schema.setdefault(schema, set()).add(name)
        macros = {
            name
            for (name,) in con.execute(
                "select function_name from duckdb_functions() where schema_name = 'main' "
                "and database_name = current_database() and function_type = 'table_macro'"
            ).fetchall()
        }
    assert by_schema["main"] == PUBLIC_RELATIONS
    assert by_schema["forwarding"] == {
        "event_delivery_ledger_folded",
        "event_delivery_journal",
        "event_payloads_dry_run",
    }
    assert macros == {"signal_campaign_metrics"}


def test_every_public_column_is_documented_in_dbt_and_in_the_warehouse(forwarded_warehouse, docs):
    """Each column of each public relation has a dbt description, and the warehouse carries it as
    the column's comment; each relation has its description as its comment."""
    manifest = docs["manifest"]
    columns = warehouse_columns(forwarded_warehouse)
    tables = relation_comments(forwarded_warehouse)
    problems: list[str] = []
    for relation in sorted(PUBLIC_RELATIONS):
        entry = manifest_entry(manifest, relation)
        described = {name: normalised(c.get("description")) for name, c in entry["columns"].items()}
        if not normalised(entry.get("description")):
            problems.append(f"{relation}: no dbt description")
        if normalised(tables.get(relation)) != normalised(entry.get("description")):
            problems.append(f"{relation}: its warehouse comment is not its dbt description")
        for column, comment in columns[relation].items():
            if not described.get(column):
                problems.append(f"{relation}.{column}: no dbt description")
            elif normalised(comment) != described[column]:
                problems.append(f"{relation}.{column}: warehouse comment {comment!r} is not its dbt description")
        for column in set(described) - set(columns[relation]):
            problems.append(f"{relation}.{column}: described in dbt but not in the warehouse")
    assert not problems, "\n".join(problems)


def test_dbt_docs_list_the_ledger_and_every_public_mart_with_descriptions(docs):
    manifest, catalog = docs["manifest"], docs["catalog"]
    assert LEDGER_SOURCE in catalog["sources"], "dbt docs generate did not find the ledger view"
    assert set(catalog["sources"][LEDGER_SOURCE]["columns"]) == set(manifest["sources"][LEDGER_SOURCE]["columns"])
    for mart in PUBLIC_MARTS:
        uid = f"model.signal_campaigns.{mart}"
        assert uid in catalog["nodes"], mart
        assert normalised(catalog["nodes"][uid]["metadata"]["comment"]), mart
        assert normalised(manifest["nodes"][uid]["description"]), mart
    macro = manifest["macros"]["macro.signal_campaigns.create_signal_campaign_metrics_function"]
    assert "signal_campaign_metrics(grain, start_date, end_date)" in macro["description"]


@pytest.mark.parametrize("how", ["opened", "attached"])
def test_every_public_object_works_on_a_copy_under_another_name(forwarded_warehouse, tmp_path, how):
    """The BI copy is the same file under another catalog name: every public relation, the ledger
    view over the internal schema, and the table function (whose body must not name a catalog)
    work on it from a plain DuckDB client, read-only."""
    copy = tmp_path / "warehouse_bi.duckdb"
    shutil.copyfile(forwarded_warehouse, copy)
    if how == "opened":
        con = duckdb.connect(str(copy), read_only=True)
    else:
        con = duckdb.connect()
        con.execute(f"attach '{copy}' as analytics (read_only)")
        con.execute("use analytics")
    with con:
        for relation in sorted(PUBLIC_RELATIONS):
            con.execute(f"select * from {relation} limit 1").fetchall()
        ((queued,),) = con.execute(f"select count(*) from {LEDGER} where status = 'pending'").fetchall()
        assert queued > 0
        ((last,),) = con.execute("select max(report_date) from signal_campaign_daily").fetchall()
        for grain in ("campaign", "adgroup", "ad"):
            rows = con.execute("select * from signal_campaign_metrics(?, ?, ?)", [grain, last, last]).fetchall()
            assert rows, grain
