"""Settings checked where they are loaded, so that a bad value stops with a message that names the
setting (the environment variable, config key or option), the value (unless it is a secret) and
what a good value looks like, instead of a library's error later (docs/decisions/0011-hostile-input.md).

Used by the dlt sources' settings, the forwarder's configuration and command line, and the Dagster
code location's automation settings."""

from __future__ import annotations

from urllib.parse import urlsplit

from .errors import ActionableError


class SettingError(ActionableError, ValueError):
    """A setting has a value that cannot work. ``str()`` gives the setting, the value and what is
    expected (a secret's value is never repeated)."""

    def __init__(self, setting: str, value: object, expected: str, *, secret: bool = False) -> None:
        shown = f"{setting} (a secret: value not shown)" if secret else f"{setting}={value!r}"
        super().__init__(f"invalid setting {shown}", fix=f"expected {expected}", data={"setting": setting})
        self.setting = setting

    def __str__(self) -> str:
        return f"{self.message}: {self.fix}"


def dlt_setting(section: str, key: str) -> str:
    """How a dlt source setting is named in messages: its config key and its environment variable."""
    return f"sources.{section}.{key} (env SOURCES__{section.upper()}__{key.upper()})"


def check_url(value: object, setting: str, example: str) -> str:
    """``value`` when it is an absolute http(s) URL with a host; :class:`SettingError` otherwise."""
    text = str(value).strip() if isinstance(value, str) else ""
    parts = urlsplit(text) if text and not any(c.isspace() for c in text) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingError(setting, value, f"an http(s) URL with a host, e.g. {example}")
    try:
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number 0..65535)
    except ValueError:
        raise SettingError(setting, value, f"an http(s) URL with a valid port, e.g. {example}") from None
    return text


def check_int(value: object, setting: str, lo: int, hi: int) -> int:
    """``value`` as an int within ``lo..hi``; :class:`SettingError` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().lstrip("-").isdigit():
        raise SettingError(setting, value, f"a whole number from {lo} to {hi}")
    number = int(value)
    if not lo <= number <= hi:
        raise SettingError(setting, value, f"a whole number from {lo} to {hi}")
    return number
