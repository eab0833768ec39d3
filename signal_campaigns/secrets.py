"""Secrets stay out of text: the one scrubber every client, error and log line goes through.

A token can reach a message by many roads (a URL echoed in an error, a header in a traceback, an API
that repeats what it was sent); :func:`scrub` replaces every given secret in ``text`` with
:data:`REDACTED`, and :class:`Scrubber` holds the secrets of one client so that each message it
builds is passed through the same call. Empty or missing secrets are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable

REDACTED = "***"


def scrub(text: str, *secrets: str | None) -> str:
    """``text`` with every non-empty secret in ``secrets`` replaced by :data:`REDACTED`."""
    if not text:
        return text
    # longest first: a secret that contains another is replaced whole
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


class Scrubber:
    """The secrets of one client; call it on any text before it leaves the client."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets = tuple(s for s in secrets if s)

    def __call__(self, text: str) -> str:
        return scrub(text, *self._secrets)

    def __repr__(self) -> str:
        return f"Scrubber({len(self._secrets)} secrets)"
