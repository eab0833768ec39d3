"""The doctor's checks against TikTok, with the configured credentials: the OAuth token reaches
the selected advertisers, their campaigns load, the Events API token is accepted for the pixel."""

from __future__ import annotations

from typing import Any

from signal_campaigns.cli import settings_store as keys
from signal_campaigns.cli.clock import is_time_refusal, time_refusal
from signal_campaigns.cli.settings_store import SettingsStore
from signal_campaigns.errors import ActionableError
from signal_campaigns.tiktok.marketing import (
    ADMIN_OPERATOR,
    EVENTS_TOKEN_FIX,
    PIXEL_40001_FIX,
    TikTokApi,
    send_test_event,
)

from .check import Check

FIX_OAUTH = (
    "disconnect and reconnect with an account that still has access (`signal-campaigns disconnect`, then `connect`)"
)
FIX_CAMPAIGNS = (
    "reconnect and approve advertiser/reporting access (`signal-campaigns connect`); the Events API "
    "token does not grant reporting"
)


class ApiChecks:
    """The checks that call TikTok; ``check_campaigns`` and the pixel lookup run only after
    ``check_oauth`` passed."""

    def __init__(self, store: SettingsStore, test_event_code: str | None = None) -> None:
        self.store = store
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
        options: dict[str, Any] = {"test_event_code": self.test_event_code} if self.test_event_code else {}
        try:
            answer = send_test_event(
                self.base_url, token, self.pixel_code, page_url=self.store.get_str(keys.SIGNAL_LINK_URL), **options
            )
        except ActionableError as exc:
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
        if not answer["accepted"]:
            error = (
                time_refusal(answer, self.base_url)
                if is_time_refusal(answer)
                else ActionableError(f"TikTok did not accept the test event: {answer['message']}", fix=EVENTS_TOKEN_FIX)
            )
            check.set("fail", error.message, error.fix, tiktok_code=answer["code"], test_event=answer)
            return
        check.set(
            "pass",
            f"TikTok accepted a ViewContent test event for pixel {self.pixel_code} (test events "
            f"never count as production)",
            test_event=answer,
        )
