"""Hashing (TikTok's published test vectors) and payload building, without HTTP."""

from __future__ import annotations

import hashlib

import orjson
import pytest

from signal_campaigns.forwarding.payload import (
    MAX_BATCH_EVENTS,
    build_event,
    encode_body,
    hash_email,
    hash_external_id,
    hash_identifier,
    hash_phone,
)

USER_123 = "80fba0ae1c48e3978e43e4efc365e14e12ea0c830ba8ba5b9a2dafc7e3f2ab8b"
ALICE = "848a771458438fc2ec420560d769fb9b9b86851ee338ec56517baabd79d3bb4f"
PHONE = "9f7ec22d72092cd3c0b58726ed9c2d91b92e51a3f29837508fb2948bb22dd2fd"


def test_published_hash_vectors():
    assert hash_external_id("user_123") == USER_123
    assert hash_external_id("  user_123\n") == USER_123  # trimmed
    assert hash_email(" ALICE_abc@gmail.com ") == ALICE
    assert hash_phone("(+1)2133734253") == PHONE


def test_prehashed_values_are_not_rehashed_only_lowercased():
    assert hash_identifier(USER_123) == USER_123
    assert hash_identifier(USER_123.upper()) == USER_123
    assert hash_external_id(" " + USER_123.upper() + " ") == USER_123
    assert hash_email(ALICE.upper()) == ALICE
    # 63 hex chars is not a digest: hashed
    assert hash_identifier(USER_123[:-1]) == hashlib.sha256(USER_123[:-1].encode()).hexdigest()


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_blank_identifiers_are_dropped(blank):
    assert hash_identifier(blank) is None


def row(**kw):
    base = {
        "event_id": "e1",
        "tiktok_event": "Purchase",
        "event_time": 1781524800,
        "ttclid": "E.C.P.x",
        "ip": "203.0.113.7",
        "user_agent": "UA/1.0",
        "external_id_source": "user_123",
        "value": 4.99,
        "currency": "USD",
        "page_url": "https://t.example/s/abc?ttclid=E.C.P.x",
    }
    base.update(kw)
    return base


def test_build_event_shape():
    ev = build_event(row())
    assert ev == {
        "event": "Purchase",
        "event_time": 1781524800,
        "event_id": "e1",
        "user": {"ttclid": "E.C.P.x", "ip": "203.0.113.7", "user_agent": "UA/1.0", "external_id": USER_123},
        "properties": {"value": 4.99, "currency": "USD"},
        "page": {"url": "https://t.example/s/abc?ttclid=E.C.P.x"},
    }
    download = build_event(
        row(tiktok_event="Download", value=None, currency=None, external_id_source=None, event_id=123)
    )
    assert "properties" not in download and "external_id" not in download["user"]
    assert download["event_id"] == "123"  # always a JSON string


def test_encode_body_limits_and_test_code():
    body = orjson.loads(encode_body("PIX", [build_event(row())], test_event_code="TEST1"))
    assert body["event_source"] == "web" and body["event_source_id"] == "PIX" and body["test_event_code"] == "TEST1"
    with pytest.raises(ValueError, match="a request holds"):
        encode_body("PIX", [build_event(row())] * (MAX_BATCH_EVENTS + 1))
    with pytest.raises(ValueError, match="a request holds"):
        encode_body("PIX", [])


@pytest.mark.parametrize("url", [None, "", "   "])
def test_a_web_event_is_never_built_without_a_page_url(url):
    with pytest.raises(ValueError, match=r"page\.url"):
        build_event(row(page_url=url))
    assert build_event(row(page_url=" https://t.example/s/l1 "))["page"] == {"url": "https://t.example/s/l1"}
