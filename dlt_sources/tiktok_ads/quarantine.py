"""The ``quarantine`` table of the ``tiktok_ads`` dataset: TikTok rows that could not be typed.

A row with a value that cannot be read (a time in no form TikTok uses, a metric that is not a
finite number, an id sent as a float), a negative metric, a report day outside the window asked
for, or no id goes here with its reason and its raw JSON; the other rows of its page load
(docs/decisions/0011-hostile-input.md). Every resource of the source can feed it: it is a table
variant of each resource with its own hints (append, no key).
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import Any, cast

import dlt
import orjson
from dlt.common.schema.typing import TTableSchemaColumns
from dlt.sources import DltResource

from .parsing import BadValue

logger = logging.getLogger(__name__)

QUARANTINE_TABLE = "quarantine"
QUARANTINE_COLUMNS: dict[str, dict[str, Any]] = {
    "resource": {"data_type": "text", "nullable": False},  # the table the row was meant for
    "advertiser_id": {"data_type": "text", "nullable": True},
    "row_key": {"data_type": "text", "nullable": True},  # the row's id (report: "<ad_id>|<stat_time_day>")
    "reason": {"data_type": "text", "nullable": False},  # e.g. "negative_metric: spend='-3.000'"
    "raw": {"data_type": "text", "nullable": False},  # the row exactly as served, as JSON text
    "quarantined_at": {"data_type": "timestamp", "timezone": True, "nullable": False},
}


def resource_with_quarantine(data: Any, name: str, **hints: Any) -> DltResource:
    """The dlt resource ``name`` over ``data`` with its table ``hints``, able to send rows to the
    quarantine table (``dlt.mark.with_table_name``). The quarantine variant is created first, so it
    does not inherit the resource's keys."""
    resource: DltResource = dlt.resource(data, name=name)
    resource.apply_hints(
        table_name=QUARANTINE_TABLE,
        write_disposition="append",
        columns=cast("TTableSchemaColumns", copy.deepcopy(QUARANTINE_COLUMNS)),
        create_table_variant=True,
    )
    resource.apply_hints(**hints)
    return resource


def sort_rows(
    rows: Iterable[Any],
    shape: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    resource: str,
    advertiser_id: str,
    row_key: Callable[[dict[str, Any]], str | None],
    at: dt.datetime,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``shape`` each row: the typed rows, and the quarantine rows of those that raised
    :class:`BadValue` (or are not JSON objects)."""
    good: list[dict[str, Any]] = []
    bad: list[dict[str, Any]] = []
    for row in rows:
        try:
            if not isinstance(row, dict):
                raise BadValue("bad_row", "row", row)
            good.append(shape(row))
        except BadValue as exc:
            key = row_key(row) if isinstance(row, dict) else None
            bad.append(
                {
                    "resource": resource,
                    "advertiser_id": advertiser_id,
                    "row_key": key,
                    "reason": str(exc),
                    "raw": orjson.dumps(row, default=str).decode(),
                    "quarantined_at": at,
                }
            )
    if bad:
        logger.warning(
            "TikTok %s of advertiser %s: %d row(s) could not be typed and are in the %s table (first: %s)",
            resource,
            advertiser_id,
            len(bad),
            QUARANTINE_TABLE,
            bad[0]["reason"],
        )
    return good, bad


def with_quarantine(good: list[dict[str, Any]], bad: list[dict[str, Any]]) -> Iterable[Any]:
    """The items to yield for one page: its typed rows, then its quarantined rows."""
    if good:
        yield good
    if bad:
        yield dlt.mark.with_table_name(bad, QUARANTINE_TABLE)
