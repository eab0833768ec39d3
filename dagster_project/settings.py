"""Automation settings of the code location, read from the environment when it loads.

| env var | default | what |
|---|---|---|
| ``SIGNAL_TIKTOK_SYNC_CRON`` | ``0 * * * *`` | TikTok Ads reporting sync + models (hourly) |
| ``SIGNAL_APPSPRINT_SYNC_CRON`` | ``*/15 * * * *`` | AppSprint attribution sync + models |
| ``SIGNAL_DAILY_REFRESH_CRON`` | ``30 3 * * *`` | daily lookback refresh: everything, TikTok re-pulled over the long lookback |
| ``SIGNAL_DAILY_LOOKBACK_DAYS`` | ``28`` | days the daily refresh re-pulls (1..28, see docs/decisions/0005-restatement-and-lookback.md) |
| ``SIGNAL_SCHEDULE_TIMEZONE`` | ``UTC`` | timezone of the cron schedules |
| ``SIGNAL_FORWARDING_SENSOR_SECONDS`` | ``5`` | how often the forwarding sensor checks AppSprint (5 s: the Dagster daemon's own sensor loop) |
| ``SIGNAL_AUTOMATION`` | ``stopped`` | ``running``: schedules and sensor start switched on (``make dev`` sets it) |

A bad value stops the code location from loading with a message naming the variable.
"""

from __future__ import annotations

import dataclasses
import os

from dagster import (
    AssetSelection,
    DagsterInvalidDefinitionError,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    ScheduleDefinition,
)

from signal_campaigns.setting_checks import SettingError, check_int


class SettingsError(SettingError):
    """An automation setting in the environment is invalid."""


def _int(name: str, default: int, lo: int, hi: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return check_int(raw, name, lo, hi)
    except SettingError:
        raise SettingsError(name, raw, f"a whole number from {lo} to {hi}") from None


# Dagster's own checks: a schedule definition refuses a cron string or a timezone Dagster cannot run
def _schedule_check(cron: str, timezone: str | None = None) -> None:
    ScheduleDefinition(name="check", cron_schedule=cron, target=AssetSelection.all(), execution_timezone=timezone)


def _cron(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip() or default
    try:
        _schedule_check(value)
    except DagsterInvalidDefinitionError:
        raise SettingsError(
            name, value, f"a cron schedule of five fields (minute hour day month weekday), e.g. {default!r}"
        ) from None
    return value


def _timezone(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip() or default
    try:
        _schedule_check("0 * * * *", value)
    except DagsterInvalidDefinitionError:
        raise SettingsError(name, value, "an IANA timezone name, e.g. 'UTC' or 'Europe/Berlin'") from None
    return value


@dataclasses.dataclass(frozen=True)
class AutomationSettings:
    tiktok_sync_cron: str
    appsprint_sync_cron: str
    daily_refresh_cron: str
    daily_lookback_days: int
    timezone: str
    sensor_seconds: int
    running: bool

    @classmethod
    def from_env(cls) -> AutomationSettings:
        status = os.environ.get("SIGNAL_AUTOMATION", "").strip().lower() or "stopped"
        if status not in ("running", "stopped"):
            raise SettingsError("SIGNAL_AUTOMATION", status, "'running' or 'stopped'")
        return cls(
            tiktok_sync_cron=_cron("SIGNAL_TIKTOK_SYNC_CRON", "0 * * * *"),
            appsprint_sync_cron=_cron("SIGNAL_APPSPRINT_SYNC_CRON", "*/15 * * * *"),
            daily_refresh_cron=_cron("SIGNAL_DAILY_REFRESH_CRON", "30 3 * * *"),
            daily_lookback_days=_int("SIGNAL_DAILY_LOOKBACK_DAYS", 28, 1, 28),
            timezone=_timezone("SIGNAL_SCHEDULE_TIMEZONE", "UTC"),
            sensor_seconds=_int("SIGNAL_FORWARDING_SENSOR_SECONDS", 5, 5, 3600),
            running=status == "running",
        )

    @property
    def schedule_status(self) -> DefaultScheduleStatus:
        return DefaultScheduleStatus.RUNNING if self.running else DefaultScheduleStatus.STOPPED

    @property
    def sensor_status(self) -> DefaultSensorStatus:
        return DefaultSensorStatus.RUNNING if self.running else DefaultSensorStatus.STOPPED
