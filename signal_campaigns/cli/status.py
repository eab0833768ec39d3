"""``status``: last syncs (dlt's load table per raw dataset), the forwarding queue and delivery
ledger (pending / in flight / sent / dead), and value-optimisation readiness per pixel."""

from __future__ import annotations

from typing import Any

from signal_campaigns.forwarding.ledger import LEDGER_TABLE, STATUSES

from .warehouse_reads import MARTS_SCHEMA, STAGING_SCHEMA, Warehouse, advertiser_scope

RAW_DATASETS = ("tiktok_ads", "appsprint")


def last_syncs(wh: Warehouse) -> list[dict[str, Any]]:
    out = []
    for dataset in RAW_DATASETS:
        if not wh.has(dataset, "_dlt_loads"):
            out.append({"dataset": dataset, "last_load_at": None, "loads": 0, "failed_loads": 0})
            continue
        row = wh.rows(
            f"select max(inserted_at) filter (where status = 0) as last_load_at, "
            f"count(*) filter (where status = 0) as loads, count(*) filter (where status <> 0) as failed "
            f"from {dataset}._dlt_loads"
        )[0]
        out.append(
            {
                "dataset": dataset,
                "last_load_at": row["last_load_at"],
                "loads": int(row["loads"] or 0),
                "failed_loads": int(row["failed"] or 0),
            }
        )
    return out


def ledger_counts(wh: Warehouse, where: str = "true", params: list[Any] | None = None) -> tuple[dict[str, int], Any]:
    """Events per delivery status (all four present) and the last ``sent_at`` of the ledger rows
    matching ``where`` (e.g. :func:`ledger_scope`); the ledger must exist."""
    counts = dict.fromkeys(STATUSES, 0)
    ledger = f"{MARTS_SCHEMA}.{LEDGER_TABLE} where {where}"
    for r in wh.rows(f"select status, count(*) as n from {ledger} group by status", params):
        counts[r["status"]] = int(r["n"])
    return counts, wh.scalar(f"select max(sent_at) from {ledger}", params)


def ledger_scope(advertisers: list[str]) -> tuple[str, list[Any]]:
    """The ledger rows of the advertisers' pixels (the ledger knows pixels, not advertisers); all for ``[]``."""
    scope, params = advertiser_scope("p.advertiser_id", advertisers)
    if not advertisers:
        return scope, params
    return (
        f"pixel_code in (select p.pixel_code from {STAGING_SCHEMA}.stg_tiktok_ads__pixels p where {scope})",
        params,
    )


def delivery(wh: Warehouse) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ledger": dict.fromkeys(STATUSES, 0),
        "last_sent_at": None,
        "queue": None,
        "not_yet_enqueued": None,
    }
    has_queue = wh.has(MARTS_SCHEMA, "events_to_forward")
    if has_queue:
        out["queue"] = int(wh.scalar(f"select count(*) from {MARTS_SCHEMA}.events_to_forward"))
    if wh.has(MARTS_SCHEMA, LEDGER_TABLE):
        out["ledger"], out["last_sent_at"] = ledger_counts(wh)
        if has_queue:
            out["not_yet_enqueued"] = int(
                wh.scalar(
                    f"select count(*) from {MARTS_SCHEMA}.events_to_forward q where not exists "
                    f"(select 1 from {MARTS_SCHEMA}.{LEDGER_TABLE} l where l.event_id = q.event_id)"
                )
            )
    elif has_queue:
        out["not_yet_enqueued"] = out["queue"]
    return out


def readiness(wh: Warehouse) -> list[dict[str, Any]]:
    if not wh.has(MARTS_SCHEMA, "value_optimization_readiness"):
        return []
    return wh.rows(
        f"select advertiser_id, pixel_code, pixel_name, max_purchases_in_7_days, threshold, best_window_start_date, "
        f"best_window_end_date, current_7_day_purchases, reached_20 from {MARTS_SCHEMA}.value_optimization_readiness "
        f"order by advertiser_id, pixel_code"
    )


def status(wh: Warehouse) -> dict[str, Any]:
    return {
        "warehouse": str(wh.path),
        "syncs": last_syncs(wh),
        "forwarding": delivery(wh),
        "value_optimization": readiness(wh),
    }
