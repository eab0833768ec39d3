"""The one scrubber: every client's messages pass through it before they reach logs or errors."""

from __future__ import annotations

from signal_campaigns.secrets import REDACTED, Scrubber, scrub


def test_every_secret_is_replaced_wherever_it_appears() -> None:
    text = "GET /x?token=abc123&again=abc123 failed; Access-Token: s3cr3t"
    assert (
        scrub(text, "abc123", "s3cr3t") == f"GET /x?token={REDACTED}&again={REDACTED} failed; Access-Token: {REDACTED}"
    )


def test_a_secret_containing_another_is_replaced_whole() -> None:
    assert scrub("key=abcdef", "abc", "abcdef") == f"key={REDACTED}"


def test_missing_or_empty_secrets_leave_text_alone() -> None:
    assert scrub("nothing secret here", None, "") == "nothing secret here"
    assert scrub("", "abc") == ""


def test_scrubber_holds_one_clients_secrets_without_showing_them() -> None:
    scrubber = Scrubber(["tok-1", None, "app-secret"])
    assert scrubber("tok-1 / app-secret / other") == f"{REDACTED} / {REDACTED} / other"
    assert "tok-1" not in repr(scrubber) and "app-secret" not in repr(scrubber)
