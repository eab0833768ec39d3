"""The Events API of the TikTok sandbox: ``event/track/`` (web events, pixel permission) and the
``/_sandbox/events/...`` routes (what was received, reset, strictness settings)."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.tiktok_event_rules import NO_PERMISSION_PIXEL, TrackError
from sandbox.tiktok_params import ApiError, Ctx, _loose_json, bad_param
from sandbox.tiktok_records import ServedRecords


class EventsApiRoutes(ServedRecords):
    """``event/track/`` and the routes that inspect what it received."""

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
            # the raw body is kept for read-back (Starlette caches it: no second read)
            self.events.track(pixel_code, body, self.clock.now().timestamp(), await ctx.request.body())
        except TrackError:
            self.events.reject(pixel_code)
            raise
        return {}

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

    async def sandbox_events_config(self, request: Request) -> Response:
        config = self.events.config
        if request.method == "POST":
            body = await _loose_json(request)
            for key, value in body.items():
                if not hasattr(config, key):
                    return JSONResponse({"error": "bad_config", "message": f"unknown setting {key}"}, 400)
                setattr(config, key, value)
        return JSONResponse(dataclasses.asdict(config))
