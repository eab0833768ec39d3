"""The sandbox TikTok Marketing API over real HTTP: routing, envelope, auth, parameters, entities,
reports (formats, time zones, restatement, deleted entities, caps) and the OAuth flow."""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.parse
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import pytest

REQUEST_ID = re.compile(r"^\d{14}[0-9A-F]{20}$")
MONEY3 = re.compile(r"^\d+\.\d{3}$")
VALUE2 = re.compile(r"^\d+\.\d{2}$")
COUNT = re.compile(r"^\d+$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2} 00:00:00$")
HOUR = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:00:00$")
TS = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")

METRICS = [
    "spend",
    "impressions",
    "clicks",
    "ctr",
    "cpc",
    "cpm",
    "conversion",
    "cost_per_conversion",
    "real_time_conversion",
    "download_start",
    "complete_payment",
    "total_complete_payment_rate",
    "on_web_subscribe",
    "total_on_web_subscribe_value",
    "start_trial",
    "user_registration",
    "page_content_view_events",
]
CONVERSION_METRICS = [
    "conversion",
    "download_start",
    "complete_payment",
    "total_complete_payment_rate",
    "on_web_subscribe",
    "total_on_web_subscribe_value",
    "start_trial",
    "user_registration",
    "page_content_view_events",
]
STATUS_ALL = [{"field_name": "ad_status", "filter_type": "IN", "filter_value": '["STATUS_ALL"]'}]


def local_today(tt, advertiser_id: str, now: dt.datetime | None = None) -> dt.date:
    tz = next(a["timezone"] for a in tt.rows("advertisers") if a["advertiser_id"] == advertiser_id)
    return (now or tt.now()).astimezone(ZoneInfo(tz)).date()


def report_params(advertiser_id: str, **overrides):
    params = {
        "advertiser_id": advertiser_id,
        "report_type": "BASIC",
        "service_type": "AUCTION",
        "data_level": "AUCTION_AD",
        "dimensions": json.dumps(["ad_id", "stat_time_day"]),
        "metrics": json.dumps(METRICS),
        "page_size": 1000,
    }
    for key, value in overrides.items():
        params[key] = value if isinstance(value, (str, int)) or value is None else json.dumps(value)
    return {k: v for k, v in params.items() if v is not None}


def report(tt, advertiser_id: str, **overrides) -> dict:
    body = tt.get("report/integrated/get/", **report_params(advertiser_id, **overrides))
    assert body["code"] == 0, body
    return body["data"]


def window(tt, advertiser_id: str, days: int = 30) -> dict[str, str]:
    end = local_today(tt, advertiser_id)
    return {"start_date": (end - dt.timedelta(days=days - 1)).isoformat(), "end_date": end.isoformat()}


def deleted_ads(tt) -> list[dict]:
    camps = {c["campaign_id"]: c["is_deleted"] for c in tt.rows("campaigns")}
    groups = {g["adgroup_id"]: g["is_deleted"] for g in tt.rows("adgroups")}
    return [a for a in tt.rows("ads") if a["is_deleted"] or groups[a["adgroup_id"]] or camps[a["campaign_id"]]]


def advertiser_with_deleted_ad(tt) -> str:
    ads = deleted_ads(tt)
    assert ads, "the sandbox world should contain deleted ads"
    return ads[0]["advertiser_id"]


# --- routing and envelope ------------------------------------------------------------------------------
def test_missing_trailing_slash_and_unknown_paths_are_plain_404(tt):
    adv = tt.advertiser_ids()[0]
    for path in ("campaign/get", "report/integrated/get", "nope/", ""):
        response = tt.raw_get(path, advertiser_id=adv)
        assert response.status_code == 404
        assert response.text == "page not found"
        assert response.headers["content-type"].startswith("text/plain")
    response = tt.http.get(f"{tt.url}/open_api/v1.2/campaign/get/", params={"advertiser_id": adv})
    assert response.status_code == 404 and response.text == "page not found"
    # the same path with the slash works
    assert tt.get("campaign/get/", advertiser_id=adv)["code"] == 0
    # a known path with the wrong method never reaches API logic either
    assert tt.raw_post("campaign/get/", {}).status_code == 405


def test_errors_are_http_200_envelopes_with_request_id_and_headers(tt):
    response = tt.raw_get("campaign/get/", token=None, advertiser_id=tt.advertiser_ids()[0])
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"code", "message", "request_id", "data"}
    assert body["code"] == 40104
    assert body["message"] == "Access token is null, you should set it in http header with key Access-Token."
    assert body["data"] == {}
    assert REQUEST_ID.match(body["request_id"])
    assert body["request_id"].startswith(tt.now().strftime("%Y%m%d"))
    assert response.headers["X-TT-LOGID"] == body["request_id"]
    assert response.headers["x-tt-trace-id"]
    ok = tt.raw_get("campaign/get/", advertiser_id=tt.advertiser_ids()[0])
    assert REQUEST_ID.match(ok.json()["request_id"]) and ok.headers["X-TT-LOGID"] == ok.json()["request_id"]


