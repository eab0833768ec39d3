"""Schedules: frequent reporting and attribution syncs and a daily lookback refresh (cron
expressions and timezone from the environment: :mod:`dagster_project.settings`)."""

from __future__ import annotations

from dagster import ScheduleDefinition

from dagster_project.jobs import appsprint_sync_job, daily_refresh_job, tiktok_ads_sync_job
from dagster_project.settings import AutomationSettings


def build_schedules(settings: AutomationSettings) -> list[ScheduleDefinition]:
    timezone, status = settings.timezone, settings.schedule_status
    return [
        ScheduleDefinition(
            name="tiktok_ads_sync_schedule",
            job=tiktok_ads_sync_job,
            cron_schedule=settings.tiktok_sync_cron,
            execution_timezone=timezone,
            default_status=status,
        ),
        ScheduleDefinition(
            name="appsprint_sync_schedule",
            job=appsprint_sync_job,
            cron_schedule=settings.appsprint_sync_cron,
            execution_timezone=timezone,
            default_status=status,
        ),
        ScheduleDefinition(
            name="daily_refresh_schedule",
            job=daily_refresh_job,
            cron_schedule=settings.daily_refresh_cron,
            run_config={"ops": {"tiktok_ads": {"config": {"lookback_days": settings.daily_lookback_days}}}},
            execution_timezone=timezone,
            default_status=status,
        ),
    ]
