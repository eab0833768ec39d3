"""The one error type the commands raise: what went wrong and what to do about it."""

from __future__ import annotations

from typing import Any


class CliError(Exception):
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
