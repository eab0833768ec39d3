"""The four resources of the AppSprint export API (which table, id column, served fields and
their kinds), the opaque page cursor, and the request error."""

from __future__ import annotations

import base64
import binascii
import dataclasses
from typing import Any

import numpy as np
import orjson

CURSOR_VERSION = 1


class BadRequestError(ValueError):
    """A client error: ``code`` is the API error code, the message says what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- resources ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ResourceSpec:
    name: str  # URL segment and cursor tag: signal-links | clicks | installs | events
    table: str  # world table
    id_column: str  # world column of the row id (tie-breaker of the order)
    id_field: str  # the id's name in the API row
    # (API field, world column, kind); a dotted API field nests ("attribution.status").
    fields: tuple[tuple[str, str, str], ...]
    superseded: bool = False  # installs: hide versions superseded as of the clock


RESOURCES: dict[str, ResourceSpec] = {
    spec.name: spec
    for spec in (
        ResourceSpec(
            "signal-links",
            "signal_links",
            "link_id",
            "id",
            (
                ("id", "link_id", "text"),
                ("name", "name", "text"),
                ("network", "network", "dict"),
                ("url", "url", "text"),
                ("created_at", "created_at", "ts"),
                ("updated_at", "updated_at", "ts"),
            ),
        ),
        ResourceSpec(
            "clicks",
            "clicks",
            "click_id",
            "click_id",
            (
                ("click_id", "click_id", "text"),
                ("link_id", "link_id", "dict"),
                ("clicked_at", "clicked_at", "ts"),
                ("ttclid", "ttclid", "text"),
                ("campaign_id", "campaign_id", "dict"),
                ("adgroup_id", "adgroup_id", "dict"),
                ("ad_id", "ad_id", "dict"),
                ("placement", "placement", "dict"),
                ("ip", "ip", "text"),
                ("user_agent", "user_agent", "dict"),
                ("os", "os", "dict"),
                ("updated_at", "updated_at", "ts"),
            ),
        ),
        ResourceSpec(
            "installs",
            "installs",
            "appsprint_id",
            "appsprint_id",
            (
                ("appsprint_id", "appsprint_id", "text"),
                ("installed_at", "installed_at", "ts"),
                ("platform", "platform", "dict"),
                ("app_version", "app_version", "dict"),
                ("country", "country", "dict"),
                ("ip", "ip", "text"),
                ("user_agent", "user_agent", "dict"),
                ("attribution.status", "attribution_status", "dict"),
                ("attribution.network", "attribution_network", "dict"),
                ("attribution.match_type", "match_type", "dict"),
                ("attribution.confidence", "confidence", "dict"),
                ("attribution.link_id", "link_id", "dict"),
                ("attribution.click_id", "click_id", "text"),
                ("updated_at", "updated_at", "ts"),
            ),
            superseded=True,
        ),
        ResourceSpec(
            "events",
            "events",
            "event_id",
            "event_id",
            (
                ("event_id", "event_id", "text"),
                ("appsprint_id", "appsprint_id", "text"),
                ("event_type", "event_type", "dict"),
                ("event_name", "event_name", "dict"),
                ("occurred_at", "occurred_at", "ts_raw"),
                ("received_at", "received_at", "ts"),
                ("revenue", "revenue", "dict"),
                ("currency", "currency", "dict"),
                ("source", "source", "dict"),
                ("environment", "environment", "dict"),
                ("ip", "ip", "text"),
                ("user_agent", "user_agent", "dict"),
                ("customer_user_id", "customer_user_id", "text"),
                ("parameters", "parameters", "json"),
                ("updated_at", "updated_at", "ts"),
            ),
        ),
    )
}


def _field_prefixes(fields: tuple[tuple[str, str, str], ...]) -> list[str]:
    """The literal JSON before each field's value (keys, commas, braces of nested objects):
    ``{"a":``, ``,"b":{"c":``, ``},"d":`` ... The row's closing braces follow the last value."""
    prefixes: list[str] = []
    group: str | None = None
    for i, (api_name, _, _) in enumerate(fields):
        parent, _, key = api_name.rpartition(".")
        text = "{" if i == 0 else ""
        if (parent or None) != group:
            if group is not None:
                text += "}"
            if parent:
                text += ("," if i else "") + f'"{parent}":{{'
            group = parent or None
            sep = "" if text.endswith("{") else ","
        else:
            sep = "," if i else ""
        prefixes.append(f'{text}{sep}"{key}":')
    return prefixes


def _row_end(fields: tuple[tuple[str, str, str], ...]) -> str:
    return "}}" if "." in fields[-1][0] else "}"


# --- cursors ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Cursor:
    resource: str
    updated_at_ms: int
    row_id: str
    position: int  # rows of the sorted world table before the next one to serve (a hint)

    def encode(self) -> str:
        raw = orjson.dumps([CURSOR_VERSION, self.resource, self.updated_at_ms, self.row_id, self.position])
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    @classmethod
    def decode(cls, text: str, resource: str) -> Cursor:
        bad = BadRequestError(
            "invalid_cursor",
            "cursor is not one this API issued; pass meta.next_cursor back unchanged, or restart with updated_since",
        )
        try:
            padded = text + "=" * (-len(text) % 4)
            value = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        except (ValueError, binascii.Error, UnicodeError, orjson.JSONDecodeError):
            raise bad from None
        if not (
            isinstance(value, list)
            and len(value) == 5
            and value[0] == CURSOR_VERSION
            and isinstance(value[1], str)
            and isinstance(value[2], int)
            and isinstance(value[3], str)
            and isinstance(value[4], int)
            and value[4] >= 0
        ):
            raise bad
        if value[1] != resource:
            raise BadRequestError(
                "invalid_cursor",
                f"this cursor belongs to /{value[1]}, not /{resource}; cursors are per endpoint",
            )
        return cls(resource, value[2], value[3], value[4])


@dataclasses.dataclass
class ExtraRow:
    """A row added while the server runs (a Signal-link click): its key and its JSON text."""

    updated_at_ms: int
    row_id: str
    json: str

    @property
    def key(self) -> tuple[int, str]:
        return (self.updated_at_ms, self.row_id)


@dataclasses.dataclass
class PageSelection:
    """The rows of one page: world rows (a table slice or row positions) and, when live rows are
    merged in, their order."""

    world: slice | np.ndarray  # physical rows of the world table
    world_rows: int
    next_cursor: str | None
    merged: list[tuple[int, Any]] | None = None  # (0, k-th world row) | (1, ExtraRow), in order
