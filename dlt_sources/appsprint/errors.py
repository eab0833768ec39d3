"""The source's errors, and what the client reads from an error reply.

Messages never contain the export token (the client scrubs every text that came from the server).
"""

from __future__ import annotations

import orjson

from signal_campaigns.errors import ActionableError


class AppSprintError(Exception):
    """Base class of the source's errors. Messages never contain the export token."""


class AppSprintAuthError(AppSprintError):
    """401/403: the export token is missing, wrong, revoked or for another app."""


class AppSprintResponseError(AppSprintError):
    """A 200 reply that is not the export API's JSON shape (not retried: retrying will not help)."""


class AppSprintPagingError(AppSprintError, ActionableError):
    """A cursor walk that would never end (a cursor cycle, endless empty pages). The message names
    the endpoint and the cursor; ``fix`` says what to do. The rows read before the stop load."""


class AppSprintRequestError(AppSprintError):
    """A non-retryable HTTP error (4xx other than 401/403/408/429)."""


class AppSprintRetriesExhaustedError(AppSprintError):
    """A transient failure persisted through every retry."""


def snippet(body: bytes, limit: int = 160) -> str:
    text = body[:limit].decode("utf-8", "replace")
    text = " ".join(text.split())
    return text + ("..." if len(body) > limit else "")


class TransientError(Exception):
    """A failure worth retrying (rate limit, 5xx, timeout, a cut or non-JSON body); ``reason`` names
    it in the retry counters, ``wait`` is the server's Retry-After when it gave one."""

    def __init__(self, reason: str, detail: str, wait: float | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.wait = wait


def error_fields(body: bytes) -> tuple[str | None, str | None]:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None
    if isinstance(doc, dict):
        code, msg = doc.get("error"), doc.get("message")
        return (str(code) if code is not None else None, str(msg) if msg is not None else None)
    return None, None
