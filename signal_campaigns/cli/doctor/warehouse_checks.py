"""The doctor's checks of the warehouse data (read-only): events skipped for a missing or private
IP or user agent, delivery to TikTok (the ledger), optimisation events against campaign objectives,
and the differences with TikTok Ads Manager, for the selected advertisers (all with ``--all``).
A check whose tables are missing is ``skip``."""

from __future__ import annotations

import datetime as dt

from signal_campaigns.cli.status import ledger_counts, ledger_scope
from signal_campaigns.cli.warehouse_reads import MARTS_SCHEMA, STAGING_SCHEMA, Warehouse, advertiser_scope
from signal_campaigns.errors import ActionableError
from signal_campaigns.forwarding.ledger import LEDGER_TABLE

from .check import Check

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
    "AppSprint attributes with its own data, TikTok Ads Manager with the Pixel's view; the report "
    "takes AppSprint's number and TikTok's only where AppSprint has none (ad x day)"
)
RECONCILIATION_COLUMNS = [
    "campaign",
    "cur",
    "INSTALLS AppSprint",
    "INSTALLS TikTok",
    "REVENUE AppSprint",
    "REVENUE TikTok",
    "DIVERGING days",
]
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


class WarehouseChecks:
    """The checks that read the warehouse; it is opened once, at the first check, and closed by :meth:`close`."""

    def __init__(self, warehouse: str | None = None, advertisers: list[str] | None = None) -> None:
        self.warehouse = warehouse
        self.advertisers = advertisers or []  # [] = every advertiser
        self.note: str | None = None  # set when the data comes from the BI copy (a run holds the warehouse)
        self._wh: Warehouse | None = None
        self._wh_error: ActionableError | None = None

    def close(self) -> None:
        if self._wh is not None:
            self._wh.__exit__(None, None, None)

    def wh(self) -> Warehouse:
        if self._wh is None and self._wh_error is None:
            try:
                self._wh = Warehouse(self.warehouse).__enter__()
                self.note = self._wh.note
            except ActionableError as exc:
                self._wh_error = exc
        if self._wh_error is not None:
            raise self._wh_error
        assert self._wh is not None
        return self._wh

    def _warehouse_or_skip(self, check: Check, *tables: str) -> Warehouse | None:
        try:
            wh = self.wh()
        except ActionableError as exc:
            check.set("skip", exc.message, exc.fix)
            return None
        missing = [t for t in tables if not wh.has(*t.split(".", 1))]
        if missing:
            check.set(
                "skip", f"the warehouse has no {', '.join(missing)}", "build the models (`dbt build` or `make demo`)"
            )
            return None
        return wh

    def check_skipped(self, check: Check) -> None:
        wh = self._warehouse_or_skip(check, f"{MARTS_SCHEMA}.forwarding_skips", f"{MARTS_SCHEMA}.events_to_forward")
        if wh is None:
            return
        scope, ids = advertiser_scope("advertiser_id", self.advertisers)
        by_reason = {
            r["reason"]: int(r["n"])
            for r in wh.rows(
                f"select reason, count(*) as n from {MARTS_SCHEMA}.forwarding_skips where {scope} group by reason", ids
            )
        }
        queued = int(wh.scalar(f"select count(*) from {MARTS_SCHEMA}.events_to_forward where {scope}", ids))
        bad = sum(by_reason.get(r, 0) for r in IP_UA_REASONS)
        share = bad / (bad + queued) if bad + queued else 0.0
        examples = wh.rows(
            f"select event_id, reason, sdk_event, ip, has_user_agent from {MARTS_SCHEMA}.forwarding_skips "
            f"where reason in ({', '.join('?' for _ in IP_UA_REASONS)}) and {scope} "
            "order by occurred_at desc, event_id limit 5",
            [*IP_UA_REASONS, *ids],
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
        scope, ids = ledger_scope(self.advertisers)
        counts, last_sent = ledger_counts(wh, scope, ids)
        problems = wh.rows(
            f"select status, last_code, min(last_message) as last_message, count(*) as events, "
            f"min(event_id) as example_event_id from {MARTS_SCHEMA}.{LEDGER_TABLE} "
            f"where status in ('dead', 'pending') and last_code is not null and {scope} "
            f"group by status, last_code order by events desc limit 5",
            ids,
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
        scope, ids = advertiser_scope("g.advertiser_id", self.advertisers)
        rows = wh.rows(
            f"select g.advertiser_id, c.campaign_id, c.campaign_name, c.objective_type, g.adgroup_id, g.adgroup_name, "
            f"g.optimization_event from {STAGING_SCHEMA}.stg_tiktok_ads__adgroups g join "
            f"{STAGING_SCHEMA}.stg_tiktok_ads__campaigns c on g.campaign_id = c.campaign_id "
            f"where not g.is_deleted and not c.is_deleted and {scope} order by c.campaign_name, g.adgroup_name",
            ids,
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
        scope, ids = advertiser_scope("advertiser_id", self.advertisers)
        end = wh.scalar(f"select max(report_date) from {MARTS_SCHEMA}.attribution_reconciliation where {scope}", ids)
        if end is None:
            check.set("skip", "no report days loaded yet", "load data first")
            return
        start = end - dt.timedelta(days=WINDOW_DAYS - 1)
        campaigns = wh.rows(
            f"select advertiser_id, campaign_id, max(campaign_name) as campaign_name, max(currency) as currency, "
            f"sum(installs_appsprint) as installs_appsprint, sum(installs_tiktok) as installs_tiktok, "
            f"sum(revenue_appsprint) as revenue_appsprint, sum(revenue_tiktok) as revenue_tiktok, "
            f"max(diverging_streak_days) as longest_diverging_streak, count(*) filter (where is_diverging) as diverging_days "
            f"from {MARTS_SCHEMA}.attribution_reconciliation where report_date between ? and ? and {scope} "
            f"group by advertiser_id, campaign_id order by campaign_name",
            [start, end, *ids],
        )
        fallback_ads = wh.rows(
            f"select ad_id, max(ad_name) as ad_name, max(campaign_name) as campaign_name, "
            f"sum(installs_from_fallback) as installs_from_fallback, sum(revenue_from_fallback) as revenue_from_fallback "
            f"from {MARTS_SCHEMA}.signal_campaign_daily where report_date between ? and ? and "
            f"(installs_source = 'tiktok' or revenue_source = 'tiktok') and {scope} group by ad_id order by ad_id",
            [start, end, *ids],
        )
        drifting = [c for c in campaigns if (c["longest_diverging_streak"] or 0) >= STREAK_DAYS]
        parts = [f"{start} to {end}, {len(campaigns)} campaign(s) (table below)"]
        if fallback_ads:
            parts.append(f"{len(fallback_ads)} ad(s) on TikTok's fallback (AppSprint attributed nothing on some days)")
        if drifting:
            parts.append(f"{len(drifting)} diverging {STREAK_DAYS}+ days in a row")
        status = "warn" if drifting or fallback_ads else "pass"
        fix = (
            None
            if status == "pass"
            else (
                "nothing to repair when the difference is attribution; for ads on the fallback, check that their "
                "Website URL is the Signal link (`signal-campaigns link`)"
            )
        )
        check.set(
            status,
            "; ".join(parts) + f". {EXPLAIN_DIFFERENCES}.",
            fix,
            start_date=start,
            end_date=end,
            campaigns=campaigns,
            fallback_ads=fallback_ads,
            drifting_campaigns=[c["campaign_id"] for c in drifting],
        )
        check.table = {
            "columns": RECONCILIATION_COLUMNS,
            "rows": [
                [
                    c["campaign_name"],
                    c["currency"],
                    c["installs_appsprint"],
                    c["installs_tiktok"],
                    c["revenue_appsprint"],
                    c["revenue_tiktok"],
                    f"{c['diverging_days']} (streak {c['longest_diverging_streak'] or 0})",
                ]
                for c in campaigns
            ],
        }
