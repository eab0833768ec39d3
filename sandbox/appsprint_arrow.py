"""The Arrow wire format of the AppSprint sandbox: ``Accept: application/vnd.apache.arrow.stream``
gets the same page as an Arrow IPC stream (schema per resource, typed columns, content negotiation)."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from sandbox.appsprint_render import _json_text, _ts_text
from sandbox.appsprint_resources import ResourceSpec
from sandbox.world import TABLE_SCHEMAS

# --- the Arrow wire format ---------------------------------------------------------------------
#
# ``Accept: application/vnd.apache.arrow.stream`` gets the same page as an Arrow IPC stream. Field
# types (docs/appsprint_export_api.md, "Arrow pages"): ids and strings utf8; server-written
# timestamps timestamp[ms, UTC]; ``occurred_at`` utf8 (served as received, like in JSON); revenue
# decimal128(18, 6); confidence float64; ``parameters`` utf8 holding the JSON text of the value
# served in JSON; a dotted field nests in a struct (``attribution``).

ARROW_MEDIA_TYPE = "application/vnd.apache.arrow.stream"
ARROW_TS = pa.timestamp("ms", tz="UTC")


def _arrow_type(kind: str, world_type: pa.DataType) -> pa.DataType:
    if kind == "ts":
        return ARROW_TS
    if kind in ("ts_raw", "json"):
        return pa.string()
    return world_type


@functools.cache
def arrow_schema(spec: ResourceSpec) -> pa.Schema:
    """The Arrow schema of a page of ``spec`` (the order of the JSON fields)."""
    world = TABLE_SCHEMAS[spec.table]
    top: dict[str, Any] = {}
    for api_name, column, kind in spec.fields:
        parent, _, key = api_name.rpartition(".")
        field = pa.field(key, _arrow_type(kind, world.field(column).type))
        if parent:
            top.setdefault(parent, []).append(field)
        else:
            top[key] = field
    return pa.schema([pa.field(k, pa.struct(v)) if isinstance(v, list) else v for k, v in top.items()])


def served_text_column(world: pa.Table, column: str) -> pa.ChunkedArray:
    """A ``ts_raw`` field as served: the timestamp's text, or the planted bad value as received."""
    return pc.coalesce(world[f"{column}_raw"], _ts_text(world[column]))


def served_arrow(spec: ResourceSpec, world: pa.Table, texts: dict[str, Any] | None = None) -> pa.Table:
    """World rows as served in Arrow (vectorised). ``texts``: the rows' ``ts_raw`` fields already
    rendered by :func:`served_text_column` (the index renders them once for the whole table)."""
    schema = arrow_schema(spec)
    columns: dict[str, Any] = {}
    nested: dict[str, dict[str, pa.Array]] = {}
    for api_name, column, kind in spec.fields:
        col = world[column]
        if kind == "ts":
            col = pc.cast(col, ARROW_TS, safe=False)  # truncated to the served millisecond
        elif kind == "ts_raw":
            col = texts[column] if texts and column in texts else served_text_column(world, column)
        elif kind == "json":
            ok = pc.fill_null(pc.and_(pc.starts_with(col, "{"), pc.ends_with(col, "}")), True)
            if not pc.all(ok).as_py():  # text that is not an object: JSON-string encoded, like in JSON
                col = pa.array(
                    [v if good else _json_text(v) for v, good in zip(col.to_pylist(), ok.to_pylist())], pa.string()
                )
        parent, _, key = api_name.rpartition(".")
        if parent:
            nested.setdefault(parent, {})[key] = col
        else:
            columns[key] = col
    arrays = []
    for field in schema:
        if field.name in nested:
            parts = nested[field.name]
            arrays.append(
                pa.StructArray.from_arrays([_typed(parts[f.name], f.type) for f in field.type], fields=list(field.type))
            )
        else:
            arrays.append(_typed(columns[field.name], field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _typed(col: pa.Array | pa.ChunkedArray, type_: pa.DataType) -> pa.Array:
    col = _one_chunk(col)
    return col if col.type == type_ else col.cast(type_)


def _one_chunk(col: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(col, pa.ChunkedArray):
        return col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    return col


def _arrow_row(spec: ResourceSpec, row: dict[str, Any]) -> dict[str, Any]:
    """A live row (JSON-shaped dict) with its values typed for :func:`arrow_schema`."""
    out = dict(row)
    for api_name, _, kind in spec.fields:
        if kind == "ts" and "." not in api_name and out.get(api_name) is not None:
            out[api_name] = dt.datetime.fromisoformat(out[api_name].replace("Z", "+00:00"))
    return out


def ipc_stream(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def wants_arrow(accept: str | None) -> bool:
    """Whether an ``Accept`` header prefers the Arrow stream to JSON (q-values honoured; JSON
    wins ties and is the default)."""
    if not accept:
        return False
    q_arrow = q_json = 0.0
    for part in accept.split(","):
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.lower()
        if media == ARROW_MEDIA_TYPE:
            q_arrow = max(q_arrow, q)
        elif media in ("application/json", "application/*", "*/*"):
            q_json = max(q_json, q if media == "application/json" else min(q, 0.001))
    return q_arrow > 0 and q_arrow > q_json
