"""The AppSprint sandbox's error replies: the API's JSON errors (``{"error", "message"}``), the
nginx-style HTML pages of a failing gateway, and the rendering of injected faults and rate limits."""

from __future__ import annotations

from starlette.responses import HTMLResponse, JSONResponse, Response

from .control import Fault, nginx_error_page

_ERROR_NAMES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}


def error_name(status: int) -> str:
    """The API's error code for an HTTP status (``"error"`` when it has none)."""
    return _ERROR_NAMES.get(status, "error")


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


def _html_error(status: int) -> HTMLResponse:
    return HTMLResponse(nginx_error_page(status), status_code=status)


def render_fault(fault: Fault) -> Response:
    """A ``code`` fault -> the API's JSON error; an ``http`` fault (e.g. the 504 after a timeout
    fault) -> an nginx-style HTML page."""
    if fault.kind == "http":
        status = fault.status or 502
        if status == 429:
            return error(
                429,
                "rate_limited",
                fault.message or "Too many requests",
                {"Retry-After": str(int(fault.retry_after or 1))},
            )
        return _html_error(status)
    status = fault.status or (fault.code if fault.code and 400 <= fault.code < 600 else 500)
    code = error_name(status)
    if fault.code and not (400 <= fault.code < 600):
        code = str(fault.code)
    headers = {"Retry-After": str(int(fault.retry_after or 1))} if status == 429 else None
    return error(status, code, fault.message or f"sandbox fault: {code}", headers)


def rate_limited() -> Response:
    """The reply to a request over the rate limit."""
    return error(
        429,
        "rate_limited",
        "Too many requests: slow down and retry after Retry-After seconds",
        {"Retry-After": "1"},
    )