def test_auth_unknown_revoked_and_foreign_advertiser(tt):
    adv, *others = tt.advertiser_ids()
    assert tt.get("campaign/get/", token="not-a-token", advertiser_id=adv)["code"] == 40105
    # revoke the world's long-term token through the control route
    minted = tt.control("tokens", {"kind": "marketing"})["token"]
    assert tt.get("campaign/get/", token=minted, advertiser_id=adv)["code"] == 0
    tt.control("tokens/revoke", {"token": minted})
    revoked = tt.get("campaign/get/", token=minted, advertiser_id=adv)
    assert revoked["code"] == 40105 and revoked["data"] == {}
    # a token limited to one advertiser: 40001 on another one; unknown advertiser: 40001
    limited = tt.control("tokens", {"advertiser_ids": [adv]})["token"]
    assert tt.get("campaign/get/", token=limited, advertiser_id=adv)["code"] == 0
    if others:
        assert tt.get("campaign/get/", token=limited, advertiser_id=others[0])["code"] == 40001
        assert (
            tt.get("report/integrated/get/", token=limited, **report_params(others[0], **window(tt, others[0], 7)))[
                "code"
            ]
            == 40001
        )
    assert tt.get("campaign/get/", advertiser_id="1234567890123456789")["code"] == 40001
    # the pixel-only Events API token cannot read Marketing API data
    assert tt.get("campaign/get/", token=tt.creds.events_api_token, advertiser_id=adv)["code"] == 40001


# --- parameters -----------------------------------------------------------------------------------------
def test_json_string_and_python_repr_parameters(tt):
    ids = tt.advertiser_ids()
    as_json = tt.get("advertiser/info/", advertiser_ids=json.dumps(ids))
    as_repr = tt.get("advertiser/info/", advertiser_ids=repr(ids), fields="['name', 'timezone']")
    assert as_json["code"] == 0 and as_repr["code"] == 0
    assert [a["advertiser_id"] for a in as_json["data"]["list"]] == ids
    assert set(as_repr["data"]["list"][0]) == {"advertiser_id", "name", "timezone"}


@pytest.mark.parametrize(
    ("path", "param", "bad"),
    [
        ("advertiser/info/", "advertiser_ids", '["1", "2"'),
        ("advertiser/info/", "advertiser_ids", '{"a": 1}'),
        ("campaign/get/", "filtering", '["campaign_ids"]'),
        ("campaign/get/", "fields", "campaign_id"),
        ("report/integrated/get/", "dimensions", "[ad_id, stat_time_day]"),
        ("report/integrated/get/", "metrics", '"spend"'),
        ("report/integrated/get/", "filtering", '{"field_name": "ad_ids"}'),
    ],
)
def test_malformed_parameters_are_40002_naming_the_parameter(tt, path, param, bad):
    adv = tt.advertiser_ids()[0]
    params = report_params(adv, **window(tt, adv, 7)) if path.startswith("report") else {"advertiser_id": adv}
    if path == "advertiser/info/":
        params = {}
    params[param] = bad
    body = tt.get(path, **params)
    assert body["code"] == 40002 and body["data"] == {}
    assert param in body["message"]


def test_advertiser_info_fields_and_limits(tt):
    ids = tt.advertiser_ids()
    rows = tt.get("advertiser/info/", advertiser_ids=json.dumps(ids))["data"]["list"]
    world = {a["advertiser_id"]: a for a in tt.rows("advertisers")}
    for row in rows:
        expected = world[row["advertiser_id"]]
        assert row["timezone"] == expected["timezone"] and row["currency"] == expected["currency"]
        assert row["display_timezone"] == expected["display_timezone"]
        assert row["create_time"] == int(expected["create_time"].timestamp())
        assert row["role"] == "ROLE_ADVERTISER" and isinstance(row["balance"], (int, float))
    too_many = json.dumps([str(7000000000000000000 + i) for i in range(101)])
    assert tt.get("advertiser/info/", advertiser_ids=too_many)["code"] == 40002
    assert tt.get("advertiser/info/", advertiser_ids="[]")["code"] == 40002


def test_oauth_advertiser_get_lists_granted_advertisers(tt):
    body = tt.get("oauth2/advertiser/get/", app_id=tt.creds.tiktok_app_id, secret=tt.creds.tiktok_app_secret)
    assert body["code"] == 0
    assert [a["advertiser_id"] for a in body["data"]["list"]] == tt.advertiser_ids()
    assert all(isinstance(a["advertiser_name"], str) for a in body["data"]["list"])
    assert tt.get("oauth2/advertiser/get/", app_id=tt.creds.tiktok_app_id, secret="wrong")["code"] == 40101
    assert (
        tt.get("oauth2/advertiser/get/", token=None, app_id=tt.creds.tiktok_app_id, secret=tt.creds.tiktok_app_secret)[
            "code"
        ]
        == 40104
    )


