"""The Signal link itself: ``GET /s/{link_id}?<TikTok macros>`` records a click and
sends the user to the right store; the click then appears in the export API's ``/clicks``."""

from __future__ import annotations

import datetime as dt
import urllib.parse

from tests.sandbox.appsprint_client import AppSprintClient
from tests.sandbox.test_appsprint_api import TIMESTAMP

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 musical_ly_37.1.0"
)
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240805.005; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/126.0.6478.122 Mobile Safari/537.36 musical_ly_36.5.0"
)
DESKTOP = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari"
APP_STORE = "https://apps.apple.com/app/id6443219876"
PLAY_STORE = "https://play.google.com/store/apps/details?id=app.sprintly.quest"


def a_signal_ad(world) -> dict:
    """An ad whose Website URL is a Signal link with TikTok's macros (as the CLI prints it)."""
    return next(ad for ad in world.table("ads").to_pylist() if ad["signal_link_id"])


def tiktok_expands(landing_page_url: str, ad: dict, ttclid: str) -> str:
    """What TikTok does with the macros when a user taps the ad."""
    values = {
        "__CAMPAIGN_ID__": ad["campaign_id"],
        "__CAMPAIGN_NAME__": "US | Sales",
        "__AID__": ad["adgroup_id"],
        "__CID__": ad["ad_id"],
        "__CID_NAME__": ad["ad_name"],
        "__PLACEMENT__": "TikTok",
        "__CLICKID__": ttclid,
        "__CALLBACK_PARAM__": "cb_123",
        "__IP__": "81.2.69.142",
        "__UA__": "ua",
    }
    parts = urllib.parse.urlsplit(landing_page_url)
    query = [(k, values.get(v, v)) for k, v in urllib.parse.parse_qsl(parts.query)]
    return f"{parts.path}?{urllib.parse.urlencode(query)}"


def new_clicks(api: AppSprintClient, since: str) -> list[dict]:
    rows, _ = api.read_all("clicks", updated_since=since)
    return rows


def test_iphone_click_is_recorded_and_redirected_to_the_app_store(api):
    world = api.world
    ad = a_signal_ad(world)
    before = api.read_all("clicks")[0]
    path = tiktok_expands(ad["landing_page_url"], ad, ttclid="E.C.P.test-iphone-click")
    response = api.http.get(path, headers={"User-Agent": IPHONE, "X-Forwarded-For": "81.2.69.142, 10.0.0.1"})
    assert response.status_code == 302
    assert response.headers["location"] == APP_STORE
    click_id = response.headers["X-AppSprint-Click-Id"]

    rows = new_clicks(api, before[-1]["updated_at"])
    assert [r["click_id"] for r in rows] == [click_id]
    click = rows[0]
    assert click == {
        "click_id": click_id,
        "link_id": ad["signal_link_id"],
        "clicked_at": click["updated_at"],
        "ttclid": "E.C.P.test-iphone-click",
        "campaign_id": ad["campaign_id"],
        "adgroup_id": ad["adgroup_id"],
        "ad_id": ad["ad_id"],
        "placement": "TikTok",
        "ip": "81.2.69.142",
        "user_agent": IPHONE,
        "os": "ios",
        "updated_at": click["updated_at"],
    }
    assert TIMESTAMP.match(click["clicked_at"])
    assert dt.datetime.fromisoformat(click["clicked_at"].replace("Z", "+00:00")) <= api.now()
    # a full read has it too, merged with the world's clicks in (updated_at, id) order
    everything, _ = api.read_all("clicks", limit=50)
    assert everything[:-1] == before and everything[-1] == click


def test_android_click_goes_to_google_play_with_the_click_in_the_referrer(api):
    ad = a_signal_ad(api.world)
    response = api.http.get(
        f"/s/{ad['signal_link_id']}",
        params={"ttclid": "E.C.P.android", "ad_id": ad["ad_id"]},
        headers={"User-Agent": ANDROID},
    )
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(PLAY_STORE + "&referrer=")
    click_id = response.headers["X-AppSprint-Click-Id"]
    referrer = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["referrer"][0]
    assert referrer == f"appsprint_click_id={click_id}"
    click = new_clicks(api, "2000-01-01T00:00:00Z")[-1]
    assert click["click_id"] == click_id and click["os"] == "android" and click["ttclid"] == "E.C.P.android"
    assert click["ip"] == "127.0.0.1"  # no X-Forwarded-For: the peer address
    assert click["user_agent"] == ANDROID


def test_desktop_gets_a_page_with_both_stores(api):
    ad = a_signal_ad(api.world)
    response = api.http.get(f"/s/{ad['signal_link_id']}", headers={"User-Agent": DESKTOP})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert APP_STORE in response.text and "play.google.com" in response.text
    click = new_clicks(api, "2000-01-01T00:00:00Z")[-1]
    assert click["click_id"] == response.headers["X-AppSprint-Click-Id"]
    assert click["os"] is None and click["user_agent"] == DESKTOP


def test_unexpanded_macros_are_not_recorded_as_values(api):
    ad = a_signal_ad(api.world)
    path = urllib.parse.urlsplit(ad["landing_page_url"])
    response = api.http.get(f"{path.path}?{path.query}", headers={"User-Agent": IPHONE})
    assert response.status_code == 302
    click = new_clicks(api, "2000-01-01T00:00:00Z")[-1]
    assert click["click_id"] == response.headers["X-AppSprint-Click-Id"]
    assert click["ttclid"] is None and click["campaign_id"] is None and click["ad_id"] is None
    assert click["link_id"] == ad["signal_link_id"]


def test_unknown_link_is_404_and_records_nothing(api):
    before = api.read_all("clicks")[0]
    response = api.http.get("/s/sl_does_not_exist", params={"ttclid": "E.C.P.x"}, headers={"User-Agent": IPHONE})
    assert response.status_code == 404
    assert api.read_all("clicks")[0] == before
    assert api.control("stats", method="GET")["recorded_clicks"] == 0


def test_clicks_on_a_frozen_clock_are_never_missed_by_an_incremental_reader(api):
    """Each recorded click gets an updated_at after every click already visible, so a reader that
    resumes with updated_since=<last updated_at seen> gets every one, even on a frozen clock."""
    ad = a_signal_ad(api.world)
    last = api.read_all("clicks")[0][-1]["updated_at"]
    seen: list[dict] = []
    for i in range(3):
        response = api.http.get(
            f"/s/{ad['signal_link_id']}", params={"ttclid": f"E.C.P.{i}"}, headers={"User-Agent": IPHONE}
        )
        assert response.status_code == 302
        rows = new_clicks(api, last)
        assert [r["ttclid"] for r in rows] == [f"E.C.P.{i}"]
        seen.extend(rows)
        last = rows[-1]["updated_at"]
    assert [r["updated_at"] for r in seen] == sorted({r["updated_at"] for r in seen})


def test_a_cursor_walk_includes_clicks_recorded_during_the_walk(api):
    ad = a_signal_ad(api.world)
    first = api.page("clicks", limit=100)
    response = api.http.get(
        f"/s/{ad['signal_link_id']}", params={"ttclid": "E.C.P.mid-walk"}, headers={"User-Agent": ANDROID}
    )
    rows = list(first["data"])
    cursor = first["meta"]["next_cursor"]
    while cursor:
        body = api.page("clicks", limit=100, cursor=cursor)
        rows.extend(body["data"])
        cursor = body["meta"]["next_cursor"]
    assert rows[-1]["click_id"] == response.headers["X-AppSprint-Click-Id"]
    keys = [(r["updated_at"], r["click_id"]) for r in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
