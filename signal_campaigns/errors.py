"""The error a person can act on: what went wrong and what to do about it.

Raised by the TikTok clients the CLI uses and by the CLI's own steps; the CLI prints ``message`` and
``fix`` (or ``to_dict()`` with ``--json``) and exits 1. It lives outside the CLI package so that the
TikTok package does not depend on its user.
"""

from __future__ import annotations

from typing import Any


class ActionableError(Exception):
    """A failure the user can act on. ``fix`` says what to do; ``data`` goes into ``--json``."""

    def __init__(
        self, message: str, *, fix: str | None = None, code: int | None = None, data: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.code = code
        self.data = data or {}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": False, "error": self.message}
        if self.fix:
            out["fix"] = self.fix
        if self.code is not None:
            out["tiktok_code"] = self.code
        out.update(self.data)
        return out