# --- entity endpoints -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("level", "all_status"),
    [("campaign", "CAMPAIGN_STATUS_ALL"), ("adgroup", "ADGROUP_STATUS_ALL"), ("ad", "AD_STATUS_ALL")],
)
def test_entities_deleted_only_with_status_all(tt, level, all_status):
    table = {"campaign": "campaigns", "adgroup": "adgroups", "ad": "ads"}[level]
    key = f"{level}_id"
    deleted_ids = {a[key] for a in deleted_ads(tt)} if level == "ad" else None
    if level == "campaign":
        deleted_ids = {c["campaign_id"] for c in tt.rows("campaigns") if c["is_deleted"]}
    elif level == "adgroup":
        camps = {c["campaign_id"]: c["is_deleted"] for c in tt.rows("campaigns")}
        deleted_ids = {g["adgroup_id"] for g in tt.rows("adgroups") if g["is_deleted"] or camps[g["campaign_id"]]}
    assert deleted_ids, f"the sandbox world should contain deleted {table}"
    seen_default, seen_all, seen_primary = set(), set(), set()
    for adv in tt.advertiser_ids():
        default = tt.get(f"{level}/get/", advertiser_id=adv, page_size=1000)["data"]["list"]
        everything = tt.get(
            f"{level}/get/", advertiser_id=adv, page_size=1000, filtering=json.dumps({"secondary_status": all_status})
        )["data"]["list"]
        primary = tt.get(
            f"{level}/get/", advertiser_id=adv, page_size=1000, filtering=json.dumps({"primary_status": "STATUS_ALL"})
        )["data"]["list"]
        seen_default |= {r[key] for r in default}
        seen_all |= {r[key] for r in everything}
        seen_primary |= {r[key] for r in primary}
    world_ids = {r[key] for r in tt.rows(table)}
    assert seen_all == world_ids == seen_primary
    assert seen_default == world_ids - deleted_ids
    # the deleted ones say so in secondary_status
    for adv in tt.advertiser_ids():
        rows = tt.get(
            f"{level}/get/", advertiser_id=adv, page_size=1000, filtering=json.dumps({"secondary_status": all_status})
        )["data"]["list"]
        for row in rows:
            assert ("DELETE" in row["secondary_status"]) == (row[key] in deleted_ids)


