"""``event_delivery_ledger``: forward the eligible events of ``events_to_forward`` to TikTok's
Events API with :func:`signal_campaigns.forwarding.forward_events` (docs/decisions/0006-forwarding-rules.md).

A rejected token fails the run with the forwarder's advice and leaves every undelivered event
``pending``; other stopping errors (the Events API down beyond the retry budget, a refused
request) fail it the same way. The token is never logged: the forwarder keeps it in a header.

On the Spark target the queue is read from the Spark build into the DuckDB file first, and the
ledger's snapshot is published to the lake after the run (:mod:`signal_campaigns.forwarding.spark_queue`)."""

from typing import Any

from dagster import AssetExecutionContext, AssetKey, Failure, MaterializeResult, MetadataValue, asset

from dagster_project.defs.forwarding.resources import EventsApiResource
from dagster_project.warehouse import WAREHOUSE_POOL, WarehouseResource
from signal_campaigns.errors import ActionableError
from signal_campaigns.forwarding import ForwardingError, ForwardingSummary, forward_events
from signal_campaigns.forwarding.spark_queue import publish_ledger, stage_spark_queue

LEDGER_KEY = AssetKey(["event_delivery_ledger"])
QUEUE_KEY = AssetKey(["events_to_forward"])


def summary_metadata(summary: ForwardingSummary | None) -> dict[str, Any]:
    if summary is None:
        return {}
    return {
        "sent": summary.sent,
        "dead": summary.dead,
        "enqueued": summary.enqueued,
        "recovered_in_flight": summary.recovered_in_flight,
        "pending_total": summary.pending,
        "sent_total": summary.sent_total,
        "dead_total": summary.dead_total,
        "batches": summary.batches,
        "requests": summary.requests,
        "retries": MetadataValue.json(summary.retries),
        "dry_run": summary.dry_run,
        "seconds": round(summary.elapsed_seconds, 3),
    }


@asset(
    key=LEDGER_KEY,
    deps=[QUEUE_KEY],
    group_name="forwarding",
    pool=WAREHOUSE_POOL,
    kinds={"python", "duckdb"},
    description="One row per eligible event with its delivery status (pending, in_flight, sent, dead), "
    "written by the Events API forwarder.",
)
def event_delivery_ledger(
    context: AssetExecutionContext, events_api: EventsApiResource, warehouse: WarehouseResource
) -> MaterializeResult:
    base_url = events_api.resolved_base_url()  # a bad setting stops here, naming it
    con = warehouse.hold(context.log)  # held until the ledger is written: runs queue, not fail
    try:
        if warehouse.on_spark():  # the queue of the Spark build, into the DuckDB file's ledger
            rows = stage_spark_queue(con, lock_wait=warehouse.lock_wait_seconds, log=context.log)
            context.log.info(f"read {rows} queued events from the Spark build")
        summary = forward_events(
            con,
            base_url=base_url,
            token=events_api.token(),
            config=events_api.forwarder_config(),
            retry=events_api.retry_policy(),
            timeout=events_api.timeout_seconds,
        )
    except ActionableError as exc:  # the Spark build could not be read: nothing was sent
        raise Failure(description=f"{exc.message} {exc.fix or ''}".strip()) from None
    except ForwardingError as exc:
        if warehouse.on_spark():
            publish_ledger(con)
        con.close()
        # the run stops here, so warehouse_bi_copy will not run: publish what was recorded
        # before the stop (sent, dead, still pending) for the BI tools
        warehouse.publish(context.log)
        raise Failure(description=str(exc), metadata=summary_metadata(exc.summary)) from None
    else:
        if warehouse.on_spark():  # the ledger's snapshot for Spark's readers, in the lake
            publish_ledger(con)
    finally:
        con.close()
    context.log.info(f"forwarded: {summary.sent} sent, {summary.dead} dead, {summary.pending} pending")
    return MaterializeResult(metadata=summary_metadata(summary))
