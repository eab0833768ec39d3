"""OAuth of the TikTok sandbox: single-use auth codes, ``oauth2/access_token/``,
``oauth2/revoke_token/``, ``oauth2/advertiser/get/``, the consent-page stand-in and the
``/_sandbox/auth_codes`` and ``/_sandbox/tokens`` routes."""

from __future__ import annotations

import datetime as dt
import secrets
import urllib.parse
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from sandbox.tiktok_core import SandboxCore
from sandbox.tiktok_params import MESSAGES, ApiError, Ctx, _loose_json, bad_param

TOKEN_SCOPE = [4, 5, 6, 7, 10]


class OAuthRoutes(SandboxCore):
    """Auth codes, tokens and the app credentials check."""

    def check_app(self, app_id: Any, secret: Any) -> None:
        if app_id is None or app_id == "":
            raise bad_param("app_id: Missing data for required field.")
        if secret is None or secret == "":
            raise bad_param("secret: Missing data for required field.")
        if str(app_id) != self.app_id or str(secret) != self.app_secret:
            raise ApiError(40101, "App ID or secret is invalid. Please check app_id and secret.")

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
