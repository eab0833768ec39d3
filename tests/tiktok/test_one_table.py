"""One table of TikTok return codes: every client classifies a code through it, and no module keeps
its own copy of a code list, a retry rule or a secret scrubber."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from dlt_sources.tiktok_ads.client import TikTokClient
from signal_campaigns.errors import ActionableError
from signal_campaigns.forwarding.payload import build_event, encode_body
from signal_campaigns.tiktok import api, codes
from signal_campaigns.tiktok.codes import CODES, SERVER_ERRORS, Kind
from signal_campaigns.tiktok.envelope import (
    TikTokApiError,
    TikTokAuthError,
    TikTokParameterError,
    TikTokRetryExhausted,
)
from signal_campaigns.tiktok.events_api import (
    EventsApiAuthError,
    EventsApiClient,
    EventsApiRequestError,
    EventsApiUnavailableError,
)
from signal_campaigns.tiktok.marketing import TikTokApi
from signal_campaigns.tiktok.retry import RetryPolicy

REPO = Path(__file__).resolve().parents[2]
FAST = RetryPolicy(max_attempts=2, base_delay=0.001, max_delay=0.001)
# The product's modules that talk to TikTok (the sandbox imitates TikTok and is not one of them).
PRODUCT = [
    p
    for root in ("signal_campaigns", "dlt_sources/tiktok_ads")
    for p in sorted((REPO / root).rglob("*.py"))
    if "sandbox" not in p.relative_to(REPO).parts
]
CODE_LITERAL = re.compile(r"(?<![\w.])(20001|4\d{4}|[56]\d{4})(?![\w.])")


def expected(code: int) -> str:
    kind = codes.kind_of(code)
    if codes.lookup(code).retryable:
        return "retried"
    return "auth" if kind is Kind.AUTH else "refused"


def test_every_code_the_product_names_is_in_the_table():
    named: dict[int, list[str]] = {}
    for path in PRODUCT:
        if path == REPO / "signal_campaigns/tiktok/codes.py":
            continue  # the table itself
        for match in CODE_LITERAL.finditer(path.read_text()):
            named.setdefault(int(match.group(1)), []).append(str(path.relative_to(REPO)))
    assert 40001 in named and 40002 in named  # the scan sees the codes
    unknown = {code: where for code, where in named.items() if code not in CODES and code not in SERVER_ERRORS}
    assert not unknown, f"codes outside signal_campaigns.tiktok.codes: {unknown}"


def test_40113_is_settled_once():
    assert codes.kind_of(40113) is Kind.AUTH
    assert "another app" in codes.explain(40113)


@pytest.mark.parametrize(
    ("pattern", "what"),
    [
        (r"frozenset\(\{\s*[2456]\d{4}", "a set of return codes"),
        (r"\b[A-Z_]*(?:AUTH|RETRY|RATE_LIMIT|TRANSIENT|PARAMETER|INVALID)_CODES\s*=", "a named code list"),
        (r"\b\d{5}\s*:\s*\(", "a code -> advice table"),
        (r"status\s*>=\s*500|==\s*429", "an HTTP retry rule"),
        (r"\*\s*\(?2(?:\.0)?\s*\*\*", "a backoff formula"),
        (r"\.replace\([^)\n]*(?:REDACTED|\"\*\*\*\")", "a secret scrubber"),
        (r"^REDACTED\s*=", "a redaction marker"),
    ],
)
def test_no_other_module_keeps_its_own_copy(pattern, what):
    allowed = {
        REPO / "signal_campaigns/tiktok/codes.py",
        REPO / "signal_campaigns/tiktok/retry.py",
        REPO / "signal_campaigns/secrets.py",
    }
    regex = re.compile(pattern, re.M)
    found = [str(p.relative_to(REPO)) for p in PRODUCT if p not in allowed and regex.search(p.read_text())]
    assert not found, f"{what} outside the TikTok package: {found}"


# --- the three clients, over real HTTP against the sandbox -----------------------------------------
CASES = [40100, 40133, 50000, 60001, 40105, 40001, 40113, 40000, 40300, 41999]


def arm(sandbox: Any, endpoint: str, code: int) -> None:
    fault = {"endpoint": endpoint, "kind": "code", "code": code, "count": None}
    httpx.post(f"{sandbox.tiktok_url}/_sandbox/faults", json=fault, timeout=10).raise_for_status()


def faults_served(sandbox: Any, endpoint: str) -> int:
    stats = httpx.get(f"{sandbox.tiktok_url}/_sandbox/stats", timeout=10).json()["requests"]
    return int(stats.get(f"{endpoint}|fault", 0))


def dlt_source_verdict(sandbox: Any, advertiser: str) -> str:
    client = TikTokClient(sandbox.credentials.tiktok_access_token, sandbox.tiktok_api_url, retry_policy=FAST)
    try:
        list(client.entities(api.CAMPAIGN_GET_PATH, advertiser, "CAMPAIGN_STATUS_ALL"))
    except TikTokRetryExhausted:
        return "retried"
    except TikTokAuthError:
        return "auth"
    except (TikTokParameterError, TikTokApiError):
        return "refused"
    return "ok"


def forwarder_verdict(sandbox: Any) -> str:
    event = build_event(
        {
            "tiktok_event": "ViewContent",
            "event_time": 1_700_000_000,
            "event_id": "one-table",
            "page_url": "https://t.example/s/l1",
        }
    )
    body = encode_body("PIXELCODE", [event])
    with EventsApiClient(sandbox.tiktok_api_url, sandbox.credentials.events_api_token, retry=FAST) as client:
        try:
            result = client.track(body)
        except EventsApiUnavailableError:
            return "retried"
        except EventsApiAuthError:
            return "auth"
        except EventsApiRequestError:
            return "refused"
    return "refused" if result.kind == "invalid" else "ok"


def cli_verdict(sandbox: Any, advertiser: str) -> str:
    before = faults_served(sandbox, "campaign/get")
    try:
        TikTokApi(sandbox.tiktok_api_url, access_token=sandbox.credentials.tiktok_access_token).campaigns(advertiser)
    except ActionableError as exc:
        if faults_served(sandbox, "campaign/get") - before > 1:
            return "retried"
        return "auth" if "reconnect" in (exc.fix or "") else "refused"
    return "ok"


@pytest.mark.parametrize("code", CASES)
def test_the_source_the_forwarder_and_the_cli_classify_a_code_alike(sandbox, tiny_world, code):
    advertiser = tiny_world.table("advertisers").column("advertiser_id").to_pylist()[0]
    arm(sandbox, "campaign/get", code)
    arm(sandbox, "event/track", code)
    verdicts = {
        "dlt source": dlt_source_verdict(sandbox, advertiser),
        "forwarder": forwarder_verdict(sandbox),
        "cli": cli_verdict(sandbox, advertiser),
    }
    assert verdicts == dict.fromkeys(verdicts, expected(code)), verdicts
