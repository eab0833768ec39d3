"""``python -m tests.spark_run.spark_tables PARQUET``: a Spark build's queue as dbt-spark leaves it,
until the dbt project builds on Spark in these tests: the table ``<spark_schema>.queue_source``
over the Parquet file's rows, and the view ``<spark_schema>.events_to_forward`` over it (the mart is
a view). Run in its own process, which releases the Derby metastore when it ends."""

from __future__ import annotations

import sys

from signal_campaigns.warehouse.spark import spark_schema, spark_session


def main(parquet: str) -> None:
    spark = spark_session()
    spark.sparkContext.setLogLevel("ERROR")
    schema = spark_schema()
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {schema}")
    spark.sql(f"DROP VIEW IF EXISTS {schema}.events_to_forward")
    spark.sql(f"DROP TABLE IF EXISTS {schema}.queue_source")
    spark.read.parquet(parquet).write.saveAsTable(f"{schema}.queue_source")
    spark.sql(
        f"CREATE VIEW {schema}.events_to_forward COMMENT 'Eligible events, one row each.' "
        f"AS SELECT * FROM {schema}.queue_source"
    )
    print(spark.table(f"{schema}.events_to_forward").count())


if __name__ == "__main__":
    main(sys.argv[1])
