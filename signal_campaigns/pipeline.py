"""The ELT steps as plain functions: extract both sources with dlt, then build the dbt models.

Used by ``make demo``, the model tests and (later) the Dagster definitions, so each step lives in
one place. Extraction writes the raw datasets ``tiktok_ads`` and ``appsprint`` (docs/raw_layer.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dlt

from dlt_sources.appsprint import appsprint, raise_for_paging_stops
from dlt_sources.appsprint import configure_pipeline as configure_appsprint_pipeline
from dlt_sources.tiktok_ads import tiktok_ads

from .warehouse import NO_JSON_ARTIFACTS, DbtRun, duckdb_destination, run_dbt
from .warehouse.spark import lake_destination, selected_target


@dataclasses.dataclass(frozen=True)
class Connection:
    """Where the two APIs are and the credentials to read them (secrets: never print this)."""

    tiktok_api_url: str
    tiktok_access_token: str
    advertiser_ids: Sequence[str]
    appsprint_api_url: str
    appsprint_app_id: str
    appsprint_export_token: str

    def dlt_environment(self) -> dict[str, str]:
        """The same connection as dlt configuration (environment variables a deployment sets)."""
        return {
            "SOURCES__TIKTOK_ADS__BASE_URL": self.tiktok_api_url,
            "SOURCES__TIKTOK_ADS__ACCESS_TOKEN": self.tiktok_access_token,
            "SOURCES__TIKTOK_ADS__ADVERTISER_IDS": json.dumps(list(self.advertiser_ids)),
            "SOURCES__APPSPRINT__BASE_URL": self.appsprint_api_url,
            "SOURCES__APPSPRINT__APP_ID": self.appsprint_app_id,
            "SOURCES__APPSPRINT__EXPORT_TOKEN": self.appsprint_export_token,
        }


def raw_destination(warehouse: Path | None = None) -> Any:
    """The dlt destination of the raw layer for the selected target (env ``SIGNAL_DBT_TARGET``,
    :func:`signal_campaigns.warehouse.spark.selected_target`): with ``spark``, the lake
    (:func:`signal_campaigns.warehouse.spark.lake_destination`, Parquet files Spark reads); else
    the DuckDB warehouse file ``warehouse`` (default :func:`signal_campaigns.warehouse.warehouse_path`)."""
    return lake_destination() if selected_target() == "spark" else duckdb_destination(warehouse)


def warehouse_pipeline(
    dataset: str, destination: Any = None, pipelines_dir: Path | None = None, suffix: str = ""
) -> dlt.Pipeline:
    """The dlt pipeline of one raw dataset (``tiktok_ads`` or ``appsprint``) into ``destination``
    (default: :func:`raw_destination`, the selected target's)."""
    if dataset not in ("tiktok_ads", "appsprint"):
        raise ValueError(f"unknown raw dataset {dataset!r}: tiktok_ads or appsprint")
    if destination is None:
        destination = raw_destination()
    where: dict[str, Any] = {"pipelines_dir": str(pipelines_dir)} if pipelines_dir else {}  # else dlt's default
    pipeline = dlt.pipeline(pipeline_name=f"{dataset}{suffix}", destination=destination, dataset_name=dataset, **where)
    # the AppSprint source's load settings are per pipeline (staging orders versions by _dlt_load_id)
    return configure_appsprint_pipeline(pipeline) if dataset == "appsprint" else pipeline


def warehouse_pipelines(
    destination: Any = None, pipelines_dir: Path | None = None, suffix: str = ""
) -> tuple[dlt.Pipeline, dlt.Pipeline]:
    """Both dlt pipelines (TikTok Ads, AppSprint), see :func:`warehouse_pipeline`."""
    return (
        warehouse_pipeline("tiktok_ads", destination, pipelines_dir, suffix),
        warehouse_pipeline("appsprint", destination, pipelines_dir, suffix),
    )


def extract(
    connection: Connection,
    *,
    warehouse: Path | None = None,
    destination: Any = None,
    pipelines_dir: Path | None = None,
    now: dt.datetime | None = None,
    start_date: dt.date | None = None,
    pipeline_suffix: str = "",
) -> dict[str, dict[str, int]]:
    """Run the TikTok Ads and AppSprint sources into ``warehouse`` (a DuckDB file), any dlt
    ``destination``, or by default the selected target's (:func:`raw_destination`: the lake with
    ``SIGNAL_DBT_TARGET=spark``). ``now`` is "today" for the TikTok report window (the sandbox clock in the
    demo and tests). Returns the rows loaded per table, per dataset."""
    if destination is None:
        destination = raw_destination(warehouse)
    tiktok_pipeline, appsprint_pipeline = warehouse_pipelines(destination, pipelines_dir, pipeline_suffix)
    # Parquet load files: DuckDB ingests them several times faster than insert files, and in the lake
    # they are the tables' files (Spark reads Parquet natively; dlt's default there is JSON lines).
    run_args: dict[str, Any] = {}
    if tiktok_pipeline.destination.destination_name in ("duckdb", "filesystem"):
        run_args["loader_file_format"] = "parquet"
    # the AppSprint source yields Arrow tables, which dlt loads as Parquet into DuckDB already
    appsprint_args = run_args if tiktok_pipeline.destination.destination_name == "filesystem" else {}
    tiktok_args: dict[str, Any] = {}
    if now is not None:
        tiktok_args["now"] = now.isoformat()
    if start_date is not None:
        tiktok_args["start_date"] = start_date.isoformat()
    tiktok_pipeline.run(
        tiktok_ads(
            advertiser_ids=list(connection.advertiser_ids),
            access_token=connection.tiktok_access_token,
            base_url=connection.tiktok_api_url,
            **tiktok_args,
        ),
        **run_args,
    )
    loaded = {"tiktok_ads": row_counts(tiktok_pipeline)}
    appsprint_pipeline.run(
        appsprint(
            base_url=connection.appsprint_api_url,
            app_id=connection.appsprint_app_id,
            export_token=connection.appsprint_export_token,
        ),
        **appsprint_args,
    )
    # paging that would never end stopped a walk: its rows are loaded by now, the error says so
    raise_for_paging_stops(appsprint_pipeline)
    loaded["appsprint"] = row_counts(appsprint_pipeline)
    return {
        dataset: {t: n for t, n in counts.items() if not t.startswith("_dlt")} for dataset, counts in loaded.items()
    }


def row_counts(pipeline: dlt.Pipeline) -> dict[str, int]:
    """Rows per table that the pipeline's last run normalised (empty before any run)."""
    trace = pipeline.last_trace
    normalize = trace.last_normalize_info if trace else None
    return dict(normalize.row_counts) if normalize else {}


def build_models(warehouse: Path | None = None, *, now: dt.datetime | None = None, **kwargs: Any) -> DbtRun:
    """``dbt build`` (seeds, models, tests) on the selected target (:func:`raw_destination`'s: with
    ``spark``, the models are built by Spark over the lake); ``now`` is the forwarding clock."""
    vars_ = {"forwarding_now": now.isoformat()} if now is not None else None
    kwargs.setdefault("target", selected_target())
    return run_dbt(["build", NO_JSON_ARTIFACTS], warehouse=warehouse, vars=vars_, **kwargs)
