"""``link``: the Signal link with TikTok's click macros, ready to paste as the ad's Website URL
(the macros: docs/tiktok_business_api.md), and the campaign checklist of
docs/appsprint_integration.md. The parameter names are the ones AppSprint's redirect reads."""

from __future__ import annotations

import urllib.parse

from signal_campaigns.errors import ActionableError

# AppSprint redirect parameter -> TikTok macro (double underscores: single ones do not expand)
MACROS: tuple[tuple[str, str], ...] = (
    ("campaign_id", "__CAMPAIGN_ID__"),
    ("campaign_name", "__CAMPAIGN_NAME__"),
    ("adgroup_id", "__AID__"),
    ("ad_id", "__CID__"),
    ("ad_name", "__CID_NAME__"),
    ("placement", "__PLACEMENT__"),
    ("ttclid", "__CLICKID__"),
    ("callback", "__CALLBACK_PARAM__"),
    ("ip", "__IP__"),
    ("ua", "__UA__"),
)

CHECKLIST: tuple[str, ...] = (
    (
        "Objective: Sales (Website conversions) when you optimise for Purchase or Subscribe; Lead generation when "
        "you optimise for StartTrial or sign-up (CompleteRegistration)"
    ),
    "Destination: Website (not App); paste the Signal link above as the ad's Website URL",
    "Pixel: the same Web Pixel whose Pixel ID and Events API token you set with `signal-campaigns pixel`",
    "Placement: TikTok only (no Pangle / Global App Bundle)",
    "One OS per ad group (iOS or Android), so the store redirect and the optimisation match",
    "Do not repeat the link's parameters in TikTok's Tracking section (URL parameters): the link carries them",
)


def signal_link(base_url: str) -> str:
    """``https://<tracking domain>/s/<link id>`` + the macros, ready to paste."""
    split = urllib.parse.urlsplit(base_url.strip())
    if split.scheme not in ("http", "https") or not split.netloc or "/s/" not in split.path:
        raise ActionableError(
            f"{base_url!r} is not a Signal link URL",
            fix="use the link's URL from AppSprint, like https://<tracking domain>/s/<link id>",
        )
    existing = urllib.parse.parse_qsl(split.query, keep_blank_values=True)
    ours = {name for name, _ in MACROS}
    kept = [(k, v) for k, v in existing if k not in ours]
    query = urllib.parse.urlencode(kept, safe="_")
    macros = "&".join(f"{name}={macro}" for name, macro in MACROS)
    return urllib.parse.urlunsplit(
        (split.scheme, split.netloc, split.path, f"{query}&{macros}" if query else macros, "")
    )
