"""The product's :class:`~signal_campaigns.pipeline.Connection` to a running sandbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import httpx

from signal_campaigns.pipeline import Connection, extract

from .runner import SandboxEndpoints


def sandbox_connection(endpoints: SandboxEndpoints, advertiser_ids: Sequence[str] | None = None) -> Connection:
    """The sandbox's connection; advertisers default to every one its token can read."""
    creds = endpoints.credentials
    if advertiser_ids is None:
        advertiser_ids = sandbox_advertiser_ids(endpoints)
    return Connection(
        endpoints.tiktok_api_url,
        creds.tiktok_access_token,
        list(advertiser_ids),
        endpoints.appsprint_api_url,
        creds.appsprint_app_id,
        creds.appsprint_export_token,
    )


HISTORY_DAYS = 40  # the sandbox worlds' history: every day of it is extracted


def extract_sandbox_world(
    endpoints: SandboxEndpoints, warehouse: Path, anchor: dt.datetime, pipelines_dir: Path | None = None
) -> dict[str, dict[str, int]]:
    """The product's dlt sources against the sandbox into ``warehouse``: the world's whole history
    up to ``anchor`` (the sandbox clock), dlt's working state in ``pipelines_dir`` (default:
    ``pipelines/`` beside the warehouse, as in Dagster). Returns the rows loaded per table."""
    return extract(
        sandbox_connection(endpoints),
        warehouse=warehouse,
        pipelines_dir=pipelines_dir or warehouse.parent / "pipelines",
        now=anchor,
        start_date=(anchor - dt.timedelta(days=HISTORY_DAYS)).date(),
    )


def sandbox_advertiser_ids(endpoints: SandboxEndpoints) -> list[str]:
    """Every advertiser the sandbox token can read (``oauth2/advertiser/get/``, as after OAuth)."""
    creds = endpoints.credentials
    body = httpx.get(
        f"{endpoints.tiktok_api_url}/oauth2/advertiser/get/",
        params={"app_id": creds.tiktok_app_id, "secret": creds.tiktok_app_secret},
        headers={"Access-Token": creds.tiktok_access_token},
        timeout=30,
    ).json()
    if body.get("code") != 0:
        raise RuntimeError(f"the sandbox refused oauth2/advertiser/get/: code {body.get('code')}")
    return [row["advertiser_id"] for row in body["data"]["list"]]
