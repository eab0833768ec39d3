"""``python -m signal_campaigns.forwarding --warehouse PATH --base-url URL [--dry-run]``.

The Events API token comes from env ``TIKTOK_EVENTS_API_TOKEN`` (never from the command line).
Prints the run summary as JSON. Exit codes (docs/forwarding.md): 0 done, 2 token rejected, 3
stopped (TikTok refused or was unavailable, the warehouse file cannot be used, a setting or option
is invalid); undelivered events stay pending either way. A warehouse another process holds is
waited for (``--lock-wait``, default 300 s), and held for the whole run. Like every write to the
warehouse, a run republishes the read-only copy for BI tools (``<warehouse>_bi.duckdb``) when it
ends, also after a TikTok error, so BI sees what was sent and what is pending (``--no-bi-copy``
skips it); never from a file that could not be used.

On the Spark target (``--target spark``, default env ``SIGNAL_DBT_TARGET``) the queue is read from
the Spark build into the warehouse file first, and the ledger is published to the lake at the end
(:mod:`.spark_queue`); a Spark build that cannot be read (PySpark or Java missing, the metastore held
by another process, no queue built) stops the run with exit 3 before the ledger is touched.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import NoReturn

import duckdb

from signal_campaigns.errors import ActionableError
from signal_campaigns.setting_checks import check_url
from signal_campaigns.tiktok.api import DEFAULT_BASE_URL
from signal_campaigns.tiktok.events_api import EventsApiAuthError, ForwardingError
from signal_campaigns.tiktok.retry import RetryPolicy
from signal_campaigns.warehouse import LOCK_WAIT_SECONDS, open_for_writing, publish_read_only_copy, warehouse_error
from signal_campaigns.warehouse.spark import TARGET_ENV, TARGETS, selected_target

from .forwarder import ForwarderConfig, events_api_token, forward_events
from .spark_queue import publish_ledger, stage_spark_queue

EXIT_DONE, EXIT_TOKEN_REJECTED, EXIT_STOPPED = 0, 2, 3
log = logging.getLogger("signal_campaigns.forwarding")


class _Parser(argparse.ArgumentParser):
    """A usage error exits 3 (stopped), keeping 2 for a rejected token only."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_STOPPED, f"{self.prog}: error: {message}\n")


def stopped(error: ActionableError) -> int:
    """Say what stopped the run, where, and what to do (no traceback); the exit code of a stop."""
    sys.stderr.write(f"forwarding stopped: {error.message}\n")
    if error.fix:
        sys.stderr.write(f"what to do: {error.fix}\n")
    return EXIT_STOPPED


def main(argv: list[str] | None = None) -> int:
    p = _Parser(prog="python -m signal_campaigns.forwarding", description=__doc__.splitlines()[0])
    p.add_argument("--warehouse", required=True, help="DuckDB warehouse file")
    p.add_argument("--base-url", default=None, help="TikTok Business API base (…/open_api/v1.3 optional)")
    p.add_argument("--dry-run", action="store_true", help="write payloads to event_payloads_dry_run, send nothing")
    p.add_argument("--queue-table", default="events_to_forward")
    p.add_argument("--queue-schema", default=None)
    p.add_argument("--ledger-schema", default=None)
    p.add_argument("--batch-size", type=int, default=1000)
    p.add_argument("--max-events", type=int, default=None)
    p.add_argument("--test-event-code", default=None)
    p.add_argument(
        "--fold-every-batches",
        type=int,
        default=ForwarderConfig.fold_every_batches,
        help="fold the ledger journal into the ledger table this often (and at the end)",
    )
    p.add_argument(
        "--build-inline",
        action="store_true",
        help="build payloads on the main thread (default: the next batch's on a thread while one is posted)",
    )
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("--max-attempts", type=int, default=8)
    p.add_argument("--base-delay", type=float, default=0.5)
    p.add_argument("--log-level", default="INFO")
    p.add_argument(
        "--target", choices=TARGETS, default=None, help=f"where the queue is built (default: env {TARGET_ENV})"
    )
    p.add_argument("--no-bi-copy", action="store_true", help="do not republish the read-only copy for BI tools")
    p.add_argument(
        "--lock-wait",
        type=float,
        default=LOCK_WAIT_SECONDS,
        help="seconds to wait for another process to release the warehouse file (default %(default).0f)",
    )
    args = p.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not args.dry_run and not args.base_url:
        p.error("--base-url is required unless --dry-run")
    warehouse = Path(args.warehouse).resolve()  # relative to the working directory
    try:
        base_url = check_url(args.base_url, "--base-url", DEFAULT_BASE_URL) if args.base_url else None
        config = ForwarderConfig(
            queue_table=args.queue_table,
            queue_schema=args.queue_schema,
            ledger_schema=args.ledger_schema,
            batch_size=args.batch_size,
            dry_run=args.dry_run,
            test_event_code=args.test_event_code,
            max_events=args.max_events,
            fold_every_batches=args.fold_every_batches,
            build_in_background=not args.build_inline,
        )
        retry = RetryPolicy(max_attempts=args.max_attempts, base_delay=args.base_delay)
        spark = (args.target or selected_target()) == "spark"
        # held for the whole run: nothing can take the file between the wait and the writes
        con = open_for_writing(warehouse, create=spark, timeout=args.lock_wait, log=log)
    except ActionableError as exc:  # an invalid setting, a warehouse file that cannot be used
        return stopped(exc)
    if spark:
        try:
            rows = stage_spark_queue(con, lock_wait=args.lock_wait, log=log)
            log.info(f"read {rows} queued events from the Spark build")
        except ActionableError as exc:  # PySpark or Java missing, the metastore held, no queue built
            con.close()
            return stopped(exc)
        except duckdb.Error as exc:  # the warehouse file would not take the queue
            con.close()
            return stopped(warehouse_error(warehouse, exc))
    try:
        summary = forward_events(
            con, base_url=base_url, token=events_api_token(), config=config, retry=retry, timeout=args.timeout
        )
    except ForwardingError as exc:
        sys.stderr.write(f"{exc}\n")
        if exc.summary is not None:
            sys.stdout.write(json.dumps(exc.summary.to_dict(), default=str) + "\n")
        if spark:
            publish_ledger(con)
        con.close()
        if not args.no_bi_copy:
            republish(warehouse)
        return EXIT_TOKEN_REJECTED if isinstance(exc, EventsApiAuthError) else EXIT_STOPPED
    except duckdb.Error as exc:  # a file that opened but cannot be read or written (no BI copy from it)
        con.close()
        return stopped(warehouse_error(warehouse, exc))
    if spark:
        publish_ledger(con)
    con.close()
    sys.stdout.write(json.dumps(summary.to_dict(), default=str) + "\n")
    if not args.no_bi_copy:
        republish(warehouse)
    return EXIT_DONE


def republish(warehouse: Path) -> None:
    """Publish the BI copy; a failure is reported, not raised: the run's outcome is in the ledger."""
    try:
        target = publish_read_only_copy(warehouse)
    except Exception as exc:  # the copy stays as it was; the next write republishes it
        log.warning(f"the read-only copy for BI tools was not republished: {exc}")
    else:
        log.info(f"published the read-only copy for BI tools: {target}")


if __name__ == "__main__":
    sys.exit(main())
