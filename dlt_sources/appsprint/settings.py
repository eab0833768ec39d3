"""Static settings of the AppSprint source: endpoints, typed column layouts, SDK limits, paging.

Every resource is described by a :class:`ResourceSpec`: the export endpoint it reads, its key,
and its columns in load order. Each column says where its value is in the API row (a path:
``("attribution", "status")`` for a nested field) and how it is typed. The Arrow schema that dlt
loads (and therefore the DuckDB column types) is derived from these specs, so there is exactly one
place that says what a raw column is (docs/raw_layer.md describes the result).
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import pyarrow as pa
from dlt.common.schema.typing import TColumnSchema

from signal_campaigns.setting_checks import check_url, dlt_setting

# --- connection --------------------------------------------------------------------------------
BASE_URL_EXAMPLE = "https://<your AppSprint API host>/v1"


def checked_base_url(base_url: object) -> str:
    """``sources.appsprint.base_url`` when it is an http(s) URL; a setting error naming the key and
    its environment variable otherwise (raised when the source is created, before any request)."""
    return check_url(base_url, dlt_setting("appsprint", "base_url"), BASE_URL_EXAMPLE)


# --- paging and HTTP ---------------------------------------------------------------------------
MAX_PAGE_LIMIT = 1000  # the export API's maximum `limit`
DEFAULT_PAGE_LIMIT = 1000
DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_MAX_RETRIES = 6  # per request, for 429 / 5xx / HTML bodies / timeouts / connection errors
DEFAULT_BACKOFF_BASE_SECONDS = 0.5  # exponential: 0.5, 1, 2, 4 ... (with jitter), capped below
DEFAULT_BACKOFF_MAX_SECONDS = 30.0
# A Retry-After longer than this is not waited for: the run stops with a clear error instead.
DEFAULT_MAX_RETRY_AFTER_SECONDS = 300.0
DEFAULT_PREFETCH_PAGES = 2  # pages fetched ahead (in a thread) while the current one is typed
BULK_PAGES = 32  # pages typed together (Arrow pages concatenated; JSON bodies: one DuckDB read)
# Wire format asked of the API: Arrow IPC pages, falling back to JSON when the server answers JSON
WIRES = ("arrow", "json")
DEFAULT_WIRE = "arrow"
# Typed pages are handed to dlt as Arrow tables of about this many rows (good rows; quarantined rows
# travel in one table per such batch): dlt's per-item work (schema merge and validation, incremental,
# a Parquet row group) is then paid every ~100 pages, not every 20.
YIELD_BATCH_ROWS = 100_000

# --- SDK limits (docs/appsprint_integration.md): an event the SDK would not send is not typed --
EVENT_MAX_BYTES = 16 * 1024  # whole event, serialized
PARAMETERS_MAX_KEYS = 64
PARAMETER_KEY_MAX_CHARS = 128
PARAMETER_STRING_VALUE_MAX_CHARS = 2048

# --- types -------------------------------------------------------------------------------------
TS = pa.timestamp("us", tz="UTC")
MONEY = pa.decimal128(18, 6)
# decimal(18, 6) holds magnitudes below 10**12
MONEY_MAX_ABS = 10**12

ColumnKind = Literal["id", "string", "timestamp", "money", "double", "currency", "json"]

ARROW_TYPES: dict[str, pa.DataType] = {
    "id": pa.string(),
    "string": pa.string(),
    "timestamp": TS,
    "money": MONEY,
    "double": pa.float64(),
    "currency": pa.string(),
    "json": pa.string(),  # JSON text
}


@dataclasses.dataclass(frozen=True)
class Column:
    name: str  # column name in the raw table (already snake_case, nested paths joined with "__")
    kind: ColumnKind
    path: tuple[str, ...] = ()  # where the value is in the API row; default (name,)
    required: bool = False  # a row without a value is quarantined

    @property
    def source_path(self) -> tuple[str, ...]:
        return self.path or (self.name,)

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.kind]


@dataclasses.dataclass(frozen=True)
class ResourceSpec:
    name: str  # resource and table name
    endpoint: str  # path under /v1/apps/{app_id}/
    key: str  # primary key column
    columns: tuple[Column, ...]
    cursor: str = "updated_at"
    # "merge": one row per key, the latest updated_at wins (links, clicks, installs: attribution
    # changes). "append": one row per delivery, as served (events: a re-delivery is identical but
    # for updated_at; stg_appsprint__events keeps the latest per event_id). Appending writes the
    # rows once, where a merge writes them to a staging table first and then again.
    write_disposition: Literal["merge", "append"] = "merge"

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.arrow_type, nullable=not c.required) for c in self.columns])

    @property
    def raw_struct_type(self) -> pa.StructType:
        """How a row arrives (before typing): strings, float64 numbers, nested objects as structs.
        JSON-object columns are left out (they are serialized separately)."""
        top: dict[str, object] = {}
        for c in self.columns:
            if c.kind == "json":
                continue
            t = pa.float64() if c.kind in ("money", "double") else pa.string()
            if len(c.source_path) == 1:
                top[c.source_path[0]] = t
            else:
                top.setdefault(c.source_path[0], {})[c.source_path[1]] = t  # type: ignore[index]
        return pa.struct(
            [pa.field(k, pa.struct(list(v.items())) if isinstance(v, dict) else v) for k, v in top.items()]
        )

    @property
    def top_level_fields(self) -> frozenset[str]:
        return frozenset(c.source_path[0] for c in self.columns)

    def dlt_columns(self) -> dict[str, TColumnSchema]:
        """dlt column hints. Types come from the Arrow schema; these add what Arrow cannot say."""
        cols: dict[str, TColumnSchema] = {c.name: {"nullable": False} for c in self.columns if c.required}
        if self.write_disposition == "merge":
            # merge keeps the latest version of a key (an install whose attribution changed)
            cols.setdefault(self.cursor, {})["dedup_sort"] = "desc"
        return cols


def _col(name: str, kind: ColumnKind, *path: str, required: bool = False) -> Column:
    return Column(name=name, kind=kind, path=tuple(path), required=required)


SIGNAL_LINKS = ResourceSpec(
    name="signal_links",
    endpoint="signal-links",
    key="id",
    columns=(
        _col("id", "id", required=True),
        _col("name", "string"),
        _col("network", "string"),
        _col("url", "string"),
        _col("created_at", "timestamp"),
        _col("updated_at", "timestamp", required=True),
    ),
)

CLICKS = ResourceSpec(
    name="clicks",
    endpoint="clicks",
    key="click_id",
    columns=(
        _col("click_id", "id", required=True),
        _col("link_id", "id"),
        _col("clicked_at", "timestamp"),
        _col("ttclid", "string"),
        _col("campaign_id", "id"),
        _col("adgroup_id", "id"),
        _col("ad_id", "id"),
        _col("placement", "string"),
        _col("ip", "string"),
        _col("user_agent", "string"),
        _col("os", "string"),
        _col("updated_at", "timestamp", required=True),
    ),
)

INSTALLS = ResourceSpec(
    name="installs",
    endpoint="installs",
    key="appsprint_id",
    columns=(
        _col("appsprint_id", "id", required=True),
        _col("installed_at", "timestamp"),
        _col("platform", "string"),
        _col("app_version", "string"),
        _col("country", "string"),
        _col("ip", "string"),
        _col("user_agent", "string"),
        _col("attribution__status", "string", "attribution", "status"),
        _col("attribution__network", "string", "attribution", "network"),
        _col("attribution__match_type", "string", "attribution", "match_type"),
        _col("attribution__confidence", "double", "attribution", "confidence"),
        _col("attribution__link_id", "id", "attribution", "link_id"),
        _col("attribution__click_id", "id", "attribution", "click_id"),
        _col("updated_at", "timestamp", required=True),
    ),
)

EVENTS = ResourceSpec(
    name="events",
    endpoint="events",
    key="event_id",
    write_disposition="append",
    columns=(
        _col("event_id", "id", required=True),
        _col("appsprint_id", "id"),
        _col("event_type", "string"),
        _col("event_name", "string"),
        _col("occurred_at", "timestamp"),
        _col("received_at", "timestamp"),
        _col("revenue", "money"),
        _col("currency", "currency"),
        _col("source", "string"),
        _col("environment", "string"),
        _col("ip", "string"),
        _col("user_agent", "string"),
        _col("customer_user_id", "string"),
        _col("parameters", "json"),
        _col("updated_at", "timestamp", required=True),
    ),
)

RESOURCES: dict[str, ResourceSpec] = {s.name: s for s in (SIGNAL_LINKS, CLICKS, INSTALLS, EVENTS)}

# --- quarantine --------------------------------------------------------------------------------
QUARANTINE_TABLE = "quarantine"
QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("resource", pa.string(), nullable=False),
        pa.field("row_key", pa.string()),  # the row's id when it has one
        pa.field("reason", pa.string(), nullable=False),  # "; "-joined when several
        pa.field("raw", pa.string(), nullable=False),  # the row exactly as served, as JSON text
        pa.field("updated_at", TS),  # the row's updated_at when it could be typed
        pa.field("quarantined_at", TS, nullable=False),
    ]
)
QUARANTINE_COLUMNS: dict[str, TColumnSchema] = {
    "resource": {"nullable": False},
    "reason": {"nullable": False},
    "raw": {"nullable": False},
    "quarantined_at": {"nullable": False},
}
