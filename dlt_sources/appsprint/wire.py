"""What one reply of the export API is: media types, cursor headers, the page, the JSON envelope.

Wire formats (docs/appsprint_export_api.md): "arrow" asks for Arrow IPC pages and accepts JSON
(a server without Arrow support answers JSON, and the client reads that); "json" asks for JSON.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from typing import Any

import orjson
import pyarrow as pa

from .errors import AppSprintResponseError

ARROW_MEDIA_TYPE = "application/vnd.apache.arrow.stream"
WIRE_ACCEPT = {
    "arrow": f"{ARROW_MEDIA_TYPE}, application/json;q=0.5",
    "json": "application/json",
}
NEXT_CURSOR_HEADER = "X-Next-Cursor"
REQUEST_ID_HEADER = "X-Request-Id"


@dataclasses.dataclass
class Page:
    endpoint: str
    rows: list[Any] | None  # parsed rows, or None when only the raw body was kept
    next_cursor: str | None
    request_id: str | None
    body: bytes | None = None  # the raw JSON body (fast path)
    table: pa.Table | None = None  # the page as Arrow (the Arrow wire format)
    served_at: dt.datetime | None = None  # the server's clock when it served the page

    @property
    def empty(self) -> bool:
        """Whether the page holds no row (a raw body is looked at, not parsed)."""
        if self.table is not None:
            return bool(self.table.num_rows == 0)
        if self.rows is not None:
            return not self.rows
        return bool(_EMPTY_ENVELOPE.match(self.body or b""))

    @property
    def wire(self) -> str:
        return "arrow" if self.table is not None else "json"

    def parsed_rows(self) -> list[Any]:
        if self.table is not None:
            raise AppSprintResponseError(
                f"AppSprint {self.endpoint}: this page arrived as Arrow; read page.table, or create "
                "the client with wire='json' to get JSON rows"
            )
        if self.rows is None:
            doc = loads_json(self.body or b"{}")
            self.rows = doc.get("data") if isinstance(doc, dict) else None
            if not isinstance(self.rows, list):
                raise AppSprintResponseError(f"AppSprint {self.endpoint}: unexpected reply shape")
        return self.rows


def loads_json(body: bytes) -> Any:
    """A JSON body, parsed with ``orjson``; a body that orjson refuses only because it holds the
    literals ``NaN``, ``Infinity`` or ``-Infinity`` (which many JSON encoders write) is parsed with
    the standard library, which reads them as floats. The rows holding them are quarantined when
    typed (docs/decisions/0011-hostile-input.md). Raises ``orjson.JSONDecodeError`` otherwise."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        if b"NaN" not in body and b"Infinity" not in body:
            raise
        try:
            return json.loads(body)
        except ValueError:
            pass
        raise


_ENVELOPE_START = re.compile(rb'\A\s*\{\s*"data"\s*:\s*\[')
_EMPTY_ENVELOPE = re.compile(rb'\A\s*\{\s*"data"\s*:\s*\[\s*\]')


def envelope_meta(body: bytes) -> dict[str, Any] | None:
    """The ``meta`` object of a ``{"data": [...], "meta": {...}}`` body, parsing only its tail.

    Returns None when the body does not look like that exactly (then the caller parses it all);
    the rows themselves are validated when they are typed."""
    if not _ENVELOPE_START.match(body):
        return None
    end = len(body.rstrip())
    if end < 2 or body[end - 1 : end] != b"}":
        return None
    at = body.rfind(b'"meta"')
    if at < 0:
        return None
    before = body[:at].rstrip()
    colon = body.find(b":", at + 6)
    if not before.endswith(b",") or not before[:-1].rstrip().endswith(b"]") or colon < 0:
        return None
    try:
        meta = orjson.loads(body[colon + 1 : end - 1])
    except orjson.JSONDecodeError:
        return None
    return meta if isinstance(meta, dict) else None


def format_updated_since(value: Any) -> str | None:
    """ISO-8601 UTC with ``Z`` for the ``updated_since`` parameter."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_iso_utc(value)
    if isinstance(value, dt.datetime):
        when = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    raise TypeError(f"cannot use {value!r} as updated_since")


def parse_iso_utc(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)