def test_entity_pagination_and_page_past_the_end(tt):
    adv = tt.advertiser_ids()[0]
    flt = json.dumps({"secondary_status": "AD_STATUS_ALL"})
    full = tt.get("ad/get/", advertiser_id=adv, page_size=1000, filtering=flt)["data"]
    total = full["page_info"]["total_number"]
    assert total == len(full["list"]) == sum(1 for a in tt.rows("ads") if a["advertiser_id"] == adv)
    assert tt.get("ad/get/", advertiser_id=adv, filtering=flt)["data"]["page_info"]["page_size"] == 10  # default
    page_size = 2 if total > 2 else 1
    collected = []
    pages = -(-total // page_size)
    for page in range(1, pages + 1):
        data = tt.get("ad/get/", advertiser_id=adv, page=page, page_size=page_size, filtering=flt)["data"]
        assert data["page_info"] == {"page": page, "page_size": page_size, "total_number": total, "total_page": pages}
        collected += data["list"]
    assert collected == full["list"]
    past = tt.get("ad/get/", advertiser_id=adv, page=pages + 1, page_size=page_size, filtering=flt)["data"]
    assert past["list"] == [] and past["page_info"]["total_number"] == total
    for bad in ({"page_size": 1001}, {"page_size": 0}, {"page": 0}, {"page": "x"}):
        assert tt.get("ad/get/", advertiser_id=adv, **bad)["code"] == 40002


def test_entity_fields_and_filtering(tt):
    adv = tt.advertiser_ids()[0]
    flt_all = {"secondary_status": "ADGROUP_STATUS_ALL"}
    groups = tt.get("adgroup/get/", advertiser_id=adv, page_size=1000, filtering=json.dumps(flt_all))["data"]["list"]
    world = {g["adgroup_id"]: g for g in tt.rows("adgroups")}
    for g in groups:
        expected = world[g["adgroup_id"]]
        assert g["operating_systems"] == [expected["operating_system"]]
        assert g["optimization_event"] == expected["optimization_event"] and g["pixel_id"] == expected["pixel_id"]
        assert TS.match(g["create_time"]) and TS.match(g["modify_time"])
        assert g["modify_time"] == expected["modify_time"].astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        assert isinstance(g["adgroup_id"], str) and isinstance(g["campaign_id"], str)
    campaigns = tt.get("campaign/get/", advertiser_id=adv, page_size=1000)["data"]["list"]
    for c in campaigns:
        assert {"objective_type", "operation_status", "secondary_status", "budget", "modify_time"} <= set(c)
    ads = tt.get(
        "ad/get/",
        advertiser_id=adv,
        page_size=1000,
        fields=json.dumps(["ad_id", "landing_page_url"]),
        filtering=json.dumps({"secondary_status": "AD_STATUS_ALL"}),
    )["data"]["list"]
    assert all(set(a) == {"ad_id", "landing_page_url"} for a in ads)
    wanted = [ads[0]["ad_id"]]
    one = tt.get(
        "ad/get/", advertiser_id=adv, filtering=json.dumps({"ad_ids": wanted, "secondary_status": "AD_STATUS_ALL"})
    )
    assert [a["ad_id"] for a in one["data"]["list"]] == wanted
    too_many = json.dumps({"campaign_ids": [str(i) for i in range(101)]})
    assert tt.get("campaign/get/", advertiser_id=adv, filtering=too_many)["code"] == 40002
    assert tt.get("campaign/get/", advertiser_id=adv, fields='["no_such_field"]')["code"] == 40002


# --- report ---------------------------------------------------------------------------------------------
def test_report_values_are_strings_with_fixed_decimals_and_dashes(tt):
    dashes = 0
    for adv in tt.advertiser_ids():
        data = report(
            tt,
            adv,
            **window(tt, adv),
            metrics=[*METRICS, "campaign_name", "campaign_id", "adgroup_name", "adgroup_id", "ad_name", "currency"],
        )
        assert data["list"]
        currency = next(a["currency"] for a in tt.rows("advertisers") if a["advertiser_id"] == adv)
        for row in data["list"]:
            m = row["metrics"]
            assert all(isinstance(v, str) for v in m.values())
            assert set(row["dimensions"]) == {"ad_id", "stat_time_day"} and DAY.match(
                row["dimensions"]["stat_time_day"]
            )
            assert MONEY3.match(m["spend"]) and m["currency"] == currency
            for key in (
                "impressions",
                "clicks",
                "conversion",
                "real_time_conversion",
                "download_start",
                "complete_payment",
                "on_web_subscribe",
                "start_trial",
                "user_registration",
                "page_content_view_events",
            ):
                assert COUNT.match(m[key]), (key, m[key])
            for key in ("total_complete_payment_rate", "total_on_web_subscribe_value"):
                assert VALUE2.match(m[key]), (key, m[key])
            clicks, impressions, conversion = int(m["clicks"]), int(m["impressions"]), int(m["conversion"])
            spend = Decimal(m["spend"])
            if clicks:
                assert MONEY3.match(m["cpc"]) and abs(Decimal(m["cpc"]) - spend / clicks) <= Decimal("0.0005")
            else:
                assert m["cpc"] == "-"
                dashes += 1
            if impressions:
                assert VALUE2.match(m["ctr"]) and abs(float(m["ctr"]) - clicks / impressions * 100) <= 0.005
                assert MONEY3.match(m["cpm"])
            else:
                assert m["ctr"] == "-" and m["cpm"] == "-"
            if conversion:
                assert MONEY3.match(m["cost_per_conversion"])
            else:
                assert m["cost_per_conversion"] == "-"
                dashes += 1
    assert dashes, "expected at least one unavailable ratio ('-') in the world's reports"


def test_report_matches_world_spend_and_uses_advertiser_local_days(tt):
    for adv in tt.advertiser_ids():
        data = report(
            tt,
            adv,
            **window(tt, adv),
            metrics=["spend", "impressions", "clicks", "real_time_conversion"],
            filtering=STATUS_ALL,
        )
        world = {(r["ad_id"], r["stat_date"].isoformat()): r for r in tt.rows("ad_daily") if r["advertiser_id"] == adv}
        today = local_today(tt, adv)
        expected_keys = {
            k
            for k in world
            if dt.date.fromisoformat(k[1]) <= today and dt.date.fromisoformat(k[1]) > today - dt.timedelta(days=30)
        }
        got = {(r["dimensions"]["ad_id"], r["dimensions"]["stat_time_day"][:10]): r["metrics"] for r in data["list"]}
        assert set(got) == expected_keys
        for key, m in got.items():
            assert Decimal(m["spend"]) == world[key]["spend"].quantize(Decimal("0.001"))
            assert int(m["impressions"]) == world[key]["impressions"]
            assert int(m["real_time_conversion"]) == world[key]["real_time_conversion"]


def test_report_day_boundary_follows_the_advertiser_timezone(tt):
    advertisers = {a["advertiser_id"]: ZoneInfo(a["timezone"]) for a in tt.rows("advertisers")}
    start = tt.now()
    # find an instant (whole hours ahead) where some advertiser's local date differs from the UTC date
    for hours in range(48):
        instant = start + dt.timedelta(hours=hours)
        shifted = [a for a, tz in advertisers.items() if instant.astimezone(tz).date() != instant.date()]
        if shifted:
            break
    else:
        pytest.skip("every advertiser reports in UTC")
    tt.control("clock", {"at": instant.isoformat()})
    adv = shifted[0]
    local = instant.astimezone(advertisers[adv]).date()
    utc_day = instant.date()
    lo, hi = min(local, utc_day) - dt.timedelta(days=3), max(local, utc_day) + dt.timedelta(days=1)
    data = report(tt, adv, start_date=lo.isoformat(), end_date=hi.isoformat(), filtering=STATUS_ALL)
    days = sorted({r["dimensions"]["stat_time_day"] for r in data["list"]})
    assert days[-1] == f"{local.isoformat()} 00:00:00"  # the clock's local date is the last day with rows


def test_report_restatement_changes_past_conversions_only(tt):
    adv = max(
        tt.advertiser_ids(), key=lambda a: sum(r["conversion"] for r in tt.rows("ad_daily") if r["advertiser_id"] == a)
    )
    today = local_today(tt, adv)
    span = {"start_date": (today - dt.timedelta(days=20)).isoformat(), "end_date": today.isoformat()}
    before = report(tt, adv, **span, filtering=STATUS_ALL)["list"]
    tt.advance(3 * 86400)
    after = report(tt, adv, **span, filtering=STATUS_ALL)["list"]
    key = lambda r: (r["dimensions"]["ad_id"], r["dimensions"]["stat_time_day"])  # noqa: E731
    b, a = {key(r): r["metrics"] for r in before}, {key(r): r["metrics"] for r in after}
    assert set(a) == set(b)
    changed_recent = 0
    for k, m in b.items():
        for stable in ("spend", "impressions", "clicks", "real_time_conversion"):
            assert a[k][stable] == m[stable], (k, stable)
        age = (today - dt.date.fromisoformat(k[1][:10])).days
        for metric in CONVERSION_METRICS:
            assert float(a[k][metric]) >= float(m[metric])
            if age >= 10:  # long settled: final values do not move
                assert a[k][metric] == m[metric], (k, metric)
        if age <= 2 and any(a[k][x] != m[x] for x in CONVERSION_METRICS):
            changed_recent += 1
    assert changed_recent > 0, "advancing the clock must restate recent days' conversions"


@pytest.mark.parametrize("advance_days", [0, 1.5, 4])
def test_report_equals_ground_truth_at_the_clock(tt, advance_days):
    from sandbox.ground_truth import tiktok_report

    clock = tt.advance(advance_days * 86400)
    truth = tiktok_report(tt.world, clock).to_pylist()
    for adv in tt.advertiser_ids():
        today = local_today(tt, adv, clock)
        start = today - dt.timedelta(days=29)
        got = {
            (r["dimensions"]["ad_id"], r["dimensions"]["stat_time_day"][:10]): r["metrics"]
            for r in report(tt, adv, start_date=start.isoformat(), end_date=today.isoformat(), filtering=STATUS_ALL)[
                "list"
            ]
        }
        expected = {
            (r["ad_id"], r["stat_date"].isoformat()): r
            for r in truth
            if r["advertiser_id"] == adv and r["stat_date"] >= start
        }
        assert set(got) == set(expected)
        for key, row in expected.items():
            m = got[key]
            for metric in (
                "impressions",
                "clicks",
                "real_time_conversion",
                "conversion",
                "download_start",
                "complete_payment",
                "on_web_subscribe",
                "start_trial",
                "user_registration",
                "page_content_view_events",
            ):
                assert int(m[metric]) == row[metric], (key, metric)
            assert Decimal(m["spend"]) == row["spend"]
            for metric in ("total_complete_payment_rate", "total_on_web_subscribe_value"):
                assert Decimal(m[metric]) == row[metric], (key, metric)


def test_report_restatement_agrees_with_final_values_when_settled(tt):
    adv = tt.advertiser_ids()[0]
    today = local_today(tt, adv)
    span = {
        "start_date": (today - dt.timedelta(days=29)).isoformat(),
        "end_date": (today - dt.timedelta(days=20)).isoformat(),
    }
    data = report(tt, adv, **span, filtering=STATUS_ALL)["list"]
    world = {(r["ad_id"], r["stat_date"].isoformat()): r for r in tt.rows("ad_daily") if r["advertiser_id"] == adv}
    assert data
    for row in data:
        w = world[(row["dimensions"]["ad_id"], row["dimensions"]["stat_time_day"][:10])]
        assert int(row["metrics"]["conversion"]) == w["conversion"]
        assert int(row["metrics"]["complete_payment"]) == w["complete_payment"]
        assert Decimal(row["metrics"]["total_complete_payment_rate"]) == w["total_complete_payment_rate"].quantize(
            Decimal("0.01")
        )


def test_report_future_days_have_no_rows_until_the_clock_gets_there(tt):
    adv = tt.advertiser_ids()[0]
    today = local_today(tt, adv)
    span = {
        "start_date": (today - dt.timedelta(days=2)).isoformat(),
        "end_date": (today + dt.timedelta(days=3)).isoformat(),
    }
    days = {r["dimensions"]["stat_time_day"][:10] for r in report(tt, adv, **span, filtering=STATUS_ALL)["list"]}
    assert max(days) == today.isoformat()
    tt.advance(86400)
    days = {r["dimensions"]["stat_time_day"][:10] for r in report(tt, adv, **span, filtering=STATUS_ALL)["list"]}
    future_in_world = any(
        r["stat_date"] == today + dt.timedelta(days=1) for r in tt.rows("ad_daily") if r["advertiser_id"] == adv
    )
    if future_in_world:
        assert max(days) == (today + dt.timedelta(days=1)).isoformat()


def test_report_deleted_entities_only_with_status_all(tt):
    adv = advertiser_with_deleted_ad(tt)
    deleted = {a["ad_id"] for a in deleted_ads(tt) if a["advertiser_id"] == adv}
    span = window(tt, adv)
    default = {r["dimensions"]["ad_id"] for r in report(tt, adv, **span)["list"]}
    everything = {r["dimensions"]["ad_id"] for r in report(tt, adv, **span, filtering=STATUS_ALL)["list"]}
    assert not default & deleted
    with_rows = {
        r["ad_id"]
        for r in tt.rows("ad_daily")
        if r["advertiser_id"] == adv
        and r["ad_id"] in deleted
        and r["stat_date"] > local_today(tt, adv) - dt.timedelta(days=30)
        and r["stat_date"] <= local_today(tt, adv)
    }
    assert with_rows and with_rows <= everything
    # the campaign level follows campaign_status
    camp_all = [{"field_name": "campaign_status", "filter_type": "IN", "filter_value": '["STATUS_ALL"]'}]
    level = {"data_level": "AUCTION_CAMPAIGN", "dimensions": ["campaign_id"], "metrics": ["spend"]}
    default_c = {r["dimensions"]["campaign_id"] for r in report(tt, adv, **span, **level)["list"]}
    all_c = {r["dimensions"]["campaign_id"] for r in report(tt, adv, **span, **level, filtering=camp_all)["list"]}
    deleted_c = {c["campaign_id"] for c in tt.rows("campaigns") if c["is_deleted"] and c["advertiser_id"] == adv}
    assert not default_c & deleted_c and default_c <= all_c


def test_report_higher_levels_aggregate_ad_rows(tt):
    adv = tt.advertiser_ids()[0]
    span = window(tt, adv, 7)
    ads = report(tt, adv, **span, filtering=STATUS_ALL, metrics=[*METRICS, "campaign_id"])["list"]
    camp_all = [{"field_name": "campaign_status", "filter_type": "IN", "filter_value": '["STATUS_ALL"]'}]
    camps = report(
        tt,
        adv,
        **span,
        data_level="AUCTION_CAMPAIGN",
        dimensions=["campaign_id", "stat_time_day"],
        filtering=camp_all,
        metrics=[*METRICS, "campaign_name"],
    )["list"]
    sums: dict = defaultdict(lambda: defaultdict(Decimal))
    for r in ads:
        k = (r["metrics"]["campaign_id"], r["dimensions"]["stat_time_day"])
        for metric in ("spend", "impressions", "clicks", "conversion", "total_complete_payment_rate"):
            sums[k][metric] += Decimal(r["metrics"][metric])
    assert len(camps) == len(sums)
    names = {c["campaign_id"]: c["campaign_name"] for c in tt.rows("campaigns")}
    for r in camps:
        k = (r["dimensions"]["campaign_id"], r["dimensions"]["stat_time_day"])
        m = r["metrics"]
        for metric in ("spend", "impressions", "clicks", "conversion", "total_complete_payment_rate"):
            assert Decimal(m[metric]) == sums[k][metric], (k, metric)
        assert m["campaign_name"] == names[k[0]]
        if sums[k]["impressions"]:  # ratio of sums, not an average of ratios
            assert m["ctr"] == f"{float(sums[k]['clicks'] / sums[k]['impressions'] * 100):.2f}"
    lifetime = report(
        tt,
        adv,
        **span,
        data_level="AUCTION_ADVERTISER",
        dimensions=["advertiser_id"],
        metrics=["spend"],
        filtering=STATUS_ALL,
    )["list"]
    assert len(lifetime) == 1
    assert Decimal(lifetime[0]["metrics"]["spend"]) == sum(Decimal(r["metrics"]["spend"]) for r in ads)


def test_report_hourly_rows_split_the_day(tt):
    adv = tt.advertiser_ids()[0]
    day = (local_today(tt, adv) - dt.timedelta(days=2)).isoformat()
    daily = report(tt, adv, start_date=day, end_date=day, filtering=STATUS_ALL)["list"]
    hourly = report(tt, adv, start_date=day, end_date=day, filtering=STATUS_ALL, dimensions=["ad_id", "stat_time_hour"])
    assert hourly["page_info"]["total_number"] == 24 * len(daily)
    per_ad: dict = defaultdict(lambda: defaultdict(Decimal))
    for r in hourly["list"]:
        assert HOUR.match(r["dimensions"]["stat_time_hour"]) and r["dimensions"]["stat_time_hour"].startswith(day)
        for metric in ("spend", "impressions", "clicks", "conversion", "real_time_conversion"):
            per_ad[r["dimensions"]["ad_id"]][metric] += Decimal(r["metrics"][metric])
    for r in daily:
        for metric in ("spend", "impressions", "clicks", "conversion", "real_time_conversion"):
            assert per_ad[r["dimensions"]["ad_id"]][metric] == Decimal(r["metrics"][metric])
    again = report(tt, adv, start_date=day, end_date=day, filtering=STATUS_ALL, dimensions=["ad_id", "stat_time_hour"])
    assert again["list"] == hourly["list"]  # deterministic


@pytest.mark.parametrize(
    ("dimensions", "days", "ok"),
    [
        (["ad_id", "stat_time_day"], 30, True),
        (["ad_id", "stat_time_day"], 31, False),
        (["ad_id", "stat_time_hour"], 1, True),
        (["ad_id", "stat_time_hour"], 2, False),
        (["ad_id"], 365, True),
        (["ad_id"], 366, False),
    ],
)
def test_report_range_caps(tt, dimensions, days, ok):
    adv = tt.advertiser_ids()[0]
    end = local_today(tt, adv)
    body = tt.get(
        "report/integrated/get/",
        **report_params(
            adv,
            dimensions=dimensions,
            start_date=(end - dt.timedelta(days=days - 1)).isoformat(),
            end_date=end.isoformat(),
        ),
    )
    assert body["code"] == (0 if ok else 40002), body["message"]
    if not ok:
        assert body["data"] == {}


@pytest.mark.parametrize(
    "override",
    [
        {"report_type": "AUDIENCE"},
        {"report_type": None},
        {"service_type": "RESERVATION"},
        {"data_level": "AUCTION_KEYWORD"},
        {"dimensions": ["campaign_id", "stat_time_day"]},
        {"dimensions": ["ad_id", "stat_time_day", "stat_time_hour"]},
        {"dimensions": ["ad_id", "country_code"]},
        {"metrics": ["spend", "no_such_metric"]},
        {"start_date": "2026/06/01"},
        {"end_date": None},
        {"start_date": "2026-06-10", "end_date": "2026-06-09"},
        {"page_size": 1001},
        {"page_size": 0},
        {"page": 0},
        {"data_level": "AUCTION_CAMPAIGN", "dimensions": ["campaign_id"], "metrics": ["ad_name"]},
        {"filtering": [{"field_name": "ad_status", "filter_type": "IN", "filter_value": '["STATUS_ALL"'}]},
    ],
)
def test_report_parameter_validation(tt, override):
    adv = tt.advertiser_ids()[0]
    params = {**window(tt, adv, 7), **override}
    body = tt.get("report/integrated/get/", **report_params(adv, **params))
    assert body["code"] == 40002 and body["data"] == {}


def test_report_advertiser_ids_cap_and_multi_advertiser_rows(tt):
    ids = tt.advertiser_ids()
    params = report_params(ids[0], **window(tt, ids[0], 3), metrics=["spend"])
    del params["advertiser_id"]
    six = json.dumps(ids + [str(7000000000000000000 + i) for i in range(6 - len(ids))])
    assert tt.get("report/integrated/get/", **params, advertiser_ids=six)["code"] == 40002
    body = tt.get("report/integrated/get/", **params, advertiser_ids=json.dumps(ids))
    assert body["code"] == 0
    assert {r["metrics"]["advertiser_id"] for r in body["data"]["list"]} == set(ids)


def test_report_id_filters_and_too_many_ids(tt):
    adv = tt.advertiser_ids()[0]
    span = window(tt, adv, 7)
    ads = sorted({a["ad_id"] for a in tt.rows("ads") if a["advertiser_id"] == adv})[:2]
    flt = [*STATUS_ALL, {"field_name": "ad_ids", "filter_type": "IN", "filter_value": json.dumps(ads)}]
    rows = report(tt, adv, **span, filtering=flt)["list"]
    assert rows and {r["dimensions"]["ad_id"] for r in rows} <= set(ads)
    many = [
        {
            "field_name": "campaign_ids",
            "filter_type": "IN",
            "filter_value": json.dumps([str(1800000000000000000 + i) for i in range(101)]),
        }
    ]
    body = tt.get("report/integrated/get/", **report_params(adv, **span, filtering=many))
    assert body["code"] == 40011 and body["data"] == {}


def test_report_pagination_is_stable_and_past_the_end_is_empty(tt):
    adv = tt.advertiser_ids()[0]
    span = window(tt, adv)
    full = report(tt, adv, **span, filtering=STATUS_ALL)
    total = full["page_info"]["total_number"]
    assert total == len(full["list"]) > 3
    assert full["page_info"] == {"page": 1, "page_size": 1000, "total_number": total, "total_page": 1}
    default = tt.get(
        "report/integrated/get/",
        **{k: v for k, v in report_params(adv, **span, filtering=STATUS_ALL).items() if k != "page_size"},
    )["data"]
    assert default["page_info"]["page_size"] == 10 and len(default["list"]) == min(10, total)
    size = 7
    pages = -(-total // size)
    collected = []
    for page in range(1, pages + 1):
        data = report(tt, adv, **span, filtering=STATUS_ALL, page=page, page_size=size)
        assert data["page_info"] == {"page": page, "page_size": size, "total_number": total, "total_page": pages}
        collected += data["list"]
    assert collected == full["list"]
    past = report(tt, adv, **span, filtering=STATUS_ALL, page=pages + 1, page_size=size)
    assert past["list"] == [] and past["page_info"]["total_number"] == total


# --- pixels ---------------------------------------------------------------------------------------------
def test_pixel_list_page_size_cap_and_filters(tt):
    pixel = tt.rows("pixels")[0]
    adv = pixel["advertiser_id"]
    body = tt.get("pixel/list/", advertiser_id=adv, page_size=20)
    assert body["code"] == 0
    pixels = body["data"]["pixels"]
    assert pixel["pixel_code"] in {p["pixel_code"] for p in pixels}
    for p in pixels:
        assert {"pixel_id", "pixel_code", "pixel_name", "pixel_setup_mode", "create_time", "events"} <= set(p)
        assert isinstance(p["events"], list)
    assert body["data"]["page_info"]["total_number"] == sum(1 for p in tt.rows("pixels") if p["advertiser_id"] == adv)
    assert tt.get("pixel/list/", advertiser_id=adv, page_size=21)["code"] == 40002
    one = tt.get("pixel/list/", advertiser_id=adv, code=pixel["pixel_code"])["data"]["pixels"]
    assert [p["pixel_id"] for p in one] == [pixel["pixel_id"]]


# --- OAuth ----------------------------------------------------------------------------------------------
def _exchange(tt, code: str, **overrides) -> dict:
    body = {"app_id": tt.creds.tiktok_app_id, "secret": tt.creds.tiktok_app_secret, "auth_code": code, **overrides}
    return tt.post("oauth2/access_token/", body, token=None)


def test_oauth_consent_redirect_exchange_single_use(tt):
    redirect = "http://127.0.0.1:8765/callback"
    response = tt.http.get(
        f"{tt.url}/portal/auth",
        params={"app_id": tt.creds.tiktok_app_id, "state": "xyz-42", "redirect_uri": redirect},
        follow_redirects=False,
    )
    assert response.status_code == 302
    location = urllib.parse.urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect
    query = dict(urllib.parse.parse_qsl(location.query))
    assert query["state"] == "xyz-42" and query["auth_code"]
    first = _exchange(tt, query["auth_code"])
    assert first["code"] == 0
    data = first["data"]
    assert set(data) == {"access_token", "advertiser_ids", "scope"}  # long-term token: no expiry, no refresh
    assert data["advertiser_ids"] == tt.advertiser_ids()
    assert data["scope"] and all(isinstance(s, int) for s in data["scope"])
    assert (
        tt.get("advertiser/info/", token=data["access_token"], advertiser_ids=json.dumps(tt.advertiser_ids()))["code"]
        == 0
    )
    again = _exchange(tt, query["auth_code"])
    assert again["code"] == 40110 and again["data"] == {}
    # a second consent mints a second, different token
    code2 = tt.control("auth_codes")["auth_code"]
    assert _exchange(tt, code2)["data"]["access_token"] != data["access_token"]
    # bad app credentials and unknown codes
    assert _exchange(tt, tt.control("auth_codes")["auth_code"], secret="wrong")["code"] == 40101
    assert _exchange(tt, "never-issued")["code"] in (40101, 40110)
    assert (
        tt.http.get(
            f"{tt.url}/portal/auth", params={"app_id": "nope", "redirect_uri": redirect}, follow_redirects=False
        ).status_code
        == 400
    )


def test_oauth_auth_code_expires_after_one_hour_of_sandbox_clock(tt):
    fresh = tt.control("auth_codes")["auth_code"]
    stale = tt.control("auth_codes")["auth_code"]
    tt.advance(59 * 60)
    assert _exchange(tt, fresh)["code"] == 0
    tt.advance(2 * 60)
    expired = _exchange(tt, stale)
    assert expired["code"] == 40110 and expired["data"] == {}


def test_oauth_revoke_token(tt):
    token = _exchange(tt, tt.control("auth_codes")["auth_code"])["data"]["access_token"]
    adv = tt.advertiser_ids()[0]
    assert tt.get("campaign/get/", token=token, advertiser_id=adv)["code"] == 0
    body = tt.post(
        "oauth2/revoke_token/",
        {"app_id": tt.creds.tiktok_app_id, "secret": tt.creds.tiktok_app_secret, "access_token": token},
        token=None,
    )
    assert body["code"] == 0 and body["data"]["advertiser_ids"] == tt.advertiser_ids()
    assert tt.get("campaign/get/", token=token, advertiser_id=adv)["code"] == 40105
    # the world's own token is untouched
    assert tt.get("campaign/get/", advertiser_id=adv)["code"] == 0


def test_control_routes_are_served(tt):
    assert "now" in tt.control("clock", method="GET")
    stats = tt.control("stats", method="GET")
    assert "requests" in stats and "events" in stats
    assert isinstance(httpx.get(f"{tt.url}/_sandbox/rate_limits").json()["rate_limits"], dict)
