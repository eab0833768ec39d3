"""The state every TikTok sandbox route family shares: the world, clock and control plane, the
tokens and their access, the advertisers, the response envelope and the JSON body reader."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import secrets
from collections.abc import Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from sandbox.control import SandboxClock, SandboxControl
from sandbox.tiktok_event_rules import EventsConfig
from sandbox.tiktok_events import EventStore
from sandbox.tiktok_params import ApiError, Ctx, TokenInfo, bad_param
from sandbox.tiktok_report import (
    ReportEngine,
)
from sandbox.world import World

AUTH_CODE_TTL_SECONDS = 3600.0


class SandboxCore:
    """State of one TikTok sandbox server (one World): tokens, advertisers, the envelope."""

    def __init__(
        self,
        world: World,
        control: SandboxControl,
        *,
        events_config: EventsConfig | None = None,
        auth_code_ttl_seconds: float = AUTH_CODE_TTL_SECONDS,
        restate: Callable[..., Any] | None = None,
    ) -> None:
        self.world = world
        self.control = control
        self.clock: SandboxClock = control.clock
        self.auth_code_ttl = dt.timedelta(seconds=auth_code_ttl_seconds)
        self.events = EventStore(dataclasses.replace(events_config) if events_config else None)
        self.initial_events_config = dataclasses.replace(self.events.config)
        self.initial_rate_limits = dict(control.rate_limiter.limits)
        self.report = ReportEngine(world, restate=restate)
        creds = world.credentials
        self.app_id = creds.tiktok_app_id
        self.app_secret = creds.tiktok_app_secret
        self._initial_tokens = {
            creds.tiktok_access_token: ("marketing", None),
            creds.events_api_token: ("events", None),
            creds.standard_access_token: ("standard", None),
        }
        self.tokens: dict[str, TokenInfo] = {}
        self.reset_tokens()
        self.auth_codes: dict[str, dict[str, Any]] = {}
        self._rng = random.Random()

        adv_rows = world.table("advertisers").to_pylist()
        self.advertisers: dict[str, dict[str, Any]] = {}
        for a in adv_rows:
            self.advertisers[a["advertiser_id"]] = {
                "advertiser_id": a["advertiser_id"],
                "name": a["name"],
                "currency": a["currency"],
                "timezone": a["timezone"],
                "display_timezone": a["display_timezone"],
                "status": a["status"],
                "role": "ROLE_ADVERTISER",
                "country": a["country"],
                "company": a["company"],
                "industry": "291905",
                "balance": 10000.0,
                "create_time": int(a["create_time"].timestamp()) if a["create_time"] else None,
                "advertiser_account_type": "AUCTION",
                "language": "en",
                "description": "",
                "rejection_reason": "",
                "email": "ads***@example.com",
                "telephone_number": "+1*****0000",
                "address": "",
                "owner_bc_id": "",
            }
        self._build_served()

    # --- tokens -----------------------------------------------------------------------------------
    def _build_served(self) -> None:
        """Build what the routes serve from the world (the served records do; nothing here)."""

    def reset_tokens(self) -> None:
        self.tokens = {tok: TokenInfo(kind, adv) for tok, (kind, adv) in self._initial_tokens.items()}

    def mint_token(self, kind: str = "marketing", advertisers: frozenset[str] | None = None) -> str:
        token = secrets.token_hex(20)
        self.tokens[token] = TokenInfo(kind, advertisers)
        return token

    def authenticate(self, request: Request) -> TokenInfo:
        token = request.headers.get("access-token")
        if not token:
            raise ApiError(40104)
        info = self.tokens.get(token)
        if info is None or info.revoked:
            raise ApiError(40105)
        return info

    def require_advertiser(self, ctx: Ctx, advertiser_id: Any, name: str = "advertiser_id") -> str:
        if advertiser_id is None or advertiser_id == "":
            raise bad_param(f"{name}: Missing data for required field.")
        advertiser_id = str(advertiser_id)
        if not advertiser_id.isdigit():
            raise bad_param(f"{name}: Not a valid advertiser id: {advertiser_id!r}.")
        token = ctx.token
        if token is not None and token.kind == "events":
            raise ApiError(
                40001,
                f"No permission to operate advertiser_id: {advertiser_id}. "
                "This access token can only be used with the Events API.",
            )
        if advertiser_id not in self.advertisers or (token is not None and not token.can_access(advertiser_id)):
            raise ApiError(
                40001,
                f"No permission to operate advertiser_id: {advertiser_id}. "
                "Please check the advertiser id and the authorization of the access token.",
            )
        return advertiser_id

    # --- envelope ---------------------------------------------------------------------------------
    def request_id(self) -> str:
        return self.clock.now().strftime("%Y%m%d%H%M%S") + f"{self._rng.getrandbits(80):020X}"

    def envelope(self, code: int, message: str, data: Any) -> Response:
        rid = self.request_id()
        body = orjson.dumps({"code": code, "message": message, "request_id": rid, "data": data})
        trace = f"00-{rid[14:]}{self._rng.getrandbits(48):012x}-{self._rng.getrandbits(64):016x}-01".lower()
        return Response(
            body, status_code=200, media_type="application/json", headers={"X-TT-LOGID": rid, "x-tt-trace-id": trace}
        )

    async def json_body(self, request: Request) -> dict[str, Any]:
        raw = await request.body()
        try:
            body = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError:
            raise bad_param("Invalid JSON body: the request body must be a JSON object.") from None
        if not isinstance(body, dict):
            raise bad_param("Invalid JSON body: the request body must be a JSON object.")
        return body


# --- answer shapes: faults of kind "shape" ----------------------------------------------------------
# ``POST /_sandbox/faults {"endpoint": "campaign/get", "kind": "shape", "message": "<shape>"}``:
# the request is answered normally (code 0), in the shape named by ``message``:
#   no_list            ``data`` without its rows (``list``, or ``pixels`` on pixel/list)
#   no_page_info       ``data`` without ``page_info``
#   times_ms | times_seconds | times_iso   entity ``create_time`` / ``modify_time`` in that form
#   bad_time           the first row's ``modify_time`` in no time form at all
#   bad_stat_day       the first report row's ``stat_time_day`` as ``MM/DD/YYYY``
#   stat_day_forms     report days as ``YYYY-MM-DD``, ISO ``...T00:00:00`` and TikTok's form in turn
#   negative_spend     the first report row's ``spend`` below zero
#   too_large:N        code 40067 when the query matches more than N rows (use ``count: null``)
SHAPES = (
    "no_list",
    "no_page_info",
    "times_ms",
    "times_seconds",
    "times_iso",
    "bad_time",
    "bad_stat_day",
    "stat_day_forms",
    "negative_spend",
    "too_large",
)
QUERY_TOO_LARGE_MESSAGE = "The query is too large. Please reduce the time range or the number of ids and try again."


class ShapeFault(Response):
    """Marker answered by a ``shape`` fault: process the request, then reshape its ``data``."""

    def __init__(self, shape: str) -> None:
        super().__init__(b"", status_code=200)
        self.shape = shape


def _time_form(value: Any, form: str) -> Any:
    if not isinstance(value, str) or not value:
        return value
    instant = dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
    if form == "times_ms":
        return int(instant.timestamp()) * 1000
    if form == "times_seconds":
        return int(instant.timestamp())
    return instant.isoformat().replace("+00:00", "Z")


def apply_shape(data: dict[str, Any], shape: str) -> dict[str, Any]:
    """``data`` of a successful answer in ``shape`` (a copy; the served records stay as they are)."""
    name, _, arg = shape.partition(":")
    if name not in SHAPES:
        raise bad_param(f"sandbox shape fault: unknown shape {shape!r}; one of {', '.join(SHAPES)}")
    key = "pixels" if "pixels" in data else "list"
    rows = [dict(r) for r in data.get(key) or []]
    out = {**data, key: rows}
    if name == "too_large":
        total = int((data.get("page_info") or {}).get("total_number") or 0)
        if total > int(arg or 0):
            raise ApiError(40067, QUERY_TOO_LARGE_MESSAGE)
    elif name == "no_list":
        del out[key]
    elif name == "no_page_info":
        out.pop("page_info", None)
    elif name.startswith("times_"):
        for row in rows:
            for field in ("create_time", "modify_time"):
                row[field] = _time_form(row.get(field), name)
    elif rows and name == "bad_time":
        rows[0]["modify_time"] = "last Tuesday"
    elif rows and name in ("bad_stat_day", "stat_day_forms", "negative_spend"):
        for n, row in enumerate(rows):
            row["dimensions"], row["metrics"] = dict(row["dimensions"]), dict(row["metrics"])
            day = row["dimensions"]["stat_time_day"]
            if name == "stat_day_forms":
                row["dimensions"]["stat_time_day"] = (day[:10], day.replace(" ", "T"), day)[n % 3]
        if name == "bad_stat_day":
            day = rows[0]["dimensions"]["stat_time_day"]
            rows[0]["dimensions"]["stat_time_day"] = f"{day[5:7]}/{day[8:10]}/{day[:4]}"
        elif name == "negative_spend":
            rows[0]["metrics"]["spend"] = "-12.500"
    return out
