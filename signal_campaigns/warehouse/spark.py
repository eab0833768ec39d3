"""The Spark target (docs/targets.md): the lake the raw layer lands in, dlt's filesystem destination
that writes it, and the one set of settings of the Spark session that dbt-spark and the forwarder open.

- :func:`selected_target`: which target the pipeline runs on, env ``SIGNAL_DBT_TARGET`` (``duckdb``
  by default, ``postgres`` or ``spark``).
- :func:`lake_path`: the lake folder, env ``SIGNAL_LAKE_PATH`` (default ``data/lake``); one folder per
  dataset (``appsprint``, ``tiktok_ads``), one per table inside it, Parquet files named by dlt's load.
- :func:`lake_destination`: dlt's filesystem destination for that folder (a local folder here; an
  ``s3://``/``abfss://``/``gs://`` URL in production, given as ``SIGNAL_LAKE_PATH``).
- :func:`spark_schema`: the Spark database of the public marts, env ``SIGNAL_SPARK_SCHEMA`` (default
  ``signal_campaigns``); the raw layer is in the databases ``appsprint`` and ``tiktok_ads``, the
  other models in ``staging``, ``intermediate`` and ``reference`` (as on the other targets).
- :func:`spark_settings`: the session's configuration: master (env ``SIGNAL_SPARK_MASTER``, default
  ``local[2]``), UTC session time zone, the Hive metastore and table folder under ``SIGNAL_SPARK_DIR``
  (default ``data/spark``).
- :func:`spark_dbt_vars`: the dbt vars of the ``spark`` target (``lake_path``, ``spark_schema``,
  ``spark_settings``), which :func:`signal_campaigns.warehouse.run_dbt` passes.
- :func:`spark_session`: a session with those settings (PySpark is imported only here, and only
  installed by ``make spark-setup``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from signal_campaigns.errors import ActionableError

from .location import REPO_ROOT

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

TARGET_ENV: Final = "SIGNAL_DBT_TARGET"
TARGETS: Final = ("duckdb", "postgres", "spark")
LAKE_ENV: Final = "SIGNAL_LAKE_PATH"
DEFAULT_LAKE: Final = Path("data") / "lake"
SPARK_DIR_ENV: Final = "SIGNAL_SPARK_DIR"
DEFAULT_SPARK_DIR: Final = Path("data") / "spark"
SPARK_SCHEMA_ENV: Final = "SIGNAL_SPARK_SCHEMA"
DEFAULT_SPARK_SCHEMA: Final = "signal_campaigns"
SPARK_MASTER_ENV: Final = "SIGNAL_SPARK_MASTER"
DEFAULT_SPARK_MASTER: Final = "local[2]"
# the layout of dlt's files in the lake: <dataset>/<table>/<load id>.<file id>.parquet, so that each
# table is one folder Spark reads as one Parquet table
LAKE_LAYOUT: Final = "{table_name}/{load_id}.{file_id}.{ext}"
INSTALL_FIX: Final = "Install the Spark target's extras with `make spark-setup` (Java 17 and PySpark)."


def selected_target() -> str:
    """The pipeline's target: env ``SIGNAL_DBT_TARGET``, default ``duckdb``. An unknown name is refused
    with the variable named."""
    target = (os.environ.get(TARGET_ENV) or "duckdb").strip().lower()
    if target not in TARGETS:
        raise ActionableError(
            f"{TARGET_ENV}={target!r} is not a target this pipeline knows.",
            fix=f"Set {TARGET_ENV} to one of {', '.join(TARGETS)} (docs/targets.md), or unset it for DuckDB.",
        )
    return target


def _resolved(raw: str | os.PathLike[str]) -> Path:
    path = Path(raw)
    return path if path.is_absolute() else (REPO_ROOT / path).resolve()


def lake_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The lake folder: ``path``, else env ``SIGNAL_LAKE_PATH``, else ``data/lake``; relative paths are
    resolved against the repository root."""
    return _resolved(path if path is not None else (os.environ.get(LAKE_ENV) or DEFAULT_LAKE))


def spark_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """Where the local Spark session keeps its Hive metastore (Derby) and managed tables."""
    return _resolved(path if path is not None else (os.environ.get(SPARK_DIR_ENV) or DEFAULT_SPARK_DIR))


def lake_destination(path: str | os.PathLike[str] | None = None) -> Any:
    """dlt's filesystem destination writing the lake (:func:`lake_path`) in :data:`LAKE_LAYOUT`.
    Load with ``loader_file_format="parquet"``: Spark reads Parquet natively, with no extra jar."""
    import dlt  # noqa: PLC0415 - dlt's import costs ~1 s; the CLI imports this module for its paths

    folder = lake_path(path)
    folder.mkdir(parents=True, exist_ok=True)
    return dlt.destinations.filesystem(bucket_url=folder.as_uri(), layout=LAKE_LAYOUT)


def spark_schema() -> str:
    """The Spark database (schema) of the public marts and the forwarding queue."""
    return os.environ.get(SPARK_SCHEMA_ENV) or DEFAULT_SPARK_SCHEMA


def spark_settings(directory: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """The Spark session's configuration, the same for dbt-spark (``dbt/profiles.yml`` target
    ``spark``) and for the forwarder. Timestamps are UTC; the metastore is a Derby database under
    :func:`spark_dir`, which one process at a time opens (like the DuckDB warehouse, one writer)."""
    home = spark_dir(directory)
    return {
        "spark.master": os.environ.get(SPARK_MASTER_ENV) or DEFAULT_SPARK_MASTER,
        "spark.app.name": "signal_campaigns",
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        "spark.sql.warehouse.dir": str(home / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={home / 'metastore_db'};create=true",
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={home}",
        "spark.sql.shuffle.partitions": "4",
        # dbt-spark runs every session with ANSI mode off (Spark 3 semantics: a bad cast gives NULL, not
        # an error): the forwarder reads the marts with the same semantics dbt built them with
        "spark.sql.ansi.enabled": "false",
        # errors only in the log (Spark warns, e.g., on every cast to varchar), no progress bars
        "spark.log.level": "ERROR",
        "spark.ui.showConsoleProgress": "false",
    }


def spark_dbt_vars(lake: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The dbt vars the ``spark`` output of ``dbt/profiles.yml`` and the hook ``register_lake_sources``
    (``dbt/macros/lake_sources.sql``) read: the lake folder, the marts' database and
    :func:`spark_settings` (absolute paths, so dbt sees what Python sees from any directory)."""
    return {"lake_path": str(lake_path(lake)), "spark_schema": spark_schema(), "spark_settings": spark_settings()}


def spark_session(directory: str | os.PathLike[str] | None = None) -> SparkSession:
    """A Spark session with :func:`spark_settings` and Hive support (tables outlive the session).
    Refused with what to do when PySpark or Java is missing."""
    try:
        from pyspark.sql import SparkSession  # noqa: PLC0415 - only the Spark target installs PySpark
    except ImportError as exc:
        raise ActionableError("PySpark is not installed in this virtualenv.", fix=INSTALL_FIX) from exc
    spark_dir(directory).mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder
    for key, value in spark_settings(directory).items():
        builder = builder.config(key, value)
    try:
        return builder.enableHiveSupport().getOrCreate()
    except Exception as exc:  # pyspark raises its own error types when the JVM cannot start
        if "JAVA" in str(exc).upper():
            raise ActionableError(f"Spark could not start its JVM: {exc}", fix=INSTALL_FIX) from exc
        raise
