"""``doctor``: the troubleshooting table of reference/appsprint.md §1 as checks. Each check says
pass / warn / fail / skip, what it found (with numbers and examples) and the fix from the table.

API checks use the configured credentials (OAuth token, Events API token, pixel); warehouse checks
read the marts read-only. A check that cannot run (not configured, no warehouse) is ``skip`` with
what to do, and never stops the other checks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from signal_campaigns.forwarding.ledger import LEDGER_TABLE
from signal_campaigns.tiktok.marketing import (
    ADMIN_OPERATOR,
    EVENTS_TOKEN_FIX,
    PIXEL_40001_FIX,
    TikTokApi,
    send_test_event,
)

from . import settings_store as keys
from .errors import CliError
from .settings_store import SettingsStore
from .status import ledger_counts
from .warehouse_reads import MARTS_SCHEMA, STAGING_SCHEMA, Warehouse

FIX_OAUTH = (
    "disconnect and reconnect with an account that still has access (`signal-campaigns disconnect`, then `connect`)"
)
FIX_CAMPAIGNS = (
    "reconnect and approve advertiser/reporting access (`signal-campaigns connect`); the Events API "
    "token does not grant reporting"
)
FIX_SKIPPED = (
    "use the generated Signal link before production traffic (`signal-campaigns link`), keep the mapping "
    "enabled (`signal-campaigns mapping show`), and make sure SDK requests carry a real client IP and "
    "user agent (server-side calls must pass the device's IP and user agent on)"
)
FIX_DELIVERY = (
    "wait 30-90 minutes after events are sent; check that the Signal link is the ad's Website URL and "
    "that the Pixel ID matches the Events API token (`signal-campaigns pixel`)"
)
FIX_OBJECTIVE = (
    "StartTrial and sign-up (CompleteRegistration) belong to a Lead generation campaign, Purchase and "
    "Subscribe to Sales; the Website URL domain must match the Pixel event URL"
)
EXPLAIN_DIFFERENCES = (
    "AppSprint counts installs and revenue with its own attribution, TikTok Ads Manager with the "
    "Pixel's view; they differ for users without a TikTok click. The report uses AppSprint's "
    "number whenever it has one and TikTok's only as a fallback (ad x day)"
)
DELAY_NOTE = "TikTok shows production events in Events Manager 30-90 minutes after they arrive"

IP_UA_REASONS = ("missing_ip", "private_ip", "missing_user_agent")
LEAD_EVENTS = frozenset({"StartTrial", "CompleteRegistration", "Lead", "SubmitForm", "SubmitApplication", "Contact"})
SALES_EVENTS = frozenset(
    {"Purchase", "CompletePayment", "Subscribe", "InitiateCheckout", "AddToCart", "AddPaymentInfo", "PlaceAnOrder"}
)
SALES_OBJECTIVES = frozenset({"WEB_CONVERSIONS", "CONVERSIONS", "PRODUCT_SALES", "SALES"})
LEAD_OBJECTIVES = frozenset({"LEAD_GENERATION"})
WARN_SHARE = 0.05  # above this share of otherwise-forwardable events skipped for IP/UA: fail
STREAK_DAYS = 3  # reconciliation_consecutive_days in dbt_project.yml
WINDOW_DAYS = 7


@dataclasses.dataclass
class Check:
    id: str
    title: str
    status: str = "skip"  # pass | warn | fail | skip
    detail: str = ""
    fix: str | None = None
    data: dict[str, Any] = dataclasses.field(default_factory=dict)

    def set(self, status: str, detail: str, fix: str | None = None, **data: Any) -> Check:
        self.status, self.detail, self.fix = status, detail, fix
        self.data.update(data)
        return self


class Doctor:
    def __init__(self, store: SettingsStore, warehouse: str | None = None, test_event_code: str | None = None) -> None:
        self.store = store
        self.warehouse = warehouse
        self.test_event_code = test_event_code
        self.base_url = store.get_str(keys.BASE_URL)
        self.api = TikTokApi(
            self.base_url,
            access_token=store.get_str(keys.ACCESS_TOKEN),
            app_id=store.get_str(keys.APP_ID),
            app_secret=store.get_str(keys.APP_SECRET),
        )
        self.advertisers = store.get_list(keys.ADVERTISER_IDS)
        self.pixel_code = store.get_str(keys.PIXEL_CODE)
        self.oauth_ok = False
        self._wh: Warehouse | None = None
        self._wh_error: CliError | None = None

    # --- plumbing --------------------------------------------------------------------------------
    def checks(self) -> list[tuple[str, str, Callable[[Check], Any]]]:
        return [
            ("oauth", "OAuth token valid and advertiser reachable", self.check_oauth),
            ("campaigns", "Campaigns load", self.check_campaigns),
            ("events_api", "Events API token accepted and Pixel ID matches it", self.check_events_api),
            ("skipped_events", "Events skipped for a missing or private IP or user agent", self.check_skipped),
            ("delivery", "Recent events reaching TikTok (delivery ledger)", self.check_delivery),
            ("objective_fit", "Optimisation events fit the campaign objectives", self.check_objectives),
            ("reporting_differences", "Reporting differences vs TikTok Ads Manager", self.check_reconciliation),
        ]

    def run(self, on_step: Callable[[str], None] | None = None) -> list[Check]:
        results = []
        try:
            for check_id, title, fn in self.checks():
                if on_step:
                    on_step(title)
                check = Check(check_id, title)
                try:
                    fn(check)
                except CliError as exc:
                    check.set("fail", exc.message, exc.fix, tiktok_code=exc.code)
                results.append(check)
        finally:
            if self._wh is not None:
                self._wh.__exit__(None, None, None)
        return results

    def wh(self) -> Warehouse:
        if self._wh is None and self._wh_error is None:
            try:
                self._wh = Warehouse(self.warehouse).__enter__()
            except CliError as exc:
                self._wh_error = exc
        if self._wh_error is not None:
            raise self._wh_error
        assert self._wh is not None
        return self._wh

    def _warehouse_or_skip(self, check: Check, *tables: str) -> Warehouse | None:
        try:
            wh = self.wh()
        except CliError as exc:
            check.set("skip", exc.message, exc.fix)
            return None
        missing = [t for t in tables if not wh.has(*t.split(".", 1))]
        if missing:
            check.set(
                "skip", f"the warehouse has no {', '.join(missing)}", "build the models (`dbt build` or `make demo`)"
            )
            return None
        return wh

    # --- API checks ------------------------------------------------------------------------------
    def check_oauth(self, check: Check) -> None:
        if not self.store.get_str(keys.ACCESS_TOKEN):
            check.set("fail", "TikTok is not connected: no OAuth access token", "run `signal-campaigns connect`")
            return
        if not self.advertisers:
            check.set("warn", "no advertiser is selected", "run `signal-campaigns accounts --select <id>`")
            return
        info = self.api.advertiser_info(self.advertisers)
        names = {str(r.get("advertiser_id")): r.get("name") for r in info}
        missing = [a for a in self.advertisers if a not in names]
        if missing:
            check.set("fail", f"advertiser(s) {', '.join(missing)} not reachable with this token", FIX_OAUTH)
            return
        self.oauth_ok = True
        check.set(
            "pass",
            f"{len(names)} advertiser(s) reachable: " + ", ".join(f"{n} ({a})" for a, n in names.items()),
            advertisers=names,
        )

    def check_campaigns(self, check: Check) -> None:
        if not self.oauth_ok:
            check.set("skip", "needs a working OAuth connection (see the check above)", FIX_CAMPAIGNS)
            return
        counts = {a: len(self.api.campaigns(a)) for a in self.advertisers}
        if not any(counts.values()):
            check.set(
                "warn",
                "the connection reads no campaign for the selected advertiser(s)",
                FIX_CAMPAIGNS,
                campaigns=counts,
            )
            return
        check.set("pass", ", ".join(f"{n} campaign(s) for {a}" for a, n in counts.items()), campaigns=counts)

    def check_events_api(self, check: Check) -> None:
        token = self.store.get_str(keys.EVENTS_API_TOKEN)
        if not token:
            check.set("fail", "no Events API token is configured", "run `signal-campaigns pixel`")
            return
        if not self.pixel_code:
            check.set(
                "warn",
                "no Pixel ID is configured, so the token cannot be checked against it",
                "run `signal-campaigns pixel --pixel <Pixel ID>`",
            )
            return
        if self.oauth_ok:
            owners = [
                a for a in self.advertisers if any(p.get("pixel_code") == self.pixel_code for p in self.api.pixels(a))
            ]
            if not owners:
                check.set(
                    "fail",
                    f"pixel {self.pixel_code} is not linked to the selected advertiser(s) "
                    f"{', '.join(self.advertisers)}",
                    "link the Web Pixel to the advertiser in TikTok Events "
                    "Manager, or set the right one with `signal-campaigns pixel`",
                    pixel_code=self.pixel_code,
                )
                return
        try:
            answer = send_test_event(
                self.base_url,
                token,
                self.pixel_code,
                **({"test_event_code": self.test_event_code} if self.test_event_code else {}),
            )
        except CliError as exc:
            if exc.code == 40001:
                check.set(
                    "fail",
                    f"the token is not accepted for pixel {self.pixel_code}: the Pixel ID does not match "
                    f"the token, or {ADMIN_OPERATOR}",
                    PIXEL_40001_FIX,
                    tiktok_code=40001,
                )
            else:
                check.set("fail", exc.message, exc.fix or EVENTS_TOKEN_FIX, tiktok_code=exc.code)
            return
        check.set(
            "pass",
            f"TikTok accepted a ViewContent test event for pixel {self.pixel_code} (test events "
            f"never count as production)",
            test_event=answer,
        )

    # --- warehouse checks ------------------------------------------------------------------------
    def check_skipped(self, check: Check) -> None:
        wh = self._warehouse_or_skip(check, f"{MARTS_SCHEMA}.forwarding_skips", f"{MARTS_SCHEMA}.events_to_forward")
        if wh is None:
            return
        by_reason = {
            r["reason"]: int(r["n"])
            for r in wh.rows(f"select reason, count(*) as n from {MARTS_SCHEMA}.forwarding_skips group by reason")
        }
        queued = int(wh.scalar(f"select count(*) from {MARTS_SCHEMA}.events_to_forward"))
        bad = sum(by_reason.get(r, 0) for r in IP_UA_REASONS)
        share = bad / (bad + queued) if bad + queued else 0.0
        examples = wh.rows(
            f"select event_id, reason, sdk_event, ip, has_user_agent from {MARTS_SCHEMA}.forwarding_skips "
            f"where reason in ({', '.join('?' for _ in IP_UA_REASONS)}) order by occurred_at desc, event_id limit 5",
            list(IP_UA_REASONS),
        )
        other = {r: n for r, n in by_reason.items() if r not in IP_UA_REASONS}
        detail = f"{bad} of {bad + queued} otherwise forwardable events ({share:.1%}) are not sent: " + ", ".join(
            f"{by_reason.get(r, 0)} {r}" for r in IP_UA_REASONS
        )
        if other:
            detail += "; other skips: " + ", ".join(f"{n} {r}" for r, n in sorted(other.items()))
        status = "pass" if bad == 0 else ("warn" if share <= WARN_SHARE else "fail")
        check.set(
            status,
            detail,
            None if status == "pass" else FIX_SKIPPED,
            by_reason=by_reason,
            queued=queued,
            skipped_ip_ua=bad,
            share=round(share, 4),
            examples=examples,
        )

    def check_delivery(self, check: Check) -> None:
        wh = self._warehouse_or_skip(check)
        if wh is None:
            return
        if not wh.has(MARTS_SCHEMA, LEDGER_TABLE):
            check.set(
                "warn",
                "nothing has been forwarded yet (no delivery ledger)",
                "run the forwarder: `python -m signal_campaigns.forwarding` (or the Dagster sensor)",
            )
            return
        counts, last_sent = ledger_counts(wh)
        problems = wh.rows(
            f"select status, last_code, min(last_message) as last_message, count(*) as events, "
            f"min(event_id) as example_event_id from {MARTS_SCHEMA}.{LEDGER_TABLE} "
            f"where status in ('dead', 'pending') and last_code is not null "
            f"group by status, last_code order by events desc limit 5"
        )
        sent, dead, pending = counts.get("sent", 0), counts.get("dead", 0), counts.get("pending", 0)
        parts = [f"{sent} sent", f"{pending} pending", f"{dead} dead"]
        if counts.get("in_flight"):
            parts.append(f"{counts['in_flight']} in flight")
        detail = ", ".join(parts)
        if last_sent is not None:
            age = dt.datetime.now(dt.UTC) - last_sent
            minutes = int(age.total_seconds() // 60)
            detail += f"; last sent {minutes} min ago"
            if minutes < 90:
                detail += f" ({DELAY_NOTE}: do not expect them there yet)"
        else:
            detail += f". {DELAY_NOTE}"
        for p in problems:
            detail += (
                f"; {p['events']} {p['status']} with TikTok code {p['last_code']} (e.g. event "
                f"{p['example_event_id']}: {p['last_message']})"
            )
        status = "pass" if sent and not dead and not pending else "warn"
        if not sent and (pending or dead):
            status = "fail"
        fix = (
            None
            if status == "pass"
            else FIX_DELIVERY
            + (
                "; dead events were refused by TikTok (see the message) and are not retried; pending ones are retried on "
                "the next forwarding run"
                if dead or pending
                else ""
            )
        )
        check.set(status, detail, fix, ledger=counts, last_sent_at=last_sent, problems=problems)

    def check_objectives(self, check: Check) -> None:
        wh = self._warehouse_or_skip(
            check, f"{STAGING_SCHEMA}.stg_tiktok_ads__adgroups", f"{STAGING_SCHEMA}.stg_tiktok_ads__campaigns"
        )
        if wh is None:
            return
        rows = wh.rows(
            f"select g.advertiser_id, c.campaign_id, c.campaign_name, c.objective_type, g.adgroup_id, g.adgroup_name, "
            f"g.optimization_event from {STAGING_SCHEMA}.stg_tiktok_ads__adgroups g join "
            f"{STAGING_SCHEMA}.stg_tiktok_ads__campaigns c on g.campaign_id = c.campaign_id "
            f"where not g.is_deleted and not c.is_deleted order by c.campaign_name, g.adgroup_name"
        )
        misfits = []
        for r in rows:
            event, objective = r["optimization_event"], (r["objective_type"] or "").upper()
            if event in LEAD_EVENTS and objective in SALES_OBJECTIVES:
                misfits.append({**r, "severity": "fail", "should_be": "Lead generation"})
            elif event in SALES_EVENTS and objective in LEAD_OBJECTIVES:
                misfits.append({**r, "severity": "warn", "should_be": "Sales"})
        if not misfits:
            check.set(
                "pass",
                f"{len(rows)} active ad group(s) optimise for events that fit their campaign objective",
                misfits=[],
            )
            return
        detail = "; ".join(
            f"ad group {m['adgroup_name'] or m['adgroup_id']} ({m['adgroup_id']}) optimises for "
            f"{m['optimization_event']} in {m['objective_type']} campaign {m['campaign_name']}: move it "
            f"to a {m['should_be']} campaign"
            for m in misfits
        )
        status = "fail" if any(m["severity"] == "fail" for m in misfits) else "warn"
        check.set(status, detail, FIX_OBJECTIVE, misfits=misfits)

    def check_reconciliation(self, check: Check) -> None:
        wh = self._warehouse_or_skip(
            check, f"{MARTS_SCHEMA}.attribution_reconciliation", f"{MARTS_SCHEMA}.signal_campaign_daily"
        )
        if wh is None:
            return
        end = wh.scalar(f"select max(report_date) from {MARTS_SCHEMA}.attribution_reconciliation")
        if end is None:
            check.set("skip", "no report days loaded yet", "load data first")
            return
        start = end - dt.timedelta(days=WINDOW_DAYS - 1)
        campaigns = wh.rows(
            f"select advertiser_id, campaign_id, max(campaign_name) as campaign_name, max(currency) as currency, "
            f"sum(installs_appsprint) as installs_appsprint, sum(installs_tiktok) as installs_tiktok, "
            f"sum(revenue_appsprint) as revenue_appsprint, sum(revenue_tiktok) as revenue_tiktok, "
            f"max(diverging_streak_days) as longest_diverging_streak, count(*) filter (where is_diverging) as diverging_days "
            f"from {MARTS_SCHEMA}.attribution_reconciliation where report_date between ? and ? "
            f"group by advertiser_id, campaign_id order by campaign_name",
            [start, end],
        )
        fallback_ads = wh.rows(
            f"select ad_id, max(ad_name) as ad_name, max(campaign_name) as campaign_name, "
            f"sum(installs_from_fallback) as installs_from_fallback, sum(revenue_from_fallback) as revenue_from_fallback "
            f"from {MARTS_SCHEMA}.signal_campaign_daily where report_date between ? and ? and "
            f"(installs_source = 'tiktok' or revenue_source = 'tiktok') group by ad_id order by ad_id",
            [start, end],
        )
        drifting = [c for c in campaigns if (c["longest_diverging_streak"] or 0) >= STREAK_DAYS]
        lines = [
            f"{c['campaign_name']}: installs AppSprint {c['installs_appsprint']} vs TikTok {c['installs_tiktok']}, "
            f"revenue {c['revenue_appsprint'] or 0:.2f} vs {c['revenue_tiktok'] or 0:.2f} {c['currency']}"
            for c in campaigns
        ]
        detail = f"{start} to {end}: " + "; ".join(lines)
        if fallback_ads:
            detail += (
                f". {len(fallback_ads)} ad(s) use TikTok's numbers because AppSprint attributed nothing to them "
                f"on some days: " + ", ".join(a["ad_name"] or a["ad_id"] for a in fallback_ads)
            )
        if drifting:
            detail += ". Diverging for " + ", ".join(
                f"{c['campaign_name']} ({c['longest_diverging_streak']} days in a row)" for c in drifting
            )
        detail += f". {EXPLAIN_DIFFERENCES}"
        status = "warn" if drifting or fallback_ads else "pass"
        fix = (
            None
            if status == "pass"
            else (
                "nothing to repair when the difference is attribution; for ads on the fallback, check that their Website "
                "URL is the Signal link (`signal-campaigns link`)"
            )
        )
        check.set(
            status,
            detail,
            fix,
            start_date=start,
            end_date=end,
            campaigns=campaigns,
            fallback_ads=fallback_ads,
            drifting_campaigns=[c["campaign_id"] for c in drifting],
        )
