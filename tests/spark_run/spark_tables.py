"""``python -m tests.spark_run.spark_tables SPEC.json``: relations of a Spark build, as dbt-spark
leaves them, made in seconds from a DuckDB build (tests/spark builds the real one with dbt-spark, in
its own process, which then holds the metastore; these tests need it free). ``SPEC.json`` lists
``{"name", "parquet", "view", "comment", "columns"}``: each becomes ``<spark_schema>.<name>`` over
the Parquet file's rows (a view over a table ``<spark_schema>_rows.<name>`` when ``view``, as the views
among the marts are), with its table and column comments. Prints the row count of each. Run in its own
process, which releases the Derby metastore when it ends."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from signal_campaigns.warehouse.spark import spark_schema, spark_session


def quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def main(spec_path: str) -> None:
    spark = spark_session()
    spark.sparkContext.setLogLevel("ERROR")
    schema = spark_schema()
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {schema}")
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {schema}_rows")  # the rows under the views, like staging
    for item in json.loads(Path(spec_path).read_text()):
        name = f"{schema}.{item['name']}"
        rows = f"{schema}_rows.{item['name']}" if item.get("view") else name
        columns = item.get("columns") or {}
        spark.sql(f"DROP VIEW IF EXISTS {name}")
        spark.sql(f"DROP TABLE IF EXISTS {rows}")
        frame = spark.read.parquet(item["parquet"])
        for column, text in columns.items():  # a column's comment is its field's metadata
            frame = frame.withMetadata(column, {"comment": text})
        frame.write.saveAsTable(rows)
        comment = f" COMMENT {quoted(item['comment'])}" if item.get("comment") else ""
        if item.get("view"):
            listed = ", ".join(
                f"`{c}`" + (f" COMMENT {quoted(columns[c])}" if c in columns else "") for c in frame.columns
            )
            spark.sql(f"CREATE VIEW {name} ({listed}){comment} AS SELECT * FROM {rows}")
        elif comment:
            spark.sql(f"COMMENT ON TABLE {name} IS {quoted(item['comment'])}")
        print(item["name"], spark.table(name).count())


if __name__ == "__main__":
    main(sys.argv[1])
