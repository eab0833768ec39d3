"""Hostile pages for the sandbox AppSprint export API: faults that change what a page holds.

The shared faults of :mod:`.control` replace a reply (an error, a 429, a timeout). These change a
reply that is otherwise served normally, to imitate an export API that misbehaves in its data or
its paging (docs/decisions/0011-hostile-input.md):

- ``value``: the row ``row_id`` of ``endpoint`` is served with ``field`` set to ``value``, JSON
  text spliced in as is (``NaN``, ``Infinity``, ``"-"``, ``"2999-01-01T00:00:00.000Z"``; a nested
  field as ``attribution.confidence``), on whichever page holds the row, on both wires (an Arrow
  column that cannot hold the value becomes ``float64`` or ``utf8`` for that page, as a server
  with another schema would send it).
- ``cursor_cycle``: the ``after_pages``-th page of a walk (and every later one) has the walk's
  first cursor as its ``next_cursor``: with 3, A -> B -> A -> B ... (a walk that never ends); with
  2, a cursor that does not advance.
- ``empty_pages``: after ``after_pages`` pages of rows, every reply is an empty page whose
  ``next_cursor`` is a fresh cursor (a walk that never ends and never brings a row).

Control route ``/_sandbox/page_faults``: ``POST`` arms one (body: the fields of
:class:`PageFault`), ``GET`` lists them, ``DELETE`` disarms all (``POST /_sandbox/reset`` too).
A fault holds until disarmed. A walk starts with a request without ``cursor``.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from typing import Any, Literal

import pyarrow as pa
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .appsprint_arrow import arrow_schema, ipc_stream
from .appsprint_resources import RESOURCES

PageFaultKind = Literal["value", "cursor_cycle", "empty_pages"]
EMPTY_CURSOR_PREFIX = "sandbox-empty-page-"


@dataclasses.dataclass
class PageFault:
    kind: PageFaultKind
    endpoint: str = "events"
    row_id: str | None = None  # value: the row to change
    field: str | None = None  # value: the field, "a.b" for a nested one
    value: str | None = None  # value: JSON text, spliced in as served
    after_pages: int = 3  # cursor_cycle / empty_pages: see the module's docstring

    def __post_init__(self) -> None:
        if self.kind not in ("value", "cursor_cycle", "empty_pages"):
            raise TypeError(f"unknown page fault kind {self.kind!r}")
        if self.endpoint not in RESOURCES:
            raise TypeError(f"unknown endpoint {self.endpoint!r}; one of {sorted(RESOURCES)}")
        if self.kind == "value" and not (self.row_id and self.field and self.value is not None):
            raise TypeError("a value fault needs row_id, field and value (JSON text)")
        if self.after_pages < (2 if self.kind == "cursor_cycle" else 1):
            raise TypeError("after_pages must be at least 2 for a cursor cycle, 1 for empty pages")


class PageFaults:
    """The armed page faults of one server and the cursor walks they act on."""

    def __init__(self) -> None:
        self._faults: list[PageFault] = []
        self._walks: dict[str, list[str]] = {}  # endpoint -> next_cursors issued in the current walk
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._walks.clear()

    def _armed(self, endpoint: str, kind: PageFaultKind) -> list[PageFault]:
        with self._lock:
            return [f for f in self._faults if f.endpoint == endpoint and f.kind == kind]

    # --- paging -----------------------------------------------------------------------------------
    def empty_page(self, endpoint: str, cursor_text: str | None) -> str | None:
        """For a cursor this module issued: the next fresh cursor of the empty-page walk (the
        request gets an empty page), or None when the cursor is not one of them."""
        if not cursor_text or not cursor_text.startswith(EMPTY_CURSOR_PREFIX):
            return None
        if not self._armed(endpoint, "empty_pages"):
            return None  # disarmed: the cursor is then invalid, as the API says
        n = int(cursor_text.removeprefix(EMPTY_CURSOR_PREFIX) or 0)
        return f"{EMPTY_CURSOR_PREFIX}{n + 1}"

    def next_cursor(self, endpoint: str, cursor_text: str | None, next_cursor: str | None) -> str | None:
        """The ``next_cursor`` to send for a page whose real one is ``next_cursor``."""
        with self._lock:
            walk = self._walks.setdefault(endpoint, [])
            if cursor_text is None:
                walk.clear()
            served = len(walk) + 1  # pages of this walk, this one included
            if next_cursor:
                walk.append(next_cursor)
        if not next_cursor:
            return None
        for fault in self._armed(endpoint, "cursor_cycle"):
            if served >= fault.after_pages:
                return walk[0]
        for fault in self._armed(endpoint, "empty_pages"):
            if served >= fault.after_pages:
                return f"{EMPTY_CURSOR_PREFIX}0"
        return next_cursor

    # --- values -----------------------------------------------------------------------------------
    def rewrite(self, endpoint: str, data: bytes, arrow: bool) -> bytes:
        """The page's rows (a JSON array, or an Arrow IPC stream) with the armed value faults."""
        faults = self._armed(endpoint, "value")
        if not faults:
            return data
        id_field = RESOURCES[endpoint].id_field
        if arrow:
            return _rewrite_arrow(data, id_field, faults)
        rows = json.loads(data)
        for row in rows:
            for fault in faults:
                if row.get(id_field) == fault.row_id:
                    _set(row, fault)
        return json.dumps(rows, separators=(",", ":")).encode()

    def empty(self, endpoint: str, arrow: bool) -> bytes:
        return ipc_stream(arrow_schema(RESOURCES[endpoint]).empty_table()) if arrow else b"[]"

    # --- control route ----------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        async def page_faults(request: Request) -> Response:
            if request.method == "POST":
                try:
                    fault = PageFault(**(await request.json()))
                except TypeError as exc:
                    return JSONResponse({"error": "bad_fault", "message": str(exc)}, status_code=400)
                with self._lock:
                    self._faults.append(fault)
            elif request.method == "DELETE":
                self.clear()
            with self._lock:
                armed = [dataclasses.asdict(f) for f in self._faults]
            return JSONResponse({"page_faults": armed})

        return [Route("/_sandbox/page_faults", page_faults, methods=["GET", "POST", "DELETE"])]


def _set(row: dict[str, Any], fault: PageFault) -> None:
    assert fault.field is not None and fault.value is not None
    *parents, key = fault.field.split(".")
    target = row
    for parent in parents:
        target = target.setdefault(parent, {}) or {}
    target[key] = json.loads(fault.value)  # the standard library reads NaN and Infinity


def _rewrite_arrow(data: bytes, id_field: str, faults: list[PageFault]) -> bytes:
    table = pa.ipc.open_stream(pa.BufferReader(data)).read_all()
    ids = table.column(id_field).to_pylist()
    for fault in faults:
        if fault.row_id not in ids:
            continue
        assert fault.field is not None
        top = fault.field.split(".")[0]
        index = table.schema.get_field_index(top)
        values = table.column(top).to_pylist()
        row = {top: values[ids.index(fault.row_id)]}
        _set(row, fault)
        values[ids.index(fault.row_id)] = row[top]
        table = table.set_column(index, top, _array(values, table.schema.field(index).type))
    return ipc_stream(table)


def _array(values: list[Any], current: pa.DataType) -> pa.Array:
    """``values`` in the column's type, or in the type a server would use for them."""
    try:
        return pa.array(values, current)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        pass
    try:
        return pa.array([None if v is None else float(v) for v in values], pa.float64())
    except (TypeError, ValueError):
        return pa.array([None if v is None else str(v) for v in values], pa.string())
