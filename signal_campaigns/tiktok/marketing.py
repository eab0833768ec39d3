"""The small TikTok client the CLI uses: OAuth, a few reporting reads and one Events API test event.

- One HTTP stack (httpx), the envelope read by :func:`~.envelope.parse_envelope`, codes classified
  by the one table of :mod:`.codes`, reads retried by :mod:`.retry` with a short interactive
  budget. OAuth calls are made once (an authorization code is single-use).
- OAuth calls (``oauth2/access_token/``, ``oauth2/revoke_token/``, ``oauth2/advertiser/get/``)
  carry the app secret in the body or the query: messages are scrubbed of the secret and the token
  (:mod:`signal_campaigns.secrets`), and httpx's request log line is switched off for them.
- Events API checks use :class:`~.events_api.EventsApiClient`: one ViewContent **test** event
  (``test_event_code``), which TikTok keeps out of production counts.

Every failure is a :class:`~signal_campaigns.errors.ActionableError` with what to do (``fix``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx

from signal_campaigns.errors import ActionableError
from signal_campaigns.forwarding.batching import DEFAULT_TEST_EVENT_CODE
from signal_campaigns.forwarding.payload import TEST_EVENT_PAGE_URL, build_event, encode_body
from signal_campaigns.secrets import scrub

from . import api, codes, retry
from .codes import Kind
from .envelope import NotAnEnvelope, TikTokError, error_for_code, parse_envelope
from .events_api import EventsApiAuthError, EventsApiClient, EventsApiRequestError, EventsApiUnavailableError
from .retry import RetryPolicy

INTERACTIVE_RETRY = RetryPolicy(max_attempts=3, base_delay=0.5, max_delay=4.0)
ONCE = RetryPolicy(max_attempts=1)
TIMEOUT_SECONDS = 30.0
TEST_EVENT_USER_AGENT = "signal-campaigns-cli (test event)"
PAGE_SIZE = 1000  # entity endpoints accept 1..1000
PIXEL_PAGE_SIZE = 20  # pixel/list/ accepts 1..20
ADVERTISER_IDS_PER_CALL = 100  # advertiser/info/ accepts at most 100 ids
ADVERTISER_FIELDS = ["advertiser_id", "name", "currency", "timezone", "status"]
CONNECT_AGAIN = "then run `signal-campaigns connect` again"

ADMIN_OPERATOR = (
    "the Events API needs the pixel's advertiser to be reachable by a token created by an Admin or "
    "Operator of that advertiser (Standard access cannot create or use the Events API token)"
)
PIXEL_40001_FIX = (
    "open TikTok Events Manager with an Admin or Operator account of the advertiser that owns the "
    "pixel, generate the Events API access token for THIS pixel (Pixel > Settings > Generate Access "
    "Token), then run `signal-campaigns pixel` again with it"
)
EVENTS_TOKEN_FIX = "generate a new token in Business Center (Events Manager > Pixel > Settings), then run `signal-campaigns pixel` again with it"


def host_root(base_url: str | None) -> str:
    return api.host_root(base_url)


@contextlib.contextmanager
def _httpx_request_log_off() -> Iterator[None]:
    """httpx logs every request URL at INFO; OAuth URLs carry the app secret in the query
    (``oauth2/advertiser/get/``), so that log line is switched off for these calls."""
    httpx_log = logging.getLogger("httpx")
    level = httpx_log.level
    httpx_log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        httpx_log.setLevel(level)


class TikTokApi:
    """One base URL, optionally an OAuth access token and the app credentials."""

    def __init__(
        self,
        base_url: str | None,
        *,
        access_token: str | None = None,
        app_id: str | None = None,
        app_secret: str | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.base_url = api.api_base(base_url)
        self._token = access_token
        self.app_id = app_id
        self._secret = app_secret
        self.timeout = timeout

    def __repr__(self) -> str:  # never the token or the secret
        return f"TikTokApi(base_url={self.base_url!r})"

    def _scrub(self, text: str) -> str:
        return scrub(text, self._token, self._secret)

    # --- one call: transport, retries, envelope ------------------------------------------------
    def _call(
        self,
        path: str,
        *,
        method: str = "GET",
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        token: bool = True,
        policy: RetryPolicy = INTERACTIVE_RETRY,
    ) -> dict[str, Any]:
        """The ``data`` of a successful call; :class:`ActionableError` with the fix otherwise."""
        endpoint = api.endpoint_name(path)
        headers = {api.ACCESS_TOKEN_HEADER: self._access_token()} if token else {}
        attempt = 0
        while True:
            attempt += 1
            failure, retry_after = self._attempt(endpoint, path, method, params, body, headers)
            if isinstance(failure, dict):
                return failure
            if not failure.retryable or policy.exhausted(attempt):
                raise failure.error
            time.sleep(policy.delay(attempt, retry_after=retry_after))

    def _attempt(
        self,
        endpoint: str,
        path: str,
        method: str,
        params: dict[str, Any] | None,
        body: dict[str, Any] | None,
        headers: dict[str, str],
    ) -> tuple[dict[str, Any] | _Failure, float | None]:
        try:
            with _httpx_request_log_off():
                response = httpx.request(
                    method,
                    api.endpoint_url(self.base_url, path),
                    params=params,
                    json=body,
                    headers=headers,
                    timeout=self.timeout,
                )
        except httpx.TimeoutException:
            what = f"TikTok did not answer {endpoint} within {self.timeout:g} s"
            return _Failure(
                ActionableError(what, fix="check your network and the base URL, then try again"), True
            ), None
        except retry.TRANSPORT_ERRORS as exc:
            what = f"cannot reach TikTok at {self.base_url} ({type(exc).__name__})"
            fix = "check the base URL (sources.tiktok_ads.base_url) and your network"
            return _Failure(ActionableError(what, fix=fix), True), None
        retry_after = retry.retry_after_seconds(response.headers.get("Retry-After"))
        if response.status_code != 200:
            what = f"TikTok answered HTTP {response.status_code} on {endpoint}"
            fix = "check the base URL: it must end in /open_api/v1.3; on 5xx try again later"
            return _Failure(ActionableError(what, fix=fix), retry.retryable_status(response.status_code)), retry_after
        try:
            envelope = parse_envelope(response.content)
        except NotAnEnvelope:
            what = f"TikTok answered {endpoint} without its JSON envelope"
            return _Failure(ActionableError(what, fix="try again later"), True), None
        if envelope.succeeded:
            return (envelope.data if isinstance(envelope.data, dict) else {}), None
        code, message = envelope.code, self._scrub(envelope.message)
        entry = codes.lookup(code)
        if entry.kind is Kind.AUTH and endpoint.startswith("oauth2/"):
            # on an authorization call the fix is always to connect again, after the table's advice
            what = f"{entry.meaning.format(advertiser='?')} (code {code}). TikTok said: {message}"
            return _Failure(ActionableError(what, fix=f"{entry.advice}, {CONNECT_AGAIN}", code=code), False), None
        err = error_for_code(code, message, endpoint=endpoint, request_id=envelope.request_id, params=params)
        failure = _Failure(ActionableError(self._scrub(str(err)), fix=advice_for(err), code=code), entry.retryable)
        return failure, retry_after

    # --- OAuth (the app secret travels in the request; never retried) ----------------------------
    def _require_app(self) -> tuple[str, str]:
        if not self.app_id or not self._secret:
            raise ActionableError(
                "the TikTok app id and app secret are needed for this step",
                fix="pass --app-id and --app-secret (or set SOURCES__TIKTOK_ADS__APP_ID / "
                "SOURCES__TIKTOK_ADS__APP_SECRET)",
            )
        return self.app_id, self._secret

    def exchange_code(self, auth_code: str) -> dict[str, Any]:
        """``oauth2/access_token/``: ``{access_token, advertiser_ids, scope}``."""
        app_id, secret = self._require_app()
        body = {"app_id": app_id, "secret": secret, "auth_code": auth_code}
        data = self._call(api.OAUTH_ACCESS_TOKEN_PATH, method="POST", body=body, token=False, policy=ONCE)
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise ActionableError("TikTok's token answer carried no access_token", fix="run connect again")
        ids = data.get("advertiser_ids") if isinstance(data.get("advertiser_ids"), list) else []
        return {"access_token": token, "advertiser_ids": [str(a) for a in ids or []], "scope": data.get("scope") or []}

    def revoke(self, access_token: str) -> list[str]:
        """``oauth2/revoke_token/``: the advertiser ids that lost access."""
        app_id, secret = self._require_app()
        body = {"app_id": app_id, "secret": secret, "access_token": access_token}
        data = self._call(api.OAUTH_REVOKE_TOKEN_PATH, method="POST", body=body, token=False, policy=ONCE)
        ids = data.get("advertiser_ids")
        return [str(a) for a in ids] if isinstance(ids, list) else []

    def authorized_advertisers(self) -> list[dict[str, str]]:
        """``oauth2/advertiser/get/``: ``[{advertiser_id, advertiser_name}]`` the token may read."""
        app_id, secret = self._require_app()
        params = {"app_id": app_id, "secret": secret}
        data = self._call(api.OAUTH_ADVERTISER_GET_PATH, params=params, policy=ONCE)
        rows = data.get("list") if isinstance(data.get("list"), list) else []
        return [
            {"advertiser_id": str(r.get("advertiser_id")), "advertiser_name": str(r.get("advertiser_name") or "")}
            for r in rows or []
            if isinstance(r, dict) and r.get("advertiser_id")
        ]

    # --- reporting reads -----------------------------------------------------------------------
    def _access_token(self) -> str:
        if not self._token:
            raise ActionableError(
                "TikTok is not connected (no OAuth access token)", fix="run `signal-campaigns connect` first"
            )
        return self._token

    def _pages(self, path: str, params: dict[str, Any], *, page_size: int, key: str = "list") -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        page, total = 1, 1
        while page <= total:
            data = self._call(path, params={**params, "page": page, "page_size": page_size})
            found = data.get(key)
            rows.extend(r for r in found or [] if isinstance(r, dict))
            info = data.get("page_info")
            total = int(info.get("total_page") or 1) if isinstance(info, dict) else 1
            page += 1
        return rows

    def advertiser_info(self, advertiser_ids: list[str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for i in range(0, len(advertiser_ids), ADVERTISER_IDS_PER_CALL):
            chunk = advertiser_ids[i : i + ADVERTISER_IDS_PER_CALL]
            params = {"advertiser_ids": api.json_param(chunk), "fields": api.json_param(ADVERTISER_FIELDS)}
            found = self._call(api.ADVERTISER_INFO_PATH, params=params).get("list")
            rows.extend(r for r in found or [] if isinstance(r, dict))
        return rows

    def campaigns(self, advertiser_id: str) -> list[dict[str, Any]]:
        """Every campaign of the advertiser, deleted ones included."""
        params = {
            "advertiser_id": advertiser_id,
            "filtering": api.json_param({"secondary_status": "CAMPAIGN_STATUS_ALL"}),
        }
        return self._pages(api.CAMPAIGN_GET_PATH, params, page_size=PAGE_SIZE)

    def pixels(self, advertiser_id: str) -> list[dict[str, Any]]:
        params = {"advertiser_id": advertiser_id, "order_by": "EARLIEST_CREATE"}
        return self._pages(api.PIXEL_LIST_PATH, params, page_size=PIXEL_PAGE_SIZE, key="pixels")


class _Failure:
    """A failed attempt: the error to raise, and whether another attempt may help."""

    __slots__ = ("error", "retryable")

    def __init__(self, error: ActionableError, retryable: bool) -> None:
        self.error = error
        self.retryable = retryable


def advice_for(exc: TikTokError) -> str:
    """What to do after a reporting error (the troubleshooting table's first two rows)."""
    kind = codes.kind_of(exc.code) if exc.code is not None else None
    if kind is Kind.AUTH:
        return (
            "disconnect and reconnect (`signal-campaigns disconnect`, then `connect`) with an account that "
            "still has Admin or Operator access to the advertiser and approve advertiser/reporting access; "
            "the Events API token does not grant reporting"
        )
    if kind is Kind.NOT_FOUND:
        return "select an advertiser this connection can read: `signal-campaigns accounts`"
    return "try again later; if it persists run `signal-campaigns doctor`"


# --- Events API test events ----------------------------------------------------------------------
def send_test_event(
    base_url: str | None,
    token: str | None,
    pixel_code: str,
    *,
    test_event_code: str = DEFAULT_TEST_EVENT_CODE,
    page_url: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """POST one ViewContent test event for ``pixel_code``. Returns TikTok's answer as a dict
    (``accepted``, ``code``, ``message``, ``event_id``); raises :class:`ActionableError` with the fix when
    the token or pixel is refused. Test events never count as production conversions. ``page_url``:
    the saved Signal link; without one, ``TEST_EVENT_PAGE_URL`` (TikTok requires page.url on web events)."""
    if not token:
        raise ActionableError(
            "no Events API token is configured", fix="run `signal-campaigns pixel` (or set TIKTOK_EVENTS_API_TOKEN)"
        )
    when = now or dt.datetime.now(dt.UTC)
    event_id = f"signal-cli-test-{uuid.uuid4().hex[:16]}"
    event = build_event(
        {
            "tiktok_event": "ViewContent",
            "event_time": int(when.timestamp()),
            "event_id": event_id,
            "user_agent": TEST_EVENT_USER_AGENT,
            "page_url": page_url or TEST_EVENT_PAGE_URL,
        }
    )
    body = encode_body(pixel_code, [event], test_event_code=test_event_code, partner_name="signal-campaigns")
    try:
        with EventsApiClient(api.api_base(base_url), token, timeout=TIMEOUT_SECONDS, retry=INTERACTIVE_RETRY) as client:
            result = client.track(body)
    except EventsApiAuthError as exc:
        if exc.code == 40001:
            raise ActionableError(
                f"TikTok refused the Events API token for pixel {pixel_code} (code 40001: no permission). "
                f"Either the Pixel ID does not match the token, or {ADMIN_OPERATOR}. "
                f"TikTok said: {exc.tiktok_message}",
                fix=PIXEL_40001_FIX,
                code=40001,
            ) from None
        raise ActionableError(
            f"TikTok rejected the Events API token (code {exc.code}). TikTok said: {exc.tiktok_message}",
            fix=EVENTS_TOKEN_FIX,
            code=exc.code,
        ) from None
    except EventsApiRequestError as exc:
        raise ActionableError(str(exc), fix="check the base URL and the pixel code", code=exc.code) from None
    except EventsApiUnavailableError as exc:
        raise ActionableError(str(exc), fix="TikTok is busy or unreachable: try again in a few minutes") from None
    return {
        "accepted": result.kind == "ok",
        "code": result.code,
        "message": result.message,
        "event_id": event_id,
        "event": "ViewContent",
        "pixel_code": pixel_code,
        "test_event_code": test_event_code,
        "event_time": int(when.timestamp()),
    }
