"""Shared by the TikTok sandbox routes: return-code messages, the API error, the token and request
context, and the query-parameter parsers (JSON-string lists and objects, integers, booleans, ids)."""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.requests import Request

MESSAGES = {
    0: "OK",
    20001: "Partially successful.",
    40001: "No permission to operate this resource.",
    40002: "Parameter error.",
    40100: "Too many requests. Please retry in some time.",
    40101: "Invalid app_id or secret.",
    40104: "Access token is null, you should set it in http header with key Access-Token.",
    40105: "Access token is incorrect or has been revoked.",
    40106: "The access token does not match the advertiser (core user invalid).",
    40110: "The auth_code is canceled. Please re-authorize and try again with a new auth_code.",
    40113: "The app is blocked or the app_id does not match the access token.",
    40132: "The request QPS is limited by pixel_code's value.",
    40133: "The request frequency of this advertiser on this path exceeds the limit. Please retry in some time.",
    50000: "System error. Please retry in some time.",
    50002: "System error. Please retry in some time.",
}
MAX_IDS = 100


class ApiError(Exception):
    """An API-level error: answered with HTTP 200 and the envelope."""

    def __init__(self, code: int, message: str | None = None) -> None:
        self.code = code
        self.message = message or MESSAGES.get(code, "Error")
        super().__init__(self.message)


def bad_param(message: str) -> ApiError:
    return ApiError(40002, message)


@dataclasses.dataclass
class TokenInfo:
    kind: str  # marketing | events | standard
    advertisers: frozenset[str] | None  # None: every advertiser
    revoked: bool = False

    def can_access(self, advertiser_id: str) -> bool:
        return self.advertisers is None or advertiser_id in self.advertisers


@dataclasses.dataclass
class Ctx:
    request: Request
    token: TokenInfo | None
    params: Mapping[str, str]


# --- query parameter parsing ----------------------------------------------------------------------
def parse_structured(name: str, raw: str, kind: type) -> Any:
    """A JSON-string query parameter (``["a","b"]`` / ``{"k": 1}``), or a Python-repr one
    (``['a', 'b']``), checked to be a ``kind`` (list or dict). 40002 naming ``name`` otherwise."""
    what = "list" if kind is list else "JSON object"
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        value = None
        if len(raw) <= 100_000 and ("'" in raw or "True" in raw or "False" in raw or "None" in raw):
            try:
                value = ast.literal_eval(raw)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                value = None
            if isinstance(value, tuple):
                value = list(value)
        if value is None:
            raise bad_param(f"{name}: Not a valid {what}: malformed JSON string.") from None
    if not isinstance(value, kind):
        raise bad_param(f"{name}: Not a valid {what}.")
    return value


def json_param(params: Mapping[str, str], name: str, kind: type, *, required: bool = False) -> Any:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise bad_param(f"{name}: Missing data for required field.")
        return None
    return parse_structured(name, raw, kind)


def int_param(params: Mapping[str, str], name: str, default: int, lo: int, hi: int | None = None) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_param(f"{name}: Not a valid integer.") from None
    if value < lo or (hi is not None and value > hi):
        bounds = f"greater than or equal to {lo}" + (f" and less than or equal to {hi}" if hi is not None else "")
        raise bad_param(f"{name}: Must be {bounds}.")
    return value


def bool_param(params: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    low = raw.lower()
    if low in ("true", "1"):
        return True
    if low in ("false", "0"):
        return False
    raise bad_param(f"{name}: Not a valid boolean.")


def id_list(name: str, value: Any, max_items: int = MAX_IDS, code: int = 40002) -> list[str]:
    if not isinstance(value, list):
        raise bad_param(f"{name}: Not a valid list.")
    out = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            raise bad_param(f"{name}: Not a valid list of ids (ids are strings).")
        out.append(str(item))
    if len(out) > max_items:
        raise ApiError(code, f"{name}: Too many ids: at most {max_items} are allowed per request.")
    return out


def page_info(page: int, page_size: int, total: int) -> dict[str, int]:
    return {
        "page": page,
        "page_size": page_size,
        "total_number": total,
        "total_page": (total + page_size - 1) // page_size,
    }


async def _loose_json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}
    return body if isinstance(body, dict) else {}
