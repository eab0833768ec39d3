"""Load the AppSprint export API into the warehouse (dataset ``appsprint``).

    python -m dlt_sources.appsprint_pipeline              # config from .dlt/ config + secrets or env
    python -m dlt_sources.appsprint_pipeline --sandbox    # start the local sandbox and load from it

Configuration (see dlt_sources/appsprint/__init__.py): ``sources.appsprint.base_url``,
``sources.appsprint.app_id`` in ``.dlt/config.toml`` (or ``SOURCES__APPSPRINT__BASE_URL``,
``SOURCES__APPSPRINT__APP_ID``) and the export token in ``.dlt/secrets.toml`` as
``sources.appsprint.export_token`` (or ``SOURCES__APPSPRINT__EXPORT_TOKEN``). The token is never
printed. With ``--sandbox`` the sandbox servers run as child processes and their (non-secret)
sandbox credentials are used instead. The pipeline is the product's own
(:func:`signal_campaigns.pipeline.warehouse_pipeline` with the warehouse's DuckDB destination).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
from dlt.common.pipeline import LoadInfo
from dlt.sources import DltSource

from dlt_sources.appsprint import appsprint
from dlt_sources.appsprint import settings as appsprint_settings
from signal_campaigns.pipeline import raw_destination, warehouse_pipeline
from signal_campaigns.warehouse import warehouse_path

DEFAULT_WAREHOUSE = warehouse_path()  # env SIGNAL_WAREHOUSE_PATH, default data/warehouse.duckdb
DATASET = "appsprint"


def appsprint_pipeline(warehouse: Path | str = DEFAULT_WAREHOUSE, *, pipelines_dir: str | None = None) -> dlt.Pipeline:
    """The dlt pipeline that loads the ``appsprint`` dataset into a DuckDB file."""
    return warehouse_pipeline(DATASET, raw_destination(Path(warehouse)), Path(pipelines_dir) if pipelines_dir else None)


def load_appsprint(
    pipeline: dlt.Pipeline | None = None, **source_kwargs: Any
) -> tuple[dlt.Pipeline, DltSource, LoadInfo, float]:
    """Run the source once (incremental: only rows updated since the last run)."""
    pipeline = pipeline or appsprint_pipeline()
    source = appsprint(**source_kwargs)
    started = time.perf_counter()
    info = pipeline.run(source)
    elapsed = time.perf_counter() - started
    return pipeline, source, info, elapsed


@contextlib.contextmanager
def sandbox_config(seed: int, scale: str) -> Iterator[dict[str, str]]:
    """Start both sandbox servers (child processes); yields the source's arguments for AppSprint's."""
    # the sandbox is a development package, never imported by the product: only this flag needs it
    from sandbox.connection import sandbox_connection  # noqa: PLC0415
    from sandbox.runner import sandbox_processes  # noqa: PLC0415

    with sandbox_processes(seed=seed, scale=scale) as endpoints:
        connection = sandbox_connection(endpoints, advertiser_ids=[])
        print(f"AppSprint sandbox at {connection.appsprint_api_url} (seed={seed}, scale={scale})")
        yield {
            "base_url": connection.appsprint_api_url,
            "app_id": connection.appsprint_app_id,
            "export_token": connection.appsprint_export_token,
        }


def summary(pipeline: dlt.Pipeline, source: Any, elapsed: float) -> str:
    lines = [f"Loaded dataset {pipeline.dataset_name!r} in {elapsed:.1f}s"]
    with pipeline.sql_client() as client:
        for table in ("signal_links", "clicks", "installs", "events", "quarantine"):  # events: deliveries
            try:
                rows = client.execute_sql(f"SELECT count(*) FROM {client.make_qualified_table_name(table)}")
                count = rows[0][0] if rows else 0
            except Exception:  # table not created yet (nothing quarantined so far)
                count = 0
            lines.append(f"  {table:<13} {count:>10,} rows")
    for name, resource in source.resources.items():
        m = resource.custom_metrics
        if m:
            wires = ", ".join(f"{k} {v}" for k, v in sorted(m.get("pages_by_wire", {}).items())) or "none"
            lines.append(
                f"  {name}: received {m.get('rows_received', 0):,} rows in {m.get('pages', 0)} pages ({wires}), "
                f"{m.get('quarantined', 0)} quarantined, {m.get('retries', 0)} retries "
                f"(since {m.get('updated_since') or 'the beginning'})"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sandbox", action="store_true", help="start the local sandbox and load from it")
    parser.add_argument("--seed", type=int, default=7, help="sandbox seed")
    parser.add_argument("--scale", default="demo", help="sandbox scale: tiny | demo | 1m | 10m")
    parser.add_argument("--warehouse", default=str(DEFAULT_WAREHOUSE), help="DuckDB file")
    parser.add_argument("--pipelines-dir", default=None, help="dlt working directory (default ~/.dlt)")
    parser.add_argument("--page-limit", type=int, default=None, help="rows per request (max 1000)")
    parser.add_argument("--initial-updated-since", default=None, help="first run: rows updated after (ISO-8601)")
    parser.add_argument("--resources", nargs="*", default=None, help="subset of the resources")
    parser.add_argument(
        "--wire",
        choices=list(appsprint_settings.WIRES),
        default=None,
        help="page format to ask for (default arrow; JSON is read either way)",
    )
    args = parser.parse_args(argv)

    kwargs: dict[str, Any] = {}
    if args.page_limit:
        kwargs["page_limit"] = args.page_limit
    if args.initial_updated_since:
        kwargs["initial_updated_since"] = args.initial_updated_since
    if args.resources:
        kwargs["resources"] = args.resources
    if args.wire:
        kwargs["wire"] = args.wire
    pipeline = appsprint_pipeline(args.warehouse, pipelines_dir=args.pipelines_dir)
    ctx: contextlib.AbstractContextManager[dict[str, str]] = contextlib.nullcontext({})
    if args.sandbox:
        ctx = sandbox_config(args.seed, args.scale)
    with ctx as connection:
        pipeline, source, _info, elapsed = load_appsprint(pipeline, **connection, **kwargs)
    print(summary(pipeline, source, elapsed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
