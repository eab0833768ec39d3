"""Test events refused for their time: TikTok takes events stamped at most 300 seconds ahead of
its own clock (docs/tiktok_business_api.md), and the CLI stamps them with this machine's clock, so
such a refusal means the two clocks disagree, not that the token or pixel is wrong. The error shows
both times: this machine's (the event's ``event_time``) and TikTok's (the HTTP ``Date`` header of
its API host)."""

from __future__ import annotations

import datetime as dt
import email.utils
from typing import Any

import httpx

from signal_campaigns.errors import ActionableError
from signal_campaigns.tiktok.marketing import host_root

CLOCK_FIX = (
    "set this machine's clock right (synchronise it: `timedatectl set-ntp true`, or the system's date "
    "settings), then try again; against the local sandbox, restart `make sandbox` (its clock follows this "
    "machine's) or move it (POST /_sandbox/clock)"
)


def server_clock(base_url: str | None) -> dt.datetime | None:
    """The API host's clock from its HTTP ``Date`` header (``None`` when it cannot be read)."""
    try:
        response = httpx.get(host_root(base_url) + "/", timeout=5)
        dates = response.headers.get_list("date")
        return email.utils.parsedate_to_datetime(dates[-1]).astimezone(dt.UTC) if dates else None
    except (httpx.HTTPError, ValueError, TypeError, IndexError):
        return None


def is_time_refusal(answer: dict[str, Any]) -> bool:
    message = str(answer.get("message") or "")
    return "event_time" in message and ("future" in message or "older" in message)


def time_refusal(answer: dict[str, Any], base_url: str | None) -> ActionableError:
    """The error for a test event TikTok refused for its ``event_time``: both clocks, the fix."""
    local = dt.datetime.fromtimestamp(int(answer["event_time"]), dt.UTC)
    remote = server_clock(base_url)
    times = f"this machine's clock: {local:%Y-%m-%d %H:%M:%S} UTC"
    if remote is not None:
        gap = int((local - remote).total_seconds())
        ahead = "ahead of" if gap >= 0 else "behind"
        times += f"; TikTok's clock: {remote:%Y-%m-%d %H:%M:%S} UTC (this machine is {abs(gap)} s {ahead} it)"
    return ActionableError(
        f"TikTok refused the test event's time ({answer.get('message')}): the clocks disagree, the token and "
        f"pixel are not the problem. {times}",
        fix=CLOCK_FIX,
        code=answer.get("code"),
    )
