"""Sandbox TikTok Business API (Marketing API v1.3 + Events API 2.0 web), an ASGI app.

It imitates the real API over real HTTP, quirks included (reference/tiktok_business_api.md §1-§4
and §7), so the product's tests, demo and benchmarks run without TikTok:

- Everything lives under ``/open_api/v1.3/<path>/``. The trailing slash is required: without it,
  or on an unknown path, the answer is HTTP 404 with the plain-text body ``page not found``; a
  known path with the wrong method gets HTTP 405 plain text. Known paths always answer HTTP 200
  with the envelope ``{"code", "message", "request_id", "data"}`` (``data: {}`` on errors) and the
  headers ``X-TT-LOGID`` / ``x-tt-trace-id``.
- Auth: the ``Access-Token`` header. Missing -> 40104, unknown or revoked -> 40105, no access to
  the advertiser -> 40001, no permission on a pixel -> 40001.
- Array/object query parameters are JSON strings (Python-repr single-quoted lists are accepted
  too, as the real server is lenient); malformed -> 40002 naming the parameter.

Marketing API paths: ``oauth2/access_token/`` (POST), ``oauth2/revoke_token/`` (POST),
``oauth2/advertiser/get/``, ``advertiser/info/``, ``campaign/get/``, ``adgroup/get/``, ``ad/get/``,
``report/integrated/get/``, ``pixel/list/``; Events API: ``event/track/`` (POST).

Sandbox-only routes (not part of TikTok's API):

- ``GET /portal/auth?app_id=..&state=..&redirect_uri=..`` (also ``/marketing_api/auth``): a
  stand-in for TikTok's consent page. There is nobody to approve anything, so it immediately
  redirects (302) to ``redirect_uri?auth_code=<new code>&state=<same state>``; the product's CLI
  can thus do a real OAuth round trip against the sandbox.
- ``POST /_sandbox/auth_codes`` -> ``{"auth_code", "expires_at"}``: a fresh code, for tests.
- ``POST /_sandbox/tokens`` body ``{"kind": "marketing"|"events"|"standard", "advertiser_ids":
  [...]}`` (both optional) -> ``{"token"}``: mint a token, e.g. one limited to some advertisers.
- ``POST /_sandbox/tokens/revoke`` body ``{"token": ...}``: revoke any token (even the world's).
- ``GET /_sandbox/events/received?pixel_code=..`` -> counters ``{requests, events_received,
  unique_events, duplicates_dropped, test_events, ...}``; with ``payloads=true`` also the stored
  events (``limit`` default 100, max 10,000; ``offset``; ``kind=production|test``).
- ``POST /_sandbox/events/reset``; ``GET|POST /_sandbox/events/config`` (e.g.
  ``{"strict_hashing": false, "max_age_seconds": 604800}``).
- ``POST /_sandbox/reset``: everything back to the start state (clock at the anchor, faults,
  counters, rate limits, tokens, auth codes, events store and config), so one server can serve
  many tests.
- plus the shared control routes of :mod:`.control` (clock, faults, stats, rate limits).

Faults (``POST /_sandbox/faults``) use endpoint names without the version prefix and without the
trailing slash, e.g. ``report/integrated/get``, ``event/track``, ``campaign/get``, ``*``.
A ``code`` fault answers HTTP 200 + envelope (40100, 40133, 40132, 50000, 40105, ...; a 20001
fault processes the request normally and then answers code 20001); an ``http`` fault answers that
HTTP status with nginx's HTML page (502 by default); ``delay``/``timeout`` sleep first.
Rate limits: ``marketing_qps`` (default 10) per Marketing API endpoint and ``events_qps``
(default 1,000) for ``event/track``; over the limit -> HTTP 200 + 40100.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import logging
import random
import secrets
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from .control import HTML_502, Fault, SandboxClock, SandboxControl
from .tiktok_events import NO_PERMISSION_PIXEL, EventsConfig, EventStore, TrackError
from .tiktok_report import (
    ALL_METRICS,
    ATTRIBUTE_LEVELS,
    ID_DIMENSION,
    ID_FILTER,
    LEVELS,
    STATUS_FIELD,
    ReportEngine,
    ReportQuery,
)
from .world import World

log = logging.getLogger(__name__)

API_PREFIX = "/open_api/v1.3/"
DEFAULT_MARKETING_QPS = 10.0
DEFAULT_EVENTS_QPS = 1000.0
AUTH_CODE_TTL_SECONDS = 3600.0
TOKEN_SCOPE = [4, 5, 6, 7, 10]

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
HTML_504 = (
    "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
    "<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)

# Fields served by the entity endpoints (reference §3.7), in response order.
CAMPAIGN_FIELDS = (
    "advertiser_id",
    "campaign_id",
    "campaign_name",
    "objective_type",
    "campaign_type",
    "budget",
    "budget_mode",
    "operation_status",
    "secondary_status",
    "is_smart_performance_campaign",
    "create_time",
    "modify_time",
)
ADGROUP_FIELDS = (
    "advertiser_id",
    "campaign_id",
    "campaign_name",
    "adgroup_id",
    "adgroup_name",
    "promotion_type",
    "operating_systems",
    "pixel_id",
    "optimization_goal",
    "optimization_event",
    "billing_event",
    "bid_type",
    "budget",
    "budget_mode",
    "placement_type",
    "placements",
    "operation_status",
    "secondary_status",
    "create_time",
    "modify_time",
)
AD_FIELDS = (
    "advertiser_id",
    "campaign_id",
    "campaign_name",
    "adgroup_id",
    "adgroup_name",
    "ad_id",
    "ad_name",
    "ad_format",
    "landing_page_url",
    "call_to_action",
    "tracking_pixel_id",
    "operation_status",
    "secondary_status",
    "create_time",
    "modify_time",
)
ENTITY_FIELDS = {"campaign": CAMPAIGN_FIELDS, "adgroup": ADGROUP_FIELDS, "ad": AD_FIELDS}
ENTITY_FILTER_KEYS = {
    "campaign": {
        "campaign_ids",
        "campaign_name",
        "objective_type",
        "primary_status",
        "secondary_status",
        "creation_filter_start_time",
        "creation_filter_end_time",
        "buying_types",
        "is_smart_performance_campaign",
    },
    "adgroup": {
        "campaign_ids",
        "adgroup_ids",
        "adgroup_name",
        "primary_status",
        "secondary_status",
        "objective_type",
        "optimization_goal",
        "promotion_type",
        "billing_events",
        "creation_filter_start_time",
        "creation_filter_end_time",
    },
    "ad": {
        "campaign_ids",
        "adgroup_ids",
        "ad_ids",
        "ad_name",
        "primary_status",
        "secondary_status",
        "objective_type",
        "creation_filter_start_time",
        "creation_filter_end_time",
    },
}
ADVERTISER_FIELDS = (
    "advertiser_id",
    "name",
    "currency",
    "timezone",
    "display_timezone",
    "status",
    "role",
    "country",
    "company",
    "industry",
    "balance",
    "create_time",
    "advertiser_account_type",
    "language",
    "description",
    "rejection_reason",
    "email",
    "telephone_number",
    "address",
    "owner_bc_id",
)
PIXEL_EVENT_CODES = {
    "Purchase": "SHOPPING",
    "Subscribe": "ON_WEB_SUBSCRIBE",
    "StartTrial": "START_TRIAL",
    "CompleteRegistration": "ON_WEB_REGISTER",
    "Download": "DOWNLOAD_START",
    "ViewContent": "ON_WEB_DETAIL",
}
REPORT_TYPES_UNSUPPORTED = {"AUDIENCE", "PLAYABLE_MATERIAL", "CATALOG", "BC", "TT_SHOP"}
REPORT_FILTER_TYPES = {"IN", "MATCH", "GREATER_EQUAL", "GREATER_THAN", "LOWER_EQUAL", "LOWER_THAN", "BETWEEN"}
REPORT_STATUS_VALUES = {"STATUS_ALL", "STATUS_NOT_DELETE", "STATUS_DELETE"}
RANGE_CAPS = {"day": 30, "hour": 1, None: 365}
MAX_IDS = 100

NO_RATE_LIMITS: dict[str, float | None] = {"*": None, "event/track": None}


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


def _fmt_ts(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _money(value: Any) -> float | None:
    return None if value is None else float(value)


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
            raise bad_param(f"{name}: Not a valid {what}: malformed JSON string.")
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


# --- the app ---------------------------------------------------------------------------------------
class TikTokSandbox:
    """State and handlers of one sandbox server (one World)."""

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
        self._build_entities()
        self._build_pixels()

    # --- world -> served records ------------------------------------------------------------------
    def _build_entities(self) -> None:
        eng = self.report
        camps, groups, ads = eng.entities["campaign"], eng.entities["adgroup"], eng.entities["ad"]
        camp_by_id = {c["campaign_id"]: c for c in camps}
        self.campaign_objective = {c["campaign_id"]: c["objective_type"] for c in camps}
        group_by_id = {g["adgroup_id"]: g for g in groups}
        served: dict[str, list[tuple[dict[str, Any], bool]]] = {"campaign": [], "adgroup": [], "ad": []}
        for i, c in enumerate(camps):
            deleted = bool(eng.deleted["campaign"][i])
            served["campaign"].append(
                (
                    {
                        "advertiser_id": c["advertiser_id"],
                        "campaign_id": c["campaign_id"],
                        "campaign_name": c["campaign_name"],
                        "objective_type": c["objective_type"],
                        "campaign_type": "REGULAR_CAMPAIGN",
                        "budget": _money(c["budget"]),
                        "budget_mode": c["budget_mode"],
                        "operation_status": c["operation_status"],
                        "secondary_status": c["secondary_status"],
                        "is_smart_performance_campaign": False,
                        "create_time": _fmt_ts(c["create_time"]),
                        "modify_time": _fmt_ts(c["modify_time"]),
                    },
                    deleted,
                )
            )
        for i, g in enumerate(groups):
            deleted = bool(eng.deleted["adgroup"][i])
            status = g["secondary_status"]
            if deleted and not status.endswith("_DELETE"):
                status = "ADGROUP_STATUS_CAMPAIGN_DELETE"
            served["adgroup"].append(
                (
                    {
                        "advertiser_id": g["advertiser_id"],
                        "campaign_id": g["campaign_id"],
                        "campaign_name": camp_by_id[g["campaign_id"]]["campaign_name"],
                        "adgroup_id": g["adgroup_id"],
                        "adgroup_name": g["adgroup_name"],
                        "promotion_type": g["promotion_type"],
                        "operating_systems": [g["operating_system"]] if g["operating_system"] else [],
                        "pixel_id": g["pixel_id"],
                        "optimization_goal": g["optimization_goal"],
                        "optimization_event": g["optimization_event"],
                        "billing_event": "OCPM",
                        "bid_type": "BID_TYPE_NO_BID",
                        "budget": _money(g["budget"]),
                        "budget_mode": "BUDGET_MODE_DAY",
                        "placement_type": g["placement_type"],
                        "placements": list(g["placements"] or []),
                        "operation_status": g["operation_status"],
                        "secondary_status": status,
                        "create_time": _fmt_ts(g["create_time"]),
                        "modify_time": _fmt_ts(g["modify_time"]),
                    },
                    deleted,
                )
            )
        for i, a in enumerate(ads):
            deleted = bool(eng.deleted["ad"][i])
            status = a["secondary_status"]
            if deleted and not status.endswith("_DELETE"):
                own_group_deleted = bool(eng.deleted["adgroup"][eng.index["adgroup"][a["adgroup_id"]]])
                status = "AD_STATUS_ADGROUP_DELETE" if own_group_deleted else "AD_STATUS_CAMPAIGN_DELETE"
            served["ad"].append(
                (
                    {
                        "advertiser_id": a["advertiser_id"],
                        "campaign_id": a["campaign_id"],
                        "campaign_name": camp_by_id[a["campaign_id"]]["campaign_name"],
                        "adgroup_id": a["adgroup_id"],
                        "adgroup_name": group_by_id[a["adgroup_id"]]["adgroup_name"],
                        "ad_id": a["ad_id"],
                        "ad_name": a["ad_name"],
                        "ad_format": a["ad_format"],
                        "landing_page_url": a["landing_page_url"],
                        "call_to_action": a["call_to_action"],
                        "tracking_pixel_id": a["tracking_pixel_id"],
                        "operation_status": a["operation_status"],
                        "secondary_status": status,
                        "create_time": _fmt_ts(a["create_time"]),
                        "modify_time": _fmt_ts(a["modify_time"]),
                    },
                    deleted,
                )
            )
        # per advertiser, in id order
        self.entities: dict[str, dict[str, list[tuple[dict[str, Any], bool]]]] = {}
        for level, rows in served.items():
            per: dict[str, list[tuple[dict[str, Any], bool]]] = {}
            for rec, deleted in rows:
                per.setdefault(rec["advertiser_id"], []).append((rec, deleted))
            self.entities[level] = per

    def _build_pixels(self) -> None:
        opt_events: dict[str, set[str]] = {}
        for g in self.world.table("adgroups").to_pylist():
            if g["pixel_id"] and g["optimization_event"]:
                opt_events.setdefault(g["pixel_id"], set()).add(g["optimization_event"])
        self.pixels: dict[str, list[dict[str, Any]]] = {}
        self.pixel_advertiser: dict[str, str] = {}
        for p in sorted(self.world.table("pixels").to_pylist(), key=lambda r: r["pixel_id"]):
            names = sorted(opt_events.get(p["pixel_id"], set()) | {"Download", "ViewContent"})
            events = []
            for n, name in enumerate(names):
                code = PIXEL_EVENT_CODES.get(name, "CUSTOM")
                events.append(
                    {
                        "name": name,
                        "event_type": code,
                        "optimization_event": code,
                        "custom_event_type": code,
                        "event_code": name,
                        "event_id": f"{p['pixel_id'][:15]}{n:04d}",
                        "statistic_type": "EVERY_TIME",
                        "currency": None,
                        "currency_value": None,
                        "deprecated": False,
                        "rules": [],
                    }
                )
            self.pixels.setdefault(p["advertiser_id"], []).append(
                {
                    "pixel_id": p["pixel_id"],
                    "pixel_code": p["pixel_code"],
                    "pixel_name": p["pixel_name"],
                    "pixel_category": "THIRD_PARTY" if p["pixel_setup_mode"] == "DEVELOPER" else "MANUAL",
                    "pixel_setup_mode": p["pixel_setup_mode"],
                    "create_time": _fmt_ts(p["create_time"]),
                    "advanced_matching_fields": {"email": True, "phone_number": True},
                    "events": events,
                }
            )
            self.pixel_advertiser[p["pixel_code"]] = p["advertiser_id"]

    # --- tokens -----------------------------------------------------------------------------------
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

    def render_fault(self, fault: Fault) -> Response:
        if fault.kind == "http" or (fault.status and fault.code is None):
            status = fault.status or 502
            if status == 502:
                html = HTML_502
            elif status == 504:
                html = HTML_504
            else:
                html = (
                    f"<html><head><title>{status}</title></head><body><center><h1>{status}</h1></center>"
                    "<hr><center>nginx</center></body></html>"
                )
            return HTMLResponse(html, status_code=status)
        code = fault.code or 50000
        if code == 20001:
            return _PartialSuccess()
        return self.envelope(code, fault.message or MESSAGES.get(code, "Error"), {})

    def render_rate_limited(self) -> Response:
        return self.envelope(40100, MESSAGES[40100], {})

    # --- dispatcher -------------------------------------------------------------------------------
    async def dispatch(self, request: Request) -> Response:
        path = request.path_params.get("path", "")
        spec = ROUTES.get(path)
        if spec is None:
            return PlainTextResponse("page not found", status_code=404)
        methods, endpoint, auth, handler = spec
        if request.method not in methods:
            return PlainTextResponse("method not allowed", status_code=405)
        override = await self.control.intercept(
            endpoint, self.render_fault, render_rate_limited=self.render_rate_limited
        )
        partial = False
        if override is not None:
            if not isinstance(override, _PartialSuccess):
                return override
            partial = True
        try:
            token = self.authenticate(request) if auth else None
            data = await handler(self, Ctx(request, token, request.query_params))
        except ApiError as exc:
            return self.envelope(exc.code, exc.message, {})
        except TrackError as exc:
            return self.envelope(exc.code, exc.message, {})
        except Exception:  # pragma: no cover - a sandbox bug: answer like TikTok's system error
            log.exception("sandbox TikTok handler %s failed", endpoint)
            return self.envelope(50000, MESSAGES[50000], {})
        if partial:
            return self.envelope(20001, MESSAGES[20001], data)
        return self.envelope(0, "OK", data)

    async def json_body(self, request: Request) -> dict[str, Any]:
        raw = await request.body()
        try:
            body = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError:
            raise bad_param("Invalid JSON body: the request body must be a JSON object.") from None
        if not isinstance(body, dict):
            raise bad_param("Invalid JSON body: the request body must be a JSON object.")
        return body

    def check_app(self, app_id: Any, secret: Any) -> None:
        if app_id is None or app_id == "":
            raise bad_param("app_id: Missing data for required field.")
        if secret is None or secret == "":
            raise bad_param("secret: Missing data for required field.")
        if str(app_id) != self.app_id or str(secret) != self.app_secret:
            raise ApiError(40101, "App ID or secret is invalid. Please check app_id and secret.")

    # --- OAuth ------------------------------------------------------------------------------------
    def issue_auth_code(self) -> tuple[str, dt.datetime]:
        code = secrets.token_hex(20)
        issued = self.clock.now()
        self.auth_codes[code] = {"issued_at": issued, "used": False}
        return code, issued + self.auth_code_ttl

    async def oauth_access_token(self, ctx: Ctx) -> dict[str, Any]:
        body = await self.json_body(ctx.request)
        self.check_app(body.get("app_id"), body.get("secret"))
        code = body.get("auth_code")
        if not code:
            raise bad_param("auth_code: Missing data for required field.")
        entry = self.auth_codes.get(str(code))
        if entry is None:
            raise ApiError(
                40101,
                "Invalid auth_code. Not able to get long-term access_token with an old auth_code "
                "or an auth_code that was not issued to this app.",
            )
        if entry["used"]:
            raise ApiError(40110, MESSAGES[40110])
        if self.clock.now() - entry["issued_at"] > self.auth_code_ttl:
            raise ApiError(
                40110,
                "The auth_code is expired (valid for 1 hour). Please re-authorize and try again with a new auth_code.",
            )
        entry["used"] = True
        token = self.mint_token("marketing", None)
        data: dict[str, Any] = {"access_token": token, "scope": list(TOKEN_SCOPE)}
        if body.get("return_advertiser_ids", True) is not False:
            data["advertiser_ids"] = list(self.advertisers)
        else:
            data["advertiser_ids"] = []
        return data

    async def oauth_revoke_token(self, ctx: Ctx) -> dict[str, Any]:
        body = await self.json_body(ctx.request)
        self.check_app(body.get("app_id"), body.get("secret"))
        token = body.get("access_token")
        if not token:
            raise bad_param("access_token: Missing data for required field.")
        info = self.tokens.get(str(token))
        if info is None or info.revoked:
            raise ApiError(40105)
        info.revoked = True
        granted = [a for a in self.advertisers if info.can_access(a)]
        return {"app_id": self.app_id, "advertiser_ids": granted}

    async def oauth_advertiser_get(self, ctx: Ctx) -> dict[str, Any]:
        self.check_app(ctx.params.get("app_id"), ctx.params.get("secret"))
        token = ctx.token
        assert token is not None
        rows = [
            {"advertiser_id": a, "advertiser_name": rec["name"]}
            for a, rec in self.advertisers.items()
            if token.kind != "events" and token.can_access(a)
        ]
        return {"list": rows}

    # --- advertiser/info --------------------------------------------------------------------------
    async def advertiser_info(self, ctx: Ctx) -> dict[str, Any]:
        ids = id_list("advertiser_ids", json_param(ctx.params, "advertiser_ids", list, required=True))
        if not ids:
            raise bad_param("advertiser_ids: Length must be between 1 and 100.")
        fields = json_param(ctx.params, "fields", list)
        if fields is not None:
            unknown = [f for f in fields if f not in ADVERTISER_FIELDS]
            if unknown:
                raise bad_param(f"fields: Unknown field(s): {', '.join(map(str, unknown))}.")
        out = []
        for advertiser_id in ids:
            self.require_advertiser(ctx, advertiser_id, "advertiser_ids")
            rec = self.advertisers[advertiser_id]
            out.append(rec if fields is None else {k: rec[k] for k in ["advertiser_id", *fields]})
        return {"list": out}

    # --- campaign / adgroup / ad get ----------------------------------------------------------------
    async def entity_get(self, ctx: Ctx, level: str) -> dict[str, Any]:
        params = ctx.params
        advertiser_id = self.require_advertiser(ctx, params.get("advertiser_id"))
        fields = json_param(params, "fields", list)
        if fields is not None:
            unknown = [f for f in fields if f not in ENTITY_FIELDS[level]]
            if unknown:
                raise bad_param(f"fields: Unknown field(s) for {level}: {', '.join(map(str, unknown))}.")
        filtering = json_param(params, "filtering", dict) or {}
        page = int_param(params, "page", 1, 1)
        page_size = int_param(params, "page_size", 10, 1, 1000)
        rows = self.entities[level].get(advertiser_id, [])
        predicate = self._entity_predicate(level, filtering)
        matched = [rec for rec, deleted in rows if predicate(rec, deleted)]
        start = (page - 1) * page_size
        page_rows = matched[start : start + page_size]
        if fields is not None:
            page_rows = [{k: r[k] for k in fields} for r in page_rows]
        return {"list": page_rows, "page_info": page_info(page, page_size, len(matched))}

    def _entity_predicate(self, level: str, filtering: dict[str, Any]) -> Callable[[dict, bool], bool]:
        allowed_keys = ENTITY_FILTER_KEYS[level]
        checks: list[Callable[[dict, bool], bool]] = []
        prefix = {"campaign": "CAMPAIGN", "adgroup": "ADGROUP", "ad": "AD"}[level]
        status_given = False
        for key, value in filtering.items():
            if key not in allowed_keys:
                raise bad_param(f"filtering.{key}: Unknown or unsupported filter field for {level}/get.")
            if key in ("campaign_ids", "adgroup_ids", "ad_ids"):
                ids = id_list(f"filtering.{key}", value)
                if not ids:
                    raise bad_param(f"filtering.{key}: Length must be between 1 and {MAX_IDS}.")
                field, wanted = key[:-1], frozenset(ids)
                checks.append(lambda r, d, f=field, w=wanted: r[f] in w)
            elif key in ("campaign_name", "adgroup_name", "ad_name"):
                if not isinstance(value, str):
                    raise bad_param(f"filtering.{key}: Not a valid string.")
                needle = value.lower()
                checks.append(lambda r, d, f=key, n=needle: n in (r.get(f) or "").lower())
            elif key in ("objective_type", "optimization_goal", "promotion_type"):
                if not isinstance(value, str):
                    raise bad_param(f"filtering.{key}: Not a valid string.")
                if key == "objective_type" and level != "campaign":
                    objective = self.campaign_objective
                    checks.append(lambda r, d, v=value, o=objective: o.get(r["campaign_id"]) == v)
                else:
                    checks.append(lambda r, d, f=key, v=value: r.get(f) == v)
            elif key == "secondary_status":
                if not isinstance(value, str):
                    raise bad_param(f"filtering.{key}: Not a valid string.")
                status_given = True
                if value == f"{prefix}_STATUS_ALL":
                    continue
                if value == f"{prefix}_STATUS_NOT_DELETE":
                    checks.append(lambda r, d: not d)
                elif value == f"{prefix}_STATUS_DELETE":
                    checks.append(lambda r, d: d)
                elif value.startswith(f"{prefix}_STATUS_"):
                    checks.append(lambda r, d, v=value: r["secondary_status"] == v)
                else:
                    raise bad_param(f"filtering.secondary_status: Invalid value {value!r} for {level}/get.")
            elif key == "primary_status":
                if not isinstance(value, str):
                    raise bad_param(f"filtering.{key}: Not a valid string.")
                status_given = True
                if value in ("STATUS_ALL", f"{prefix}_STATUS_ALL"):
                    continue
                if value == "STATUS_NOT_DELETE":
                    checks.append(lambda r, d: not d)
                elif value == "STATUS_DELETE":
                    checks.append(lambda r, d: d)
                elif value in ("STATUS_DELIVERY_OK", "STATUS_ENABLE"):
                    checks.append(lambda r, d: not d and r["operation_status"] == "ENABLE")
                elif value == "STATUS_DISABLE":
                    checks.append(lambda r, d: not d and r["operation_status"] == "DISABLE")
                else:
                    raise bad_param(f"filtering.primary_status: Invalid value {value!r}.")
            elif key in ("creation_filter_start_time", "creation_filter_end_time"):
                try:
                    bound = dt.datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").strftime("%Y-%m-%d %H:%M:%S")
                except ValueError:
                    raise bad_param(f"filtering.{key}: Not a valid datetime (YYYY-MM-DD HH:MM:SS).") from None
                if key.endswith("start_time"):
                    checks.append(lambda r, d, b=bound: (r["create_time"] or "") >= b)
                else:
                    checks.append(lambda r, d, b=bound: (r["create_time"] or "") <= b)
            # buying_types, is_smart_performance_campaign, billing_events: accepted, no effect
        if not status_given:
            checks.append(lambda r, d: not d)

        def predicate(rec: dict, deleted: bool) -> bool:
            for check in checks:
                if not check(rec, deleted):
                    return False
            return True

        return predicate

    # --- report ------------------------------------------------------------------------------------
    async def report_get(self, ctx: Ctx) -> dict[str, Any]:
        q = self.parse_report_query(ctx)
        total, rows = self.report.run(q, self.clock.now())
        return {"list": rows, "page_info": page_info(q.page, q.page_size, total)}

    def parse_report_query(self, ctx: Ctx) -> ReportQuery:
        p = ctx.params
        report_type = p.get("report_type")
        if not report_type:
            raise bad_param("report_type: Missing data for required field.")
        if report_type != "BASIC":
            if report_type in REPORT_TYPES_UNSUPPORTED:
                raise bad_param(f"report_type: {report_type} is not supported in the sandbox; use BASIC.")
            raise bad_param("report_type: Must be one of: BASIC, AUDIENCE, PLAYABLE_MATERIAL, CATALOG, BC, TT_SHOP.")
        service_type = p.get("service_type") or "AUCTION"
        if service_type != "AUCTION":
            raise bad_param("service_type: Must be one of: AUCTION.")
        multi = p.get("advertiser_ids") not in (None, "")
        if multi:
            raw_ids = id_list("advertiser_ids", json_param(p, "advertiser_ids", list), max_items=5)
            if not raw_ids:
                raise bad_param("advertiser_ids: Length must be between 1 and 5.")
            advertiser_ids = [self.require_advertiser(ctx, a, "advertiser_ids") for a in dict.fromkeys(raw_ids)]
        else:
            advertiser_ids = [self.require_advertiser(ctx, p.get("advertiser_id"))]
        data_level = p.get("data_level")
        if not data_level:
            raise bad_param("data_level: Missing data for required field.")
        if data_level not in LEVELS:
            raise bad_param(f"data_level: Must be one of: {', '.join(LEVELS)}.")
        level = LEVELS[data_level]
        id_dim = ID_DIMENSION[level]
        dimensions = json_param(p, "dimensions", list, required=True)
        if not dimensions or not all(isinstance(d, str) for d in dimensions):
            raise bad_param("dimensions: Must be a non-empty list of strings.")
        if len(set(dimensions)) != len(dimensions):
            raise bad_param("dimensions: Duplicate dimensions.")
        time_dims = [d for d in dimensions if d in ("stat_time_day", "stat_time_hour")]
        id_dims = [d for d in dimensions if d in ("advertiser_id", "campaign_id", "adgroup_id", "ad_id")]
        other = [d for d in dimensions if d not in time_dims and d not in id_dims]
        if other:
            raise bad_param(f"dimensions: Unsupported dimension(s) in the sandbox: {', '.join(other)}.")
        if len(time_dims) > 1:
            raise bad_param("dimensions: stat_time_day and stat_time_hour cannot be combined.")
        if id_dims != [id_dim]:
            raise bad_param(
                f"dimensions: data_level {data_level} requires exactly the ID dimension {id_dim} "
                "(plus optionally stat_time_day or stat_time_hour)."
            )
        time = {"stat_time_day": "day", "stat_time_hour": "hour"}.get(time_dims[0]) if time_dims else None
        metrics = json_param(p, "metrics", list)
        if metrics is None:
            metrics = ["spend", "impressions"]
        if not all(isinstance(m, str) for m in metrics):
            raise bad_param("metrics: Must be a list of strings.")
        unknown = [m for m in metrics if m not in ALL_METRICS]
        if unknown:
            raise bad_param(f"metrics: Invalid metric(s): {', '.join(unknown)}.")
        wrong_level = [m for m in metrics if m in ATTRIBUTE_LEVELS and level not in ATTRIBUTE_LEVELS[m]]
        if wrong_level:
            raise bad_param(f"metrics: {', '.join(wrong_level)} not supported with data_level {data_level}.")
        metrics = list(dict.fromkeys(metrics))
        lifetime = bool_param(p, "query_lifetime")
        start = end = None
        if lifetime:
            if time is not None:
                raise bad_param("dimensions: time dimensions are not allowed with query_lifetime=true.")
        else:
            start = self._date_param(p, "start_date")
            end = self._date_param(p, "end_date")
            if end < start:
                raise bad_param("end_date: end_date must be on or after start_date.")
            cap = RANGE_CAPS[time]
            if (end - start).days + 1 > cap:
                what = {"day": "with stat_time_day", "hour": "with stat_time_hour", None: "without a time dimension"}
                raise bad_param(f"end_date: The time range {what[time]} cannot exceed {cap} day(s).")
        status_filters: dict[str, set[str]] = {}
        id_filters: dict[str, set[str]] = {}
        filtering = json_param(p, "filtering", list)
        for n, item in enumerate(filtering or []):
            where = f"filtering.{n}"
            if not isinstance(item, dict):
                raise bad_param(f"{where}: Not a valid mapping type.")
            field_name = item.get("field_name")
            filter_type = item.get("filter_type")
            value = item.get("filter_value")
            if not isinstance(field_name, str) or not field_name:
                raise bad_param(f"{where}.field_name: Missing data for required field.")
            if filter_type not in REPORT_FILTER_TYPES:
                raise bad_param(f"{where}.filter_type: Must be one of: {', '.join(sorted(REPORT_FILTER_TYPES))}.")
            if isinstance(value, str):
                values = (
                    parse_structured(f"{where}.filter_value", value, list)
                    if filter_type in ("IN", "BETWEEN")
                    else [value]
                )
            elif isinstance(value, list):
                values = value
            else:
                raise bad_param(f"{where}.filter_value: Missing data for required field.")
            status_level = {v: k for k, v in STATUS_FIELD.items()}.get(field_name)
            if status_level is not None:
                if filter_type != "IN":
                    raise bad_param(f"{where}.filter_type: {field_name} supports only IN.")
                bad = [v for v in values if v not in REPORT_STATUS_VALUES]
                if bad or not values:
                    raise bad_param(
                        f"{where}.filter_value: {field_name} values must be among "
                        f"{', '.join(sorted(REPORT_STATUS_VALUES))} in the sandbox."
                    )
                status_filters.setdefault(status_level, set()).update(values)
            elif field_name in ID_FILTER:
                if filter_type != "IN":
                    raise bad_param(f"{where}.filter_type: {field_name} supports only IN.")
                ids = id_list(f"{where}.filter_value ({field_name})", values, code=40011)
                id_filters.setdefault(ID_FILTER[field_name], set()).update(ids)
            else:
                raise bad_param(f"{where}.field_name: Unsupported filter field in the sandbox: {field_name}.")
        page = int_param(p, "page", 1, 1)
        page_size = int_param(p, "page_size", 10, 1, 1000)
        return ReportQuery(
            advertiser_ids=advertiser_ids,
            level=level,
            dimensions=dimensions,
            time=time,
            metrics=metrics,
            start=start,
            end=end,
            status_filters=status_filters,
            id_filters=id_filters,
            page=page,
            page_size=page_size,
            multi_advertiser=multi,
        )

    @staticmethod
    def _date_param(p: Mapping[str, str], name: str) -> dt.date:
        raw = p.get(name)
        if not raw:
            raise bad_param(f"{name}: Missing data for required field.")
        try:
            if len(raw) != 10:
                raise ValueError
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise bad_param(f"{name}: Not a valid date (YYYY-MM-DD).") from None

    # --- pixel/list ---------------------------------------------------------------------------------
    async def pixel_list(self, ctx: Ctx) -> dict[str, Any]:
        p = ctx.params
        advertiser_id = self.require_advertiser(ctx, p.get("advertiser_id"))
        page = int_param(p, "page", 1, 1)
        page_size = int_param(p, "page_size", 10, 1, 20)
        rows = self.pixels.get(advertiser_id, [])
        if p.get("code"):
            rows = [r for r in rows if r["pixel_code"] == p["code"]]
        if p.get("pixel_id"):
            rows = [r for r in rows if r["pixel_id"] == p["pixel_id"]]
        if p.get("name"):
            needle = p["name"].lower()
            rows = [r for r in rows if needle in r["pixel_name"].lower()]
        order_by = p.get("order_by")
        if order_by not in (None, "", "EARLIEST_CREATE", "LATEST_CREATE"):
            raise bad_param("order_by: Must be one of: EARLIEST_CREATE, LATEST_CREATE.")
        rows = sorted(rows, key=lambda r: (r["create_time"] or "", r["pixel_id"]), reverse=order_by == "LATEST_CREATE")
        start = (page - 1) * page_size
        return {"pixels": rows[start : start + page_size], "page_info": page_info(page, page_size, len(rows))}

    # --- event/track --------------------------------------------------------------------------------
    async def event_track(self, ctx: Ctx) -> dict[str, Any]:
        body = await self.json_body(ctx.request)
        source = body.get("event_source")
        if source is None:
            raise bad_param("event_source: Missing data for required field.")
        if source != "web":
            raise bad_param(
                f"event_source: Must be one of: web (got {source!r}; app, offline and crm are not "
                "supported by the sandbox)."
            )
        pixel_code = body.get("event_source_id")
        if not pixel_code:
            raise bad_param("event_source_id: Missing data for required field.")
        if not isinstance(pixel_code, str):
            raise bad_param("event_source_id: Not a valid string.")
        token = ctx.token
        assert token is not None
        advertiser_id = self.pixel_advertiser.get(pixel_code)
        if advertiser_id is None or token.kind == "standard" or not token.can_access(advertiser_id):
            raise ApiError(40001, NO_PERMISSION_PIXEL.format(code=pixel_code))
        try:
            self.events.track(pixel_code, body, self.clock.now().timestamp())
        except TrackError:
            self.events.reject(pixel_code)
            raise
        return {}

    # --- sandbox-only routes -----------------------------------------------------------------------
    async def consent_page(self, request: Request) -> Response:
        q = request.query_params
        if q.get("app_id") != self.app_id:
            return PlainTextResponse("Invalid app_id: this app is not registered with the sandbox.", status_code=400)
        redirect_uri = q.get("redirect_uri")
        if not redirect_uri:
            return PlainTextResponse("redirect_uri is required.", status_code=400)
        code, _ = self.issue_auth_code()
        params = {"auth_code": code}
        if q.get("state") is not None:
            params["state"] = q["state"]
        sep = "&" if urllib.parse.urlsplit(redirect_uri).query else "?"
        return RedirectResponse(redirect_uri + sep + urllib.parse.urlencode(params), status_code=302)

    async def sandbox_auth_codes(self, request: Request) -> Response:
        code, expires = self.issue_auth_code()
        return JSONResponse({"auth_code": code, "expires_at": expires.isoformat()})

    async def sandbox_tokens(self, request: Request) -> Response:
        body = await _loose_json(request)
        kind = body.get("kind", "marketing")
        if kind not in ("marketing", "events", "standard"):
            return JSONResponse({"error": "bad_kind", "message": "kind: marketing | events | standard"}, 400)
        advertisers = body.get("advertiser_ids")
        token = self.mint_token(kind, frozenset(map(str, advertisers)) if advertisers is not None else None)
        return JSONResponse({"token": token, "kind": kind, "advertiser_ids": advertisers})

    async def sandbox_tokens_revoke(self, request: Request) -> Response:
        body = await _loose_json(request)
        token = body.get("token")
        info = self.tokens.get(str(token)) if token else None
        if info is None:
            return JSONResponse({"error": "unknown_token", "message": "no such token"}, status_code=404)
        info.revoked = True
        return JSONResponse({"revoked": True})

    async def sandbox_tokens_reset(self, request: Request) -> Response:
        self.reset_tokens()
        return JSONResponse({"reset": True})

    async def sandbox_events_received(self, request: Request) -> Response:
        q = request.query_params
        pixel_code = q.get("pixel_code") or None
        body = self.events.counts(pixel_code)
        if q.get("payloads", "").lower() in ("true", "1"):
            try:
                limit = max(0, min(int(q.get("limit", 100)), 10_000))
                offset = max(0, int(q.get("offset", 0)))
            except ValueError:
                return JSONResponse({"error": "bad_param", "message": "limit/offset must be integers"}, 400)
            test = q.get("kind", "production") == "test"
            total, rows = self.events.payloads(pixel_code, test=test, limit=limit, offset=offset)
            body["payloads"] = {
                "kind": "test" if test else "production",
                "total": total,
                "limit": limit,
                "offset": offset,
                "events": rows,
            }
        return Response(orjson.dumps(body), media_type="application/json")

    async def sandbox_events_reset(self, request: Request) -> Response:
        self.events.reset()
        return JSONResponse({"reset": True})

    def reset(self) -> None:
        """Back to the state right after start: clock at the anchor (not live), no faults, zero
        counters, the initial rate limits, tokens and events config, no auth codes, no events."""
        control = self.control
        control.disarm_all()
        control.stats.clear()
        self.clock.set_live(False)
        self.clock.set(self.clock.anchor)
        control.rate_limiter.limits.clear()
        control.rate_limiter.configure(self.initial_rate_limits)
        self.reset_tokens()
        self.auth_codes.clear()
        self.events.reset()
        self.events.config = dataclasses.replace(self.initial_events_config)

    async def sandbox_reset(self, request: Request) -> Response:
        self.reset()
        return JSONResponse({"reset": True, "now": self.clock.now().isoformat()})

    async def sandbox_events_config(self, request: Request) -> Response:
        config = self.events.config
        if request.method == "POST":
            body = await _loose_json(request)
            for key, value in body.items():
                if not hasattr(config, key):
                    return JSONResponse({"error": "bad_config", "message": f"unknown setting {key}"}, 400)
                setattr(config, key, value)
        return JSONResponse(dataclasses.asdict(config))


class _PartialSuccess(Response):
    """Marker: a 20001 fault; the request is processed, then answered with code 20001."""

    def __init__(self) -> None:
        super().__init__(b"", status_code=200)


async def _loose_json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}
    return body if isinstance(body, dict) else {}


Handler = Callable[[TikTokSandbox, Ctx], Awaitable[dict[str, Any]]]

# path (after /open_api/v1.3/, trailing slash included) -> (methods, endpoint name, auth?, handler)
ROUTES: dict[str, tuple[frozenset[str], str, bool, Handler]] = {
    "oauth2/access_token/": (frozenset({"POST"}), "oauth2/access_token", False, TikTokSandbox.oauth_access_token),
    "oauth2/revoke_token/": (frozenset({"POST"}), "oauth2/revoke_token", False, TikTokSandbox.oauth_revoke_token),
    "oauth2/advertiser/get/": (frozenset({"GET"}), "oauth2/advertiser/get", True, TikTokSandbox.oauth_advertiser_get),
    "advertiser/info/": (frozenset({"GET"}), "advertiser/info", True, TikTokSandbox.advertiser_info),
    "campaign/get/": (frozenset({"GET"}), "campaign/get", True, lambda s, c: s.entity_get(c, "campaign")),
    "adgroup/get/": (frozenset({"GET"}), "adgroup/get", True, lambda s, c: s.entity_get(c, "adgroup")),
    "ad/get/": (frozenset({"GET"}), "ad/get", True, lambda s, c: s.entity_get(c, "ad")),
    "report/integrated/get/": (frozenset({"GET"}), "report/integrated/get", True, TikTokSandbox.report_get),
    "pixel/list/": (frozenset({"GET"}), "pixel/list", True, TikTokSandbox.pixel_list),
    "event/track/": (frozenset({"POST"}), "event/track", True, TikTokSandbox.event_track),
}
EVENTS_ENDPOINTS = ("event/track",)


def create_tiktok_app(
    world: World,
    control: SandboxControl | None = None,
    *,
    marketing_qps: float | None = DEFAULT_MARKETING_QPS,
    events_qps: float | None = DEFAULT_EVENTS_QPS,
    rate_limits: Mapping[str, float | None] | None = None,
    events_config: EventsConfig | None = None,
    strict_hashing: bool | None = None,
    event_max_age_seconds: float | None = None,
    auth_code_ttl_seconds: float = AUTH_CODE_TTL_SECONDS,
    restate: Callable[..., Any] | None = None,
) -> Starlette:
    """The sandbox TikTok Business API for ``world``.

    - ``control``: clock/faults/rate limiter (a fresh one on ``world.anchor`` if omitted).
    - ``marketing_qps``: per-endpoint QPS of the Marketing API endpoints (``None``/0 = unlimited);
      ``events_qps``: QPS of ``event/track`` (``None``/0 = unlimited); ``rate_limits``: explicit
      per-endpoint overrides applied last (``NO_RATE_LIMITS`` lifts everything). Also adjustable at
      run time with ``POST /_sandbox/rate_limits``.
    - ``events_config`` / ``strict_hashing`` / ``event_max_age_seconds``: Events API strictness.
    - ``auth_code_ttl_seconds``: auth_code lifetime in sandbox-clock seconds (default 1 h).
    - ``restate``: override of the restatement rule, same signature as
      :func:`.ground_truth.restated` (default: that function; leave it for faithful runs).
    """
    control = control or SandboxControl(SandboxClock(world.anchor))
    limits: dict[str, float | None] = {"*": marketing_qps or None}
    for name in EVENTS_ENDPOINTS:
        limits[name] = events_qps or None
    if rate_limits:
        limits.update(rate_limits)
    control.rate_limiter.configure(limits)
    config = dataclasses.replace(events_config) if events_config is not None else EventsConfig()
    if strict_hashing is not None:
        config.strict_hashing = strict_hashing
    if event_max_age_seconds is not None:
        config.max_age_seconds = event_max_age_seconds
    sandbox = TikTokSandbox(
        world, control, events_config=config, auth_code_ttl_seconds=auth_code_ttl_seconds, restate=restate
    )

    async def not_found(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("page not found", status_code=404)

    routes = [
        Route("/open_api/v1.3/{path:path}", sandbox.dispatch, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
        Route("/portal/auth", sandbox.consent_page, methods=["GET"]),
        Route("/marketing_api/auth", sandbox.consent_page, methods=["GET"]),
        Route("/_sandbox/auth_codes", sandbox.sandbox_auth_codes, methods=["POST"]),
        Route("/_sandbox/tokens", sandbox.sandbox_tokens, methods=["POST"]),
        Route("/_sandbox/tokens/revoke", sandbox.sandbox_tokens_revoke, methods=["POST"]),
        Route("/_sandbox/tokens/reset", sandbox.sandbox_tokens_reset, methods=["POST"]),
        Route("/_sandbox/events/received", sandbox.sandbox_events_received, methods=["GET"]),
        Route("/_sandbox/events/reset", sandbox.sandbox_events_reset, methods=["POST"]),
        Route("/_sandbox/events/config", sandbox.sandbox_events_config, methods=["GET", "POST"]),
        Route("/_sandbox/reset", sandbox.sandbox_reset, methods=["POST"]),
        *control.routes(extra_state=lambda: {"events": sandbox.events.counts()}),
    ]
    app = Starlette(routes=routes, exception_handlers={404: not_found})
    app.router.redirect_slashes = False
    app.state.sandbox = sandbox
    app.state.control = control
    return app
