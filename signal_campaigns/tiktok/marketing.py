"""The TikTok calls the CLI makes, with the project's error classification and advice.

- Reporting reads (``advertiser/info/``, ``campaign/get/``, ``adgroup/get/``, ``pixel/list/``) go
  through the dlt source's :class:`~dlt_sources.tiktok_ads.client.TikTokClient` (same retries,
  same :class:`TikTokError` classes and advice) with a short retry budget for interactive use.
- OAuth calls (``oauth2/access_token/``, ``oauth2/revoke_token/``, ``oauth2/advertiser/get/``) carry
  the app secret in the body/query, so they are made here with httpx and the envelope is checked
  with :func:`~dlt_sources.tiktok_ads.errors.classify_error`; messages are scrubbed of the secret
  and the token and never quote the request.
- Events API checks use :class:`~signal_campaigns.forwarding.client.EventsApiClient`: one
  ViewContent **test** event (``test_event_code``), which TikTok keeps out of production counts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import uuid
from typing import Any

import httpx

from dlt_sources.tiktok_ads import settings as tiktok_settings
from dlt_sources.tiktok_ads.client import RetryPolicy, TikTokClient
from dlt_sources.tiktok_ads.errors import TikTokAuthError, TikTokError, classify_error
from signal_campaigns.cli.errors import CliError
from signal_campaigns.forwarding.forwarder import DEFAULT_TEST_EVENT_CODE
from signal_campaigns.forwarding.payload import build_event, encode_body
from signal_campaigns.tiktok.events_api import (
    API_PREFIX,
    EventsApiAuthError,
    EventsApiClient,
    EventsApiRequestError,
    EventsApiUnavailableError,
)
from signal_campaigns.tiktok.events_api import (
    RetryPolicy as EventsRetryPolicy,
)
from signal_campaigns.tiktok.events_api import api_base as events_api_base

INTERACTIVE_RETRY = RetryPolicy(max_attempts=3, backoff_seconds=0.5, max_backoff_seconds=4.0)
TIMEOUT_SECONDS = 30.0
TEST_EVENT_USER_AGENT = "signal-campaigns-cli (test event)"

OAUTH_ADVICE = {
    40110: (
        "TikTok says this authorization code was already used or has expired (code 40110): codes are "
        "single-use and valid for 1 hour",
        "run `signal-campaigns connect` again to authorize and get a new code",
    ),
    40101: (
        "TikTok rejected the app id / app secret or the authorization code (code 40101)",
        "check the app id and secret in the TikTok developer portal (Basic Information), then run "
        "`signal-campaigns connect` again with a new code",
    ),
    40113: (
        "TikTok blocked the developer app or the app id does not match (code 40113)",
        "check the app in the TikTok developer portal, then reconnect",
    ),
}
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


def api_base(base_url: str | None) -> str:
    """Any of ``https://host``, ``https://host/open_api/v1.3`` -> ``https://host/open_api/v1.3``
    (None: production)."""
    return events_api_base(base_url or tiktok_settings.DEFAULT_BASE_URL)


def host_root(base_url: str | None) -> str:
    base = api_base(base_url)
    return base[: -len(API_PREFIX)]


@contextlib.contextmanager
def _httpx_request_log_off():
    """httpx logs every request URL at INFO; OAuth URLs carry the app secret in the query
    (``oauth2/advertiser/get/``), so that log line is switched off for these calls."""
    httpx_log = logging.getLogger("httpx")
    level = httpx_log.level
    httpx_log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        httpx_log.setLevel(level)


def _scrub(text: str, *secrets: str | None) -> str:
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return text


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
        self.base_url = api_base(base_url)
        self._token = access_token
        self.app_id = app_id
        self._secret = app_secret
        self.timeout = timeout

    def __repr__(self) -> str:  # never the token or the secret
        return f"TikTokApi(base_url={self.base_url!r})"

    # --- OAuth (httpx; the app secret travels in the request) ------------------------------------
    def _envelope(self, endpoint: str, call) -> dict[str, Any]:
        try:
            with _httpx_request_log_off():
                response = call()
        except httpx.TimeoutException:
            raise CliError(
                f"TikTok did not answer {endpoint} within {self.timeout:g} s",
                fix="check your network and the base URL, then try again",
            ) from None
        except httpx.TransportError as exc:
            raise CliError(
                f"cannot reach TikTok at {self.base_url} ({type(exc).__name__})",
                fix="check the base URL (sources.tiktok_ads.base_url) and your network",
            ) from None
        if response.status_code != 200:
            raise CliError(
                f"TikTok answered HTTP {response.status_code} on {endpoint}",
                fix="check the base URL: it must end in /open_api/v1.3; on 5xx try again later",
            )
        try:
            body = response.json()
            code = int(body["code"])
        except (ValueError, KeyError, TypeError):
            raise CliError(f"TikTok answered {endpoint} without its JSON envelope", fix="try again later") from None
        if code == 0:
            data = body.get("data")
            return data if isinstance(data, dict) else {}
        message = _scrub(str(body.get("message") or ""), self._token, self._secret)
        if code in OAUTH_ADVICE:
            what, fix = OAUTH_ADVICE[code]
            raise CliError(f"{what}. TikTok said: {message}", fix=fix, code=code)
        err = classify_error(code, message, endpoint=endpoint, request_id=body.get("request_id"))
        raise CliError(_scrub(str(err), self._token, self._secret), fix=advice_for(err), code=code)

    def _require_app(self) -> tuple[str, str]:
        if not self.app_id or not self._secret:
            raise CliError(
                "the TikTok app id and app secret are needed for this step",
                fix="pass --app-id and --app-secret (or set SOURCES__TIKTOK_ADS__APP_ID / "
                "SOURCES__TIKTOK_ADS__APP_SECRET)",
            )
        return self.app_id, self._secret

    def exchange_code(self, auth_code: str) -> dict[str, Any]:
        """``oauth2/access_token/``: ``{access_token, advertiser_ids, scope}``."""
        app_id, secret = self._require_app()
        data = self._envelope(
            "oauth2/access_token",
            lambda: httpx.post(
                f"{self.base_url}/oauth2/access_token/",
                json={"app_id": app_id, "secret": secret, "auth_code": auth_code},
                timeout=self.timeout,
            ),
        )
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise CliError("TikTok's token answer carried no access_token", fix="run connect again")
        ids = data.get("advertiser_ids") if isinstance(data.get("advertiser_ids"), list) else []
        return {"access_token": token, "advertiser_ids": [str(a) for a in ids], "scope": data.get("scope") or []}

    def revoke(self, access_token: str) -> list[str]:
        """``oauth2/revoke_token/``: the advertiser ids that lost access."""
        app_id, secret = self._require_app()
        data = self._envelope(
            "oauth2/revoke_token",
            lambda: httpx.post(
                f"{self.base_url}/oauth2/revoke_token/",
                json={"app_id": app_id, "secret": secret, "access_token": access_token},
                timeout=self.timeout,
            ),
        )
        ids = data.get("advertiser_ids")
        return [str(a) for a in ids] if isinstance(ids, list) else []

    def authorized_advertisers(self) -> list[dict[str, str]]:
        """``oauth2/advertiser/get/``: ``[{advertiser_id, advertiser_name}]`` the token may read."""
        app_id, secret = self._require_app()
        data = self._envelope(
            "oauth2/advertiser/get",
            lambda: httpx.get(
                f"{self.base_url}/oauth2/advertiser/get/",
                params={"app_id": app_id, "secret": secret},
                headers={"Access-Token": self._access_token()},
                timeout=self.timeout,
            ),
        )
        rows = data.get("list") if isinstance(data.get("list"), list) else []
        return [
            {"advertiser_id": str(r.get("advertiser_id")), "advertiser_name": str(r.get("advertiser_name") or "")}
            for r in rows
            if isinstance(r, dict) and r.get("advertiser_id")
        ]

    # --- reporting reads (the dlt source's client) -----------------------------------------------
    def _access_token(self) -> str:
        if not self._token:
            raise CliError(
                "TikTok is not connected (no OAuth access token)", fix="run `signal-campaigns connect` first"
            )
        return self._token

    def _client(self) -> TikTokClient:
        return TikTokClient(
            self._access_token(), self.base_url, retry_policy=INTERACTIVE_RETRY, request_timeout=self.timeout
        )

    def _read(self, what, *args):
        try:
            return what(*args)
        except TikTokError as exc:
            raise CliError(_scrub(str(exc), self._token, self._secret), fix=advice_for(exc), code=exc.code) from None

    def advertiser_info(self, advertiser_ids: list[str]) -> list[dict[str, Any]]:
        if not advertiser_ids:
            return []
        return self._read(lambda: self._client().advertiser_info(advertiser_ids))

    def campaigns(self, advertiser_id: str) -> list[dict[str, Any]]:
        client = self._client()
        return self._read(
            lambda: [
                row
                for page in client.entities(
                    tiktok_settings.CAMPAIGN_GET_PATH, advertiser_id, tiktok_settings.ENTITY_STATUS_ALL["campaigns"]
                )
                for row in page
            ]
        )

    def pixels(self, advertiser_id: str) -> list[dict[str, Any]]:
        client = self._client()
        return self._read(lambda: [row for page in client.pixels(advertiser_id) for row in page])


def advice_for(exc: TikTokError) -> str:
    """What to do after a reporting error (the troubleshooting table's first two rows)."""
    if isinstance(exc, TikTokAuthError) or exc.code in (40001, 40102, 40105, 40106):
        return (
            "disconnect and reconnect (`signal-campaigns disconnect`, then `connect`) with an account that "
            "still has Admin or Operator access to the advertiser and approve advertiser/reporting access; "
            "the Events API token does not grant reporting"
        )
    if exc.code in (40300, 40301):
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
    (``accepted``, ``code``, ``message``, ``event_id``); raises :class:`CliError` with the fix when
    the token or pixel is refused. Test events never count as production conversions."""
    if not token:
        raise CliError(
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
            "page_url": page_url,
        }
    )
    body = encode_body(pixel_code, [event], test_event_code=test_event_code, partner_name="signal-campaigns")
    retry = EventsRetryPolicy(max_attempts=3, base_delay=0.5, max_delay=4.0)
    try:
        with EventsApiClient(api_base(base_url), token, timeout=TIMEOUT_SECONDS, retry=retry) as client:
            result = client.track(body)
    except EventsApiAuthError as exc:
        if exc.code == 40001:
            raise CliError(
                f"TikTok refused the Events API token for pixel {pixel_code} (code 40001: no permission). "
                f"Either the Pixel ID does not match the token, or {ADMIN_OPERATOR}. "
                f"TikTok said: {exc.tiktok_message}",
                fix=PIXEL_40001_FIX,
                code=40001,
            ) from None
        raise CliError(
            f"TikTok rejected the Events API token (code {exc.code}). TikTok said: {exc.tiktok_message}",
            fix=EVENTS_TOKEN_FIX,
            code=exc.code,
        ) from None
    except EventsApiRequestError as exc:
        raise CliError(str(exc), fix="check the base URL and the pixel code", code=exc.code) from None
    except EventsApiUnavailableError as exc:
        raise CliError(str(exc), fix="TikTok is busy or unreachable: try again in a few minutes") from None
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
