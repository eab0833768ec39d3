"""The words beside the numbers: what to do about each forwarding skip reason, and why AppSprint
and TikTok disagree. They come from the troubleshooting table of docs/appsprint_integration.md
(rows "some events are never sent" and "numbers do not match TikTok Ads Manager") and the skip
reasons of docs/metrics.md ("Forwarding")."""

from __future__ import annotations

from typing import Any

SKIP_REMEDIES = {
    "sandbox": "nothing to do: events from the SDK's sandbox environment are never forwarded",
    "not_tiktok_attributed": "put the generated Signal link live as the ad's Website URL before production "
    "traffic starts (`signal-campaigns link`); installs from other sources are not TikTok's to count",
    "unmapped": "leave the mapping switched on: map the SDK event to a TikTok event "
    "(`signal-campaigns mapping set SDK_EVENT TikTokEvent`)",
    "invalid_mapping": "map the SDK event to a TikTok standard event or a valid custom name "
    "(`signal-campaigns mapping show`)",
    "missing_pixel": "give the ad group a Web Pixel linked to the advertiser, and configure it "
    "(`signal-campaigns pixel`)",
    "missing_ip": "make sure the SDK's requests come with the device's real IP (server-side calls must pass it on)",
    "private_ip": "make sure the SDK's requests come with the device's public IP, not a proxy's or a local network's",
    "missing_user_agent": "make sure the SDK's requests come with the device's real user agent",
    "too_old": "TikTok takes events up to 7 days old: forward more often (the forwarding sensor runs every 5 s while switched on)",
}
UNKNOWN_REMEDY = "see docs/forwarding.md"

RECONCILIATION_NOTE = (
    "Numbers do not match TikTok Ads Manager: the two use different attribution. AppSprint counts what "
    "its attribution matched (on the install or event day), TikTok what the Pixel saw (on the click "
    "day); users without a TikTok click differ between the two. The dashboard uses AppSprint's number "
    "whenever it has one and TikTok's only as the fallback (per ad and day)."
)


def remedy(reason: str) -> str:
    return SKIP_REMEDIES.get(reason, UNKNOWN_REMEDY)


def reconciliation_explanation(row: dict[str, Any], streak_alarm: int = 3) -> str:
    """One campaign's difference over the window, in words."""
    appsprint, tiktok = int(row["installs_appsprint"] or 0), int(row["installs_tiktok"] or 0)
    if appsprint == tiktok:
        return "AppSprint and TikTok agree on installs."
    if appsprint == 0:
        return "AppSprint attributed no installs: TikTok's numbers are used (check that the ad's Website URL is the Signal link)."
    streak = int(row["longest_streak"] or 0)
    if streak >= streak_alarm:
        return (
            f"Diverging {streak} days in a row: more than attribution timing. Check that every ad's "
            "Website URL is the Signal link (`signal-campaigns link`)."
        )
    more = "AppSprint" if appsprint > tiktok else "TikTok"
    if int(row["diverging_days"] or 0):
        return (
            f"{more} counts more; {row['diverging_days']} day(s) beyond the threshold but no lasting streak: "
            "different attribution, nothing to repair."
        )
    return f"{more} counts more: different attribution (click day vs install day), nothing to repair."
