"""Page readers: pages (parsed JSON rows, raw JSON bodies, Arrow IPC tables) -> raw Arrow columns.

They turn rows into Arrow columns without per-value Python work where they can:
:class:`DuckDBPageReader` (fast path: a batch of page bodies parsed by DuckDB's C++ JSON reader,
outside the GIL), :func:`raw_from_rows` (rows parsed by ``orjson``, converted with one C++ struct
conversion; used when DuckDB cannot read a page, and for ``bulk_parse=False``) and
:func:`raw_from_arrow` (Arrow pages, vectorised). :mod:`.rows` types what they return.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from . import settings
from .columns import Problems, RawColumns, embedded_json, json_default, json_texts, row_text, value_text


def _string_array(values: list[Any]) -> pa.Array:
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid, TypeError):
        # a number (or anything else) where a string belongs: keep its JSON text
        return pa.array([value_text(v) for v in values], pa.string())


def _number_array(values: list[Any]) -> tuple[pa.Array, np.ndarray]:
    """Python values to float64; returns (array, mask of values that are not numbers). Booleans
    are not numbers here (Arrow would read ``true`` as 1.0)."""
    if not _has_bool(values):
        try:
            return pa.array(values, pa.float64()), np.zeros(len(values), dtype=bool)
        except (pa.ArrowTypeError, pa.ArrowInvalid, TypeError):
            pass
    bad = np.zeros(len(values), dtype=bool)
    clean = []
    for i, v in enumerate(values):
        if v is None or type(v) in (int, float):  # not bool: type() is exact
            clean.append(v)
        else:
            clean.append(None)
            bad[i] = True
    return pa.array(clean, pa.float64()), bad


def _has_bool(values: list[Any]) -> bool:
    return any(type(v) is bool for v in values)


def _values(rows: list[Any], path: tuple[str, ...]) -> tuple[list[Any], np.ndarray | None]:
    """The values at ``path`` in every row; second item flags rows whose parent is not an object."""
    if len(path) == 1:
        key = path[0]
        return [r.get(key) for r in rows], None
    parent_key, key = path[0], path[1]
    parents = [r.get(parent_key) for r in rows]
    try:
        return [p.get(key) if p is not None else None for p in parents], None
    except AttributeError:
        bad = np.array([p is not None and type(p) is not dict for p in parents], dtype=bool)
        return [p.get(key) if type(p) is dict else None for p in parents], bad


# --- reader 1: rows already parsed (orjson) --------------------------------------------------------
def raw_from_rows(spec: settings.ResourceSpec, rows: Sequence[Any]) -> RawColumns:
    rows = rows if isinstance(rows, list) else list(rows)
    odd_rows: list[str] = []
    if rows and set(map(type, rows)) != {dict}:
        odd_rows = [row_text(r) for r in rows if type(r) is not dict]
        rows = [r for r in rows if type(r) is dict]
    n = len(rows)
    problems = Problems(n)

    # unknown top-level fields: the first row's keys, plus the keys of any row whose field count
    # differs from the contract's (the API sends every field, null or not)
    known = spec.top_level_fields
    unknown: set[str] = set()
    extra_field_rows = np.zeros(n, dtype=bool)
    if n:
        unknown.update(set(rows[0]) - known)
        if unknown:
            extra_field_rows[:] = True
        lens = np.fromiter(map(len, rows), dtype=np.int64, count=n)
        for i in np.nonzero(lens != len(known))[0]:
            extra = set(rows[i]) - known
            if extra:
                unknown.update(extra)
                extra_field_rows[i] = True

    columns: dict[str, pa.Array] = {}
    raw_type = spec.raw_struct_type
    try:  # fast path: one C++ conversion of the row dicts into a struct array
        struct = pa.array(rows, type=raw_type)
    except (pa.ArrowTypeError, pa.ArrowInvalid, TypeError, ValueError, AttributeError):
        struct = None
    for col in spec.columns:
        if col.kind == "json":
            key = col.source_path[0]
            dumps = orjson.dumps
            columns[col.name] = pa.array(
                [None if v is None else dumps(v) for v in (r.get(key) for r in rows)], pa.string()
            )
        elif struct is not None and not (
            col.kind in ("money", "double") and _has_bool(_values(rows, col.source_path)[0])
        ):
            arr = struct.field(raw_type.get_field_index(col.source_path[0]))
            if len(col.source_path) > 1:
                parent = arr
                arr = parent.field(parent.type.get_field_index(col.source_path[1]))
                if parent.null_count:  # a null parent makes its fields null
                    arr = pc.if_else(pc.is_valid(parent), arr, pa.scalar(None, arr.type))
            columns[col.name] = arr
        else:  # a value of an unexpected type somewhere: column by column
            values, bad_parent = _values(rows, col.source_path)
            if bad_parent is not None:
                problems.add(bad_parent, lambda i, p=col.source_path[0]: f"bad_nested: {p} is not an object")
            if col.kind in ("money", "double"):
                arr, bad_type = _number_array(values)
                reason = "bad_revenue" if col.kind == "money" else "bad_number"
                problems.add(bad_type, lambda i, c=col.name, v=values, r=reason: f"{r}: {c}={v[i]!r} is not a number")
            else:
                arr = _string_array(values)
            columns[col.name] = arr
    return RawColumns(n, columns, lambda i: row_text(rows[i]), problems, odd_rows, unknown, extra_field_rows)


# --- reader 3: Arrow pages (the Arrow wire format) -------------------------------------------------
def raw_from_arrow(spec: settings.ResourceSpec, table: pa.Table) -> RawColumns:
    """Arrow pages -> raw columns, vectorised. The server's schema is hostile input like JSON:
    a missing field is null; a number where a string belongs becomes its text; text where a number
    belongs is flagged by :func:`type_raw` (as JSON text of a string); a nested field that is not a
    struct flags its non-null rows ``bad_nested``; anything else unexpected is converted per value
    to JSON text (rare)."""
    n = table.num_rows
    problems = Problems(n)
    names = set(table.column_names)
    columns: dict[str, pa.Array] = {}
    for col in spec.columns:
        top = col.source_path[0]
        arr = _one_chunk(table.column(top)) if top in names else pa.nulls(n, pa.string())
        if len(col.source_path) > 1:
            parent = arr
            if pa.types.is_struct(parent.type):
                index = parent.type.get_field_index(col.source_path[1])
                arr = parent.field(index) if index >= 0 else pa.nulls(n, pa.string())
                if parent.null_count and index >= 0:  # a null parent makes its fields null
                    arr = pc.if_else(pc.is_valid(parent), arr, pa.scalar(None, arr.type))
            else:
                problems.add(pc.is_valid(parent), lambda i, p=top: f"bad_nested: {p} is not an object")
                arr = pa.nulls(n, pa.string())
        columns[col.name] = _arrow_raw_column(col, arr)
    unknown = names - spec.top_level_fields

    json_fields = {c.source_path[0] for c in spec.columns if c.kind == "json"}

    def row_json(i: int) -> str:
        row = table.slice(i, 1).to_pylist()[0]
        for name in json_fields & row.keys():
            row[name] = embedded_json(row[name])
        return orjson.dumps(row, default=json_default, option=orjson.OPT_PASSTHROUGH_DATETIME).decode()

    extra = np.full(n, bool(unknown), dtype=bool)
    return RawColumns(n, columns, row_json, problems, unknown_fields=set(unknown), extra_field_rows=extra)


def _one_chunk(col: Any) -> pa.Array:
    if isinstance(col, pa.ChunkedArray):
        return col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    return col


def _arrow_raw_column(col: settings.Column, arr: pa.Array) -> pa.Array:
    """One Arrow column in the form :func:`type_raw` reads (see :class:`RawColumns`)."""
    t = arr.type
    if pa.types.is_null(t):
        return pa.nulls(len(arr), pa.float64() if col.kind in ("money", "double") else pa.string())
    if pa.types.is_dictionary(t):
        arr, t = arr.dictionary_decode(), t.value_type
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        arr, t = arr.cast(pa.string()), pa.string()
    if col.kind in ("money", "double"):
        if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
            return arr
        if pa.types.is_string(t):  # text where a number belongs: flagged, like a JSON string
            return pc.binary_join_element_wise('"', arr, '"', "")
        return json_texts(arr)
    if col.kind == "timestamp":
        if pa.types.is_timestamp(t):
            return arr if t.tz is not None else arr.cast(pa.timestamp(t.unit, tz="UTC"))
        if pa.types.is_date(t):
            return arr.cast(pa.timestamp("s")).cast(pa.timestamp("s", tz="UTC"))
    if col.kind == "json" and pa.types.is_string(t):
        return arr  # the JSON text of the value, as the contract says
    if pa.types.is_string(t):
        return arr
    if pa.types.is_integer(t) or pa.types.is_boolean(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return arr.cast(pa.string())  # the value's text, like a JSON number read as a string
    return json_texts(arr)


# --- reader 2: page bodies parsed by DuckDB's JSON reader (no Python object per value) ----------
def _duck_type(col: settings.Column) -> str:
    return "JSON" if col.kind in ("money", "double", "json") else "VARCHAR"


def _tmp_base() -> str | None:
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


class DuckDBPageReader:
    """Parses a batch of raw page bodies with DuckDB's JSON reader into Arrow columns.

    The bodies are written as NDJSON lines (one page each) to a temporary file in memory
    (/dev/shm when available) and read with an explicit structure: ids and strings as VARCHAR,
    numbers and objects as JSON text. DuckDB parses in C++ without the GIL, so the next pages
    download meanwhile. Returns None when DuckDB cannot read the batch (an unexpected shape); the
    caller then types those pages one by one from ``orjson`` (which reports what is wrong)."""

    def __init__(self, spec: settings.ResourceSpec) -> None:
        # imported when a reader is made: `import dlt_sources.appsprint` (Dagster definitions, the
        # CLI) then does not pay duckdb's import, 0.07-0.37 s measured on this machine
        import duckdb  # noqa: PLC0415

        self.spec = spec
        self._duckdb = duckdb
        # one thread: the other core serves the next pages (HTTP thread) and, on one machine,
        # the API itself
        self.con = duckdb.connect(":memory:", config={"threads": 1})
        self.dir = tempfile.mkdtemp(prefix="appsprint_pages_", dir=_tmp_base())
        self.path = os.path.join(self.dir, "pages.ndjson")
        # removed on close(), or when the reader is garbage collected (a generator never closed)
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.dir, True)
        top: dict[str, Any] = {}
        select: list[str] = []
        for col in spec.columns:
            path = col.source_path
            if len(path) == 1:
                top[path[0]] = _duck_type(col)
                select.append(f'r."{path[0]}" AS "{col.name}"')
            else:
                top.setdefault(path[0], {})[path[1]] = _duck_type(col)
                select.append(f'r."{path[0]}"."{path[1]}" AS "{col.name}"')

        def struct(fields: dict[str, Any]) -> str:
            inner = ", ".join(f'"{k}" {struct(v) if isinstance(v, dict) else v}' for k, v in fields.items())
            return f"STRUCT({inner})"

        columns = "{data: '" + struct(top).replace("'", "''") + "[]', meta: 'JSON'}"
        self.sql = (
            f"SELECT {', '.join(select)} FROM (SELECT unnest(data) AS r FROM read_json("
            f"'{self.path}', format='newline_delimited', columns={columns}, "
            f"maximum_object_size=2147483647))"
        )

    def read(self, bodies: Sequence[bytes]) -> RawColumns | None:
        with open(self.path, "wb") as f:
            for body in bodies:
                # one page per line: JSON allows a line break only where a space is allowed
                f.write(body.replace(b"\n", b" ").replace(b"\r", b" ") if b"\n" in body or b"\r" in body else body)
                f.write(b"\n")
        try:
            table = self.con.sql(self.sql).to_arrow_table()
        except self._duckdb.Error:
            return None
        finally:
            os.remove(self.path)
        columns = {name: table.column(name).combine_chunks() for name in table.column_names}
        columns = {k: (v.cast(pa.string()) if pa.types.is_large_string(v.type) else v) for k, v in columns.items()}
        n = table.num_rows
        spec = self.spec

        def row_json(i: int) -> str:
            row: dict[str, Any] = {}
            for col in spec.columns:
                value = columns[col.name][i].as_py()
                if value is not None and _duck_type(col) == "JSON":
                    value = orjson.Fragment(value)
                if len(col.source_path) == 1:
                    row[col.source_path[0]] = value
                else:
                    row.setdefault(col.source_path[0], {})[col.source_path[1]] = value
            return orjson.dumps(row).decode()

        return RawColumns(n, columns, row_json, Problems(n), extra_field_rows=np.zeros(n, dtype=bool))

    def close(self) -> None:
        self.con.close()
        self._cleanup()

    def __enter__(self) -> DuckDBPageReader:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
