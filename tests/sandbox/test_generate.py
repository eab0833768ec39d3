"""The sandbox world: deterministic, matching the contract, with every planted feature present."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import re
import threading
import time
from collections import Counter
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from sandbox import ground_truth as gt
from sandbox import restatement
from sandbox.generate import (
    MAPPED_EVENT_TYPES,
    SIGNAL_LINK_MACROS,
    UNMAPPED_EVENT_TYPES,
    generate_world,
    install_event_id,
)
from sandbox.world import RESTATEMENT_FRACTIONS, TABLE_SCHEMAS
from sandbox.world_cache import cache_key, load_or_generate
from tests.conftest import FIXED_ANCHOR

UTC = dt.UTC
ID19 = re.compile(r"^[1-9][0-9]{18}$")


@pytest.fixture(scope="module")
def demo_world():
    return generate_world(seed=7, scale="demo", anchor=FIXED_ANCHOR)


def rows(table: pa.Table) -> list[dict]:
    return table.to_pylist()


def ipc_digest(table: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table.combine_chunks())
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def tz_of(world) -> dict[str, str]:
    adv = world.table("advertisers")
    return dict(zip(adv.column("advertiser_id").to_pylist(), adv.column("timezone").to_pylist()))


def ad_advertiser(world) -> dict[str, str]:
    ads = world.table("ads")
    return dict(zip(ads.column("ad_id").to_pylist(), ads.column("advertiser_id").to_pylist()))


# ---------------------------------------------------------------------------------------------
# contract, size, determinism
# ---------------------------------------------------------------------------------------------
def test_schemas_validate_and_sizes(tiny_world, demo_world):
    for world in (tiny_world, demo_world):
        world.validate()
        assert set(world.tables) == set(TABLE_SCHEMAS)
        assert world.anchor == FIXED_ANCHOR
        assert world.future_horizon == dt.timedelta(days=3)
    assert tiny_world.table("advertisers").num_rows == 2
    assert 8 <= tiny_world.table("ads").num_rows <= 14
    assert tiny_world.table("events").num_rows == 3000
    assert 40 <= demo_world.table("ads").num_rows <= 60
    assert demo_world.table("events").num_rows == 150_000


def test_generation_is_fast_for_test_scales():
    started = time.perf_counter()
    generate_world(seed=11, scale="tiny", anchor=FIXED_ANCHOR)
    assert time.perf_counter() - started < 2.0  # well under 1 s on an idle machine


def test_same_inputs_give_byte_identical_tables(tiny_world):
    again = generate_world(seed=7, scale="tiny", anchor=FIXED_ANCHOR)
    for name in TABLE_SCHEMAS:
        assert again.table(name).equals(tiny_world.table(name)), name
        assert ipc_digest(again.table(name)) == ipc_digest(tiny_world.table(name)), name
    assert again.notes == tiny_world.notes
    assert again.credentials == tiny_world.credentials


def test_other_seed_or_anchor_gives_another_world(tiny_world):
    other = generate_world(seed=8, scale="tiny", anchor=FIXED_ANCHOR)
    assert not other.table("events").equals(tiny_world.table("events"))
    assert other.credentials != tiny_world.credentials
    later = generate_world(seed=7, scale="tiny", anchor=FIXED_ANCHOR + dt.timedelta(hours=1))
    assert not later.table("clicks").equals(tiny_world.table("clicks"))


def test_events_and_days_overrides():
    world = generate_world(seed=3, scale="tiny", anchor=FIXED_ANCHOR, days=10, events=4321)
    assert world.table("events").num_rows == 4321
    assert world.notes["days"] == 10
    first = min(world.table("ad_daily").column("stat_date").to_pylist())
    assert first >= (FIXED_ANCHOR - dt.timedelta(days=11)).date()


def test_credentials_are_fixed_sandbox_strings(tiny_world):
    c = tiny_world.credentials
    assert re.fullmatch(r"[0-9]{19}", c.tiktok_app_id)
    for token in (c.tiktok_app_secret, c.tiktok_access_token, c.events_api_token, c.standard_access_token):
        assert re.fullmatch(r"[0-9a-f]{40}", token)
    assert len({c.tiktok_access_token, c.events_api_token, c.standard_access_token, c.tiktok_app_secret}) == 4
    assert re.fullmatch(r"as_export_[0-9a-f]{32}", c.appsprint_export_token)
    assert c.appsprint_app_id
    assert generate_world(seed=7, scale="demo", anchor=FIXED_ANCHOR, events=2000).credentials == c


# ---------------------------------------------------------------------------------------------
# TikTok entities
# ---------------------------------------------------------------------------------------------
def test_advertisers_straddle_utc(tiny_world, demo_world):
    adv = rows(tiny_world.table("advertisers"))
    offsets = [
        o for a in adv if (o := dt.datetime(2026, 1, 15, tzinfo=ZoneInfo(a["timezone"])).utcoffset()) is not None
    ]
    assert len(offsets) == len(adv)
    assert any(o < dt.timedelta(0) for o in offsets) and any(o > dt.timedelta(0) for o in offsets)
    assert {a["currency"] for a in adv} == {"USD", "EUR"}
    assert {a["timezone"] for a in rows(demo_world.table("advertisers"))} >= {
        "Etc/GMT+8",
        "Europe/Berlin",
        "Asia/Tokyo",
    }
    for a in adv:
        assert ID19.match(a["advertiser_id"])
    pixels = rows(tiny_world.table("pixels"))
    assert {p["advertiser_id"] for p in pixels} == {a["advertiser_id"] for a in adv}
    for p in pixels:
        assert ID19.match(p["pixel_id"])
        assert re.fullmatch(r"[A-Z0-9]{20}", p["pixel_code"])


def test_campaigns_links_adgroups_ads(demo_world):
    w = demo_world
    camps = {c["campaign_id"]: c for c in rows(w.table("campaigns"))}
    assert {c["objective_type"] for c in camps.values()} == {"WEB_CONVERSIONS", "LEAD_GENERATION"}
    links = rows(w.table("signal_links"))
    assert sorted(link["campaign_id"] for link in links) == sorted(camps)  # one link per campaign
    for link in links:
        assert re.fullmatch(r"sl_[0-9a-z]{12}", link["link_id"])
        assert link["url"] == f"https://{w.tracking_domain}/s/{link['link_id']}"
        assert link["network"] == "tiktok" and link["app_id"] == w.credentials.appsprint_app_id
    link_of = {link["campaign_id"]: link for link in links}
    planted = w.notes["startrial_in_sales_adgroup_id"]
    for g in rows(w.table("adgroups")):
        assert ID19.match(g["adgroup_id"])
        assert g["operating_system"] in ("IOS", "ANDROID")
        assert g["placements"] == ["PLACEMENT_TIKTOK"] and g["promotion_type"] == "WEBSITE"
        objective = camps[g["campaign_id"]]["objective_type"]
        allowed = (
            {"Purchase", "Subscribe"} if objective == "WEB_CONVERSIONS" else {"StartTrial", "CompleteRegistration"}
        )
        if g["adgroup_id"] == planted:
            assert objective == "WEB_CONVERSIONS" and g["optimization_event"] == "StartTrial"
        else:
            assert g["optimization_event"] in allowed
    fallback = set(w.notes["fallback_ad_ids"])
    assert 1 <= len(fallback) <= 3
    for ad in rows(w.table("ads")):
        assert ID19.match(ad["ad_id"])
        if ad["ad_id"] in fallback:
            assert ad["signal_link_id"] is None
            assert ad["landing_page_url"].startswith(("https://apps.apple.com/", "https://play.google.com/"))
        else:
            link = link_of[ad["campaign_id"]]
            assert ad["signal_link_id"] == link["link_id"]
            assert ad["landing_page_url"] == f"{link['url']}?{SIGNAL_LINK_MACROS}"
            assert "ttclid=__CLICKID__" in ad["landing_page_url"]
    ids = (
        [r["ad_id"] for r in rows(w.table("ads"))] + list(camps) + [g["adgroup_id"] for g in rows(w.table("adgroups"))]
    )
    assert len(ids) == len(set(ids))


def test_deleted_entities_have_history_but_no_later_days(tiny_world, demo_world):
    for w in (tiny_world, demo_world):
        ads = {a["ad_id"]: a for a in rows(w.table("ads"))}
        assert w.notes["deleted_campaign_ids"] and w.notes["deleted_adgroup_ids"]
        assert any(c["is_deleted"] for c in rows(w.table("campaigns")))
        assert any(g["is_deleted"] for g in rows(w.table("adgroups")))
        deleted = [a for a in ads.values() if a["is_deleted"]]
        assert deleted and {a["ad_id"] for a in deleted} == set(w.notes["deleted_ad_ids"])
        daily = rows(w.table("ad_daily"))
        tzs = tz_of(w)
        for ad in deleted:
            assert ad["secondary_status"] == "AD_STATUS_DELETE"
            days = [r for r in daily if r["ad_id"] == ad["ad_id"]]
            assert days and sum(r["spend"] for r in days) > 0  # it had spend before
            deletion_day = ad["modify_time"].astimezone(ZoneInfo(tzs[ad["advertiser_id"]])).date()
            assert max(r["stat_date"] for r in days) == deletion_day


def test_deleted_ad_has_installs_after_its_last_spend_day(tiny_world, demo_world):
    for w in (tiny_world, demo_world):
        ad_id = w.notes["deleted_ad_with_late_installs_id"]
        last_day = max(r["stat_date"] for r in rows(w.table("ad_daily")) if r["ad_id"] == ad_id)
        installs = [r for r in rows(gt.attributed_installs(w)) if r["ad_id"] == ad_id]
        assert any(r["install_date"] > last_day for r in installs)


def test_zero_activity_rows_for_live_ads(tiny_world):
    ads = {a["ad_id"]: a for a in rows(tiny_world.table("ads"))}
    zero = [r for r in rows(tiny_world.table("ad_daily")) if r["spend"] == 0]
    assert any(not ads[r["ad_id"]]["is_deleted"] for r in zero)
    for r in zero:
        assert r["impressions"] == 0 and r["clicks"] == 0
    assert tiny_world.notes["paused_ad_ids"]


def test_ad_daily_shape(demo_world):
    d = demo_world.table("ad_daily")
    keys = list(zip(d.column("ad_id").to_pylist(), d.column("stat_date").to_pylist()))
    assert len(keys) == len(set(keys))
    for r in rows(d):
        assert r["spend"] == r["spend"].quantize(decimal.Decimal("0.001"))
        assert r["real_time_conversion"] == r["conversion"]
        assert r["clicks"] <= r["impressions"] or r["impressions"] == 0
    fallback = set(demo_world.notes["fallback_ad_ids"])
    fb = [r for r in rows(d) if r["ad_id"] in fallback]
    assert sum(r["download_start"] for r in fb) > 0 and sum(r["spend"] for r in fb) > 0


# ---------------------------------------------------------------------------------------------
# AppSprint rows
# ---------------------------------------------------------------------------------------------
def _is_private(ip: str) -> bool:
    a, b = (int(x) for x in ip.split(".")[:2])
    return a in (0, 10, 127) or (a == 192 and b == 168) or (a == 172 and 16 <= b <= 31) or (a == 169 and b == 254)


def test_clicks_look_real(demo_world):
    w = demo_world
    ads = {a["ad_id"]: a for a in rows(w.table("ads"))}
    os_of = {g["adgroup_id"]: g["operating_system"] for g in rows(w.table("adgroups"))}
    clicks = rows(w.table("clicks"))
    assert len({c["click_id"] for c in clicks}) == len(clicks)
    fallback = set(w.notes["fallback_ad_ids"])
    for c in clicks[:5000]:
        assert re.fullmatch(r"clk_[0-9a-f]{20}", c["click_id"])
        assert re.fullmatch(r"E\.C\.P\.[A-Za-z0-9_-]{40}", c["ttclid"])
        assert c["placement"] == "TikTok"
        assert c["ad_id"] not in fallback
        assert ads[c["ad_id"]]["signal_link_id"] == c["link_id"]
        assert c["os"] == os_of[c["adgroup_id"]].lower()
        assert ("iPhone" in c["user_agent"]) == (c["os"] == "ios")
        assert not _is_private(c["ip"])
        assert dt.timedelta(0) < c["updated_at"] - c["clicked_at"] < dt.timedelta(seconds=10)
        assert c["clicked_at"] <= w.anchor + w.future_horizon


def test_installs_versions_and_hostile_traits(tiny_world, demo_world):
    for w in (tiny_world, demo_world):
        inst = rows(w.table("installs"))
        by_id: dict[str, list[dict]] = {}
        for r in inst:
            assert re.fullmatch(r"as_[0-9a-f]{24}", r["appsprint_id"])
            by_id.setdefault(r["appsprint_id"], []).append(r)
            if r["attribution_status"] == "attributed":
                assert r["attribution_network"] == "tiktok" and r["click_id"] and r["link_id"]
                assert r["match_type"] in ("ttclid", "ip_user_agent") and 0.6 <= r["confidence"] <= 1.0
            else:
                assert r["match_type"] == "organic" and r["click_id"] is None
        twice = [v for v in by_id.values() if len(v) == 2]
        assert len(twice) == w.notes["late_attributions"] > 0
        assert all(len(v) <= 2 for v in by_id.values())
        after_anchor = 0
        for first, second in (sorted(v, key=lambda r: r["updated_at"]) for v in twice):
            assert first["attribution_status"] == "organic" and second["attribution_status"] == "attributed"
            assert first["superseded_at"] == second["updated_at"] and second["superseded_at"] is None
            assert first["installed_at"] == second["installed_at"]
            after_anchor += second["updated_at"] > w.anchor
            assert second["updated_at"] <= w.anchor + w.future_horizon
        assert after_anchor >= 3
        organic = [v[0] for v in by_id.values() if len(v) == 1 and v[0]["attribution_status"] == "organic"]
        assert organic
        ips = [r["ip"] for r in inst]
        assert any(ip is None for ip in ips)
        assert any(ip and ip.startswith("10.") for ip in ips) or any(ip and ip.startswith("192.168.") for ip in ips)
        assert "127.0.0.1" in ips
        assert any(r["user_agent"] is None for r in inst)
        bad = sum(
            1 for v in by_id.values() if v[0]["ip"] is None or v[0]["user_agent"] is None or _is_private(v[0]["ip"])
        )
        assert bad / len(by_id) < 0.08
        # installed_at sometimes crosses the advertiser's local midnight after the click
        clicks = {c["click_id"]: c for c in rows(w.table("clicks"))}
        tzs, adv = tz_of(w), ad_advertiser(w)
        crossed = 0
        for r in inst:
            if r["click_id"]:
                z = ZoneInfo(tzs[adv[clicks[r["click_id"]]["ad_id"]]])
                crossed += (
                    r["installed_at"].astimezone(z).date() != clicks[r["click_id"]]["clicked_at"].astimezone(z).date()
                )
                assert r["installed_at"] > clicks[r["click_id"]]["clicked_at"]
        assert crossed > 0


def test_events_cover_every_feature(demo_world):
    w = demo_world
    t = w.table("events")
    col = t.column

    def distinct(name: str, table: pa.Table = t) -> set:
        return set(pc.unique(table.column(name)).to_pylist())

    assert set(MAPPED_EVENT_TYPES) <= distinct("event_type") and set(UNMAPPED_EVENT_TYPES) <= distinct("event_type")
    custom = t.filter(pc.equal(col("event_type"), "custom"))
    assert any(n.startswith("revenuecat:") for n in distinct("event_name", custom))
    assert distinct("source") == {"sdk", "revenuecat", "superwall"}
    assert distinct("environment") == {"production", "sandbox"}
    assert pc.sum(pc.equal(col("environment"), "production").cast(pa.int64())).as_py() > 0.9 * t.num_rows
    valid_rev = t.filter(pc.and_(pc.is_valid(col("revenue")), pc.is_null(col("invalid_reason"))))
    assert {"USD", "EUR", "BRL"} <= distinct("currency", valid_rev)
    trials = t.filter(pc.equal(col("event_type"), "start_trial"))
    assert 0 in {float(v) for v in trials.column("revenue").to_pylist() if v is not None}
    # one install event per install, with the stable derived id
    installs = set(w.table("installs").column("appsprint_id").to_pylist())
    inst_events = t.filter(pc.equal(col("event_type"), "install")).select(["event_id", "appsprint_id"])
    assert distinct("appsprint_id", inst_events) == installs
    for e in rows(inst_events.slice(0, 2000)):
        assert e["event_id"] == install_event_id(e["appsprint_id"])
    assert pc.all(pc.match_substring_regex(col("event_id"), r"^(ev_[0-9a-f]{32}|inst_[0-9a-f]{30})$")).as_py()
    assert pc.all(pc.less_equal(col("occurred_at"), col("received_at"))).as_py()
    assert pc.all(pc.less_equal(col("received_at"), col("updated_at"))).as_py()
    assert pc.max(col("updated_at")).as_py() <= w.anchor + w.future_horizon
    sample = rows(t.slice(0, 20000))
    for e in sample:
        if e["invalid_reason"] != "event_too_large":
            assert isinstance(json.loads(e["parameters"]), dict)
    # SDK traits copied from the install
    inst_traits = {r["appsprint_id"]: (r["ip"], r["user_agent"]) for r in rows(w.table("installs"))}
    assert all(inst_traits[e["appsprint_id"]] == (e["ip"], e["user_agent"]) for e in sample)
    cuids = t.filter(pc.is_valid(col("customer_user_id"))).column("customer_user_id")
    assert pc.any(pc.match_substring_regex(cuids, r"^[0-9a-f]{64}$")).as_py()
    assert pc.any(pc.starts_with(cuids, "user_")).as_py()
    assert pc.sum(pc.is_null(col("customer_user_id")).cast(pa.int64())).as_py() > 0
    # late (offline queue) and after the anchor
    lag = pc.subtract(col("received_at").cast(pa.int64()), col("occurred_at").cast(pa.int64()))
    assert pc.sum(pc.greater(lag, 6 * 3600 * 10**6).cast(pa.int64())).as_py() > 0.01 * t.num_rows
    assert pc.any(pc.greater(col("updated_at"), pa.scalar(w.anchor, pa.timestamp("us", tz="UTC")))).as_py()


def test_duplicate_deliveries_are_identical_but_later(tiny_world):
    ev = rows(tiny_world.table("events"))
    by_id: dict[str, list[dict]] = {}
    for e in ev:
        by_id.setdefault(e["event_id"], []).append(e)
    dups = [v for v in by_id.values() if len(v) > 1]
    assert len(dups) == tiny_world.notes["duplicate_deliveries"] == round(0.01 * len(ev))
    for a, b in dups:
        assert a["updated_at"] < b["updated_at"]
        strip = lambda r: {k: v for k, v in r.items() if k != "updated_at"}  # noqa: E731
        assert strip(a) == strip(b)


def test_hostile_rows(tiny_world, demo_world):
    for w in (tiny_world, demo_world):
        ev = w.table("events")
        hostile = rows(ev.filter(pc.is_valid(ev.column("invalid_reason"))))
        kinds = Counter(e["invalid_reason"] for e in hostile)
        assert set(kinds) == {"bad_timestamp", "bad_currency", "negative_revenue", "event_too_large"}
        assert all(n >= 3 for n in kinds.values())
        assert len(hostile) < 0.01 * ev.num_rows
        for e in hostile:
            r = e["invalid_reason"]
            if r == "bad_timestamp":
                with pytest.raises(ValueError, match=r"Invalid isoformat string|must be in|out of range"):
                    dt.datetime.fromisoformat(e["occurred_at_raw"].replace("Z", "+00:00"))
            elif r == "bad_currency":
                assert not re.fullmatch(r"[A-Z]{3}", e["currency"])
            elif r == "negative_revenue":
                assert e["revenue"] < 0
            else:
                assert len(e["parameters"].encode()) > 16 * 1024
        raw_set = pc.is_valid(ev.column("occurred_at_raw"))
        assert pc.all(
            pc.equal(raw_set, pc.equal(ev.column("invalid_reason"), "bad_timestamp").fill_null(False))
        ).as_py()


def test_events_near_local_midnight(demo_world):
    w = demo_world
    tzs, adv = tz_of(w), ad_advertiser(w)
    clicks = dict(zip(w.table("clicks").column("click_id").to_pylist(), w.table("clicks").column("ad_id").to_pylist()))
    inst = w.table("installs").filter(pc.is_valid(w.table("installs").column("click_id")))
    install_tz = {
        a: tzs[adv[clicks[c]]]
        for a, c in zip(inst.column("appsprint_id").to_pylist(), inst.column("click_id").to_pylist())
    }
    ev = w.table("events").select(["appsprint_id", "occurred_at"])
    near = 0
    for tz in set(install_tz.values()):
        ids = pa.array([a for a, z in install_tz.items() if z == tz])
        part = ev.filter(pc.is_in(ev.column("appsprint_id"), value_set=ids))
        local = pc.local_timestamp(part.column("occurred_at").cast(pa.timestamp("us", tz=tz)))
        minutes = pc.add(pc.multiply(pc.hour(local), 60), pc.minute(local))
        near += pc.sum(pc.or_(pc.less(minutes, 10), pc.greater_equal(minutes, 24 * 60 - 10)).cast(pa.int64())).as_py()
    assert near >= w.notes["near_midnight_events"] >= 10


def test_appsprint_tables_sorted_by_updated_at_then_id(demo_world):
    for name, key in (("clicks", "click_id"), ("installs", "appsprint_id"), ("events", "event_id")):
        t = demo_world.table(name)
        upd = t.column("updated_at").cast(pa.int64()).to_numpy()
        assert (np.diff(upd) >= 0).all(), name
        ids = t.column(key).to_pylist()
        ties = np.flatnonzero(np.diff(upd) == 0)
        assert all(ids[i] <= ids[i + 1] for i in ties)


# ---------------------------------------------------------------------------------------------
# ground truth
# ---------------------------------------------------------------------------------------------
def test_ground_truth_consistency(demo_world):
    w = demo_world
    end = w.anchor + w.future_horizon
    clicks = {(r["ad_id"], r["click_date"]): r["clicks"] for r in rows(gt.clicks_per_ad_day(w, end))}
    daily = {(r["ad_id"], r["stat_date"]): r for r in rows(w.table("ad_daily"))}
    # TikTok counts at least the clicks AppSprint saw on the Signal link, on the same local day
    for key, n in clicks.items():
        assert key in daily and daily[key]["clicks"] >= n
    # installs per ad-day never exceed the clicks on that ad up to that day
    installs = rows(gt.attributed_installs(w, end))
    for r in installs:
        upto = sum(n for (ad, day), n in clicks.items() if ad == r["ad_id"] and day <= r["install_date"])
        assert r["installs"] <= upto
    # download_start tracks AppSprint's attributed installs (noise 0.7-1.2), fallback ads aside
    fallback = set(w.notes["fallback_ad_ids"])
    dl = sum(r["download_start"] for k, r in daily.items() if k[0] not in fallback)
    att = sum(r["installs"] for r in installs)
    assert 0.75 * att <= dl <= 1.2 * att
    # TikTok's purchase value tracks AppSprint's purchase revenue (converted, roughly)
    rev = rows(gt.attributed_revenue(w, end))
    assert rev and {r["currency"] for r in rev} >= {"USD", "EUR", "JPY"}
    assert sum(r["total_complete_payment_rate"] for k, r in daily.items() if k[0] not in fallback) > 0


def test_attributed_installs_grow_as_the_clock_advances(tiny_world):
    w = tiny_world
    at_anchor = sum(r["installs"] for r in rows(gt.attributed_installs(w)))
    later = sum(r["installs"] for r in rows(gt.attributed_installs(w, w.anchor + w.future_horizon)))
    assert 0 < at_anchor < later
    assert gt.summary(w)["attributed_installs_at_anchor"] > 0


def test_restated_arithmetic():
    clock = dt.datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
    tz = "Etc/GMT+8"  # UTC-8: 2026-06-14 ends at 2026-06-15 08:00 UTC
    # day in progress and the day that ended 4 h ago: index 0
    assert restatement.restatement_index(dt.date(2026, 6, 15), tz, clock).tolist() == [0]
    assert restatement.restatement_index(dt.date(2026, 6, 14), tz, clock).tolist() == [0]
    assert restatement.restatement_index(dt.date(2026, 6, 13), tz, clock).tolist() == [1]
    assert restatement.restatement_index(dt.date(2026, 6, 20), tz, clock).tolist() == [0]  # future
    assert restatement.restated(10, dt.date(2026, 6, 15), tz, clock) == 6  # floor(10 * 0.6)
    assert restatement.restated(7, dt.date(2026, 6, 13), tz, clock) == 5  # floor(7 * 0.8) = 5
    assert restatement.restated(7, dt.date(2026, 5, 1), tz, clock) == 7  # final
    # values: round half to even, exactly (0.9 * 0.05 = 0.045 -> 0.04; 0.9 * 0.15 = 0.135 -> 0.14)
    three_days_ago = dt.date(2026, 6, 11)
    assert restatement.reported_fraction(three_days_ago, tz, clock).tolist() == [RESTATEMENT_FRACTIONS[3]]
    two = dt.date(2026, 6, 12)
    assert restatement.restated(decimal.Decimal("0.05"), two, tz, clock) == decimal.Decimal("0.04")
    assert restatement.restated(decimal.Decimal("0.15"), two, tz, clock) == decimal.Decimal("0.14")
    # arrays keep their type; nulls pass through; per-row time zones; DST zone
    dates = pa.array([dt.date(2026, 6, 12), dt.date(2026, 6, 12), dt.date(2026, 6, 12)])
    vals = pa.array([decimal.Decimal("0.05"), None, decimal.Decimal("100.00")], pa.decimal128(18, 6))
    out = restatement.restated(vals, dates, tz, clock)
    assert out.type == pa.decimal128(18, 6)
    assert out.to_pylist() == [decimal.Decimal("0.040000"), None, decimal.Decimal("90.000000")]
    counts = restatement.restated(pa.array([10, 10, None], pa.int64()), dates, ["Europe/Berlin", tz, tz], clock)
    assert counts.to_pylist() == [9, 9, None]
    # Berlin in summer is UTC+2: 2026-06-15 00:00 local = 2026-06-14 22:00 UTC
    assert restatement.restatement_index(dt.date(2026, 6, 13), "Europe/Berlin", clock).tolist() == [1]
    np.testing.assert_array_equal(
        restatement.restated(
            np.array([100, 5]), np.array(["2026-06-15", "2026-06-01"], dtype="datetime64[D]"), tz, clock
        ),
        [60, 5],
    )


def test_tiktok_report_restates_and_converges(tiny_world):
    w = tiny_world
    final = {(r["ad_id"], r["stat_date"]): r for r in rows(w.table("ad_daily"))}
    tzs = tz_of(w)
    now = rows(gt.tiktok_report(w))
    for r in now:
        assert r["stat_date"] <= w.anchor.astimezone(ZoneInfo(tzs[r["advertiser_id"]])).date()
        f = final[(r["ad_id"], r["stat_date"])]
        assert r["spend"] == f["spend"] and r["clicks"] == f["clicks"]
        assert r["real_time_conversion"] == f["real_time_conversion"]
        assert r["download_start"] <= f["download_start"]
        assert r["total_complete_payment_rate"] <= f["total_complete_payment_rate"]
    assert sum(r["download_start"] for r in now) < sum(
        final[(r["ad_id"], r["stat_date"])]["download_start"] for r in now
    )
    later = rows(gt.tiktok_report(w, w.anchor + dt.timedelta(days=10)))
    for r in later:
        f = final[(r["ad_id"], r["stat_date"])]
        if r["stat_date"] <= (w.anchor - dt.timedelta(days=1)).date():
            assert r["download_start"] == f["download_start"] and r["conversion"] == f["conversion"]
    assert len(later) > len(now)


def test_summary_counts(tiny_world):
    s = gt.summary(tiny_world)
    for key in (
        "advertisers",
        "campaigns",
        "ads",
        "deleted_ads",
        "appsprint_clicks",
        "installs",
        "attributed_installs_at_anchor",
        "events",
        "duplicate_deliveries",
        "hostile_rows",
    ):
        assert isinstance(s[key], int) and s[key] > 0, key
    assert s["events"] == 3000 and s["advertisers"] == 2


# ---------------------------------------------------------------------------------------------
# cache
# ---------------------------------------------------------------------------------------------
def test_cache_round_trip(tmp_path, tiny_world):
    first = load_or_generate(seed=7, scale="tiny", anchor=FIXED_ANCHOR, cache_dir=tmp_path)
    key_dir = tmp_path / cache_key(7, "tiny", FIXED_ANCHOR)
    assert (key_dir / "manifest.json").exists()
    manifest = json.loads((key_dir / "manifest.json").read_text())
    assert (
        manifest["seed"] == 7
        and manifest["credentials"]["tiktok_access_token"] == tiny_world.credentials.tiktok_access_token
    )
    loaded = load_or_generate(seed=7, scale="tiny", anchor=FIXED_ANCHOR, cache_dir=tmp_path)
    for world in (first, loaded):
        world.validate()
        for name in TABLE_SCHEMAS:
            assert world.table(name).equals(tiny_world.table(name)), name
        assert world.credentials == tiny_world.credentials
        assert world.notes == tiny_world.notes
        assert (world.seed, world.scale, world.anchor, world.future_horizon, world.tracking_domain) == (
            7,
            "tiny",
            FIXED_ANCHOR,
            tiny_world.future_horizon,
            tiny_world.tracking_domain,
        )
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_cache_is_safe_under_concurrent_callers(tmp_path):
    results, errors = [], []

    def call():
        try:
            results.append(load_or_generate(seed=5, scale="tiny", anchor=FIXED_ANCHOR, events=2500, cache_dir=tmp_path))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 3 and all(r.table("events").equals(results[0].table("events")) for r in results)
    entries = [p.name for p in tmp_path.iterdir()]
    assert entries == [cache_key(5, "tiny", FIXED_ANCHOR, events=2500)]
    assert (
        load_or_generate(seed=5, scale="tiny", anchor=FIXED_ANCHOR, events=2500, cache_dir=tmp_path)
        .table("installs")
        .equals(results[0].table("installs"))
    )
