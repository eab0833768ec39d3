"""The forwarding sensor: every 5 s (``SIGNAL_FORWARDING_SENSOR_SECONDS``), one cheap HTTP question to
AppSprint, at most one run. The wait for its next tick is part of every event's latency to TikTok.

Its cursor is the newest event ``updated_at`` it has seen (as AppSprint serves it). The first tick
(no cursor yet: a new deployment, ``make dev``) requests one ``daily_refresh`` run, so the
warehouse gets everything the forwarding models need (TikTok's pixels and ads too). After that, a
tick with events newer than the cursor requests one ``forward_new_events`` run whose run key is derived
from the new cursor (so a repeated tick cannot start a second run for the same events) and moves
the cursor on. While a requested run is still waiting in the queue, new events are left to it
(it loads whatever is new when it starts): the tick is skipped and the cursor stays, so runs do
not pile up when they take longer than the interval. The sensor never opens the warehouse
(one writer: docs/decisions/0008-one-writer-and-bi-copy.md): the run does the loading, and dlt's own incremental state decides what it loads.
An AppSprint error is a skipped tick with the reason; the next tick asks again.
"""

from dagster import DagsterRunStatus, RunRequest, RunsFilter, SensorEvaluationContext, SensorResult, SkipReason, sensor

from dagster_project.defs.forwarding.appsprint_probe import probe_new_events
from dagster_project.defs.forwarding.resources import AppSprintApiResource
from dagster_project.jobs import daily_refresh_job, forwarding_job
from dagster_project.settings import AutomationSettings
from dlt_sources.appsprint import AppSprintError

RUN_KEY_PREFIX = "appsprint-events-through-"
NOT_STARTED = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED]


def waiting_run_id(context: SensorEvaluationContext) -> str | None:
    """A run of the sensor's jobs that is queued and has not started (so will load events new by then)."""
    for job in (forwarding_job, daily_refresh_job):
        records = context.instance.get_run_records(filters=RunsFilter(job_name=job.name, statuses=NOT_STARTED), limit=1)
        if records:
            return records[0].dagster_run.run_id
    return None


def build_forwarding_sensor(settings: AutomationSettings):
    @sensor(
        name="forward_new_appsprint_events",
        jobs=[forwarding_job, daily_refresh_job],
        minimum_interval_seconds=settings.sensor_seconds,
        default_status=settings.sensor_status,
        description="Checks AppSprint for new events (one small HTTP call, no warehouse) and requests one "
        "forwarding run per new batch.",
    )
    def forward_new_appsprint_events(context: SensorEvaluationContext, appsprint_api: AppSprintApiResource):
        since = context.cursor or None
        try:
            with appsprint_api.client() as client:
                probe = probe_new_events(
                    client, since, page_limit=appsprint_api.probe_page_limit, max_pages=appsprint_api.probe_max_pages
                )
        except AppSprintError as exc:  # messages are scrubbed of the export token
            return SkipReason(f"AppSprint export API check failed, will ask again next tick: {exc}")
        if probe.newest is None:
            return SkipReason(f"no new AppSprint events since {since or 'the beginning'}")
        waiting = waiting_run_id(context)
        if waiting is not None:
            return SkipReason(
                f"{probe.rows} new AppSprint event rows are left to run {waiting}, which is "
                "queued and loads them when it starts"
            )
        more = "" if probe.complete else " (more beyond; the next tick goes on)"
        context.log.info(f"{probe.rows} new AppSprint event rows through {probe.newest}{more}")
        return SensorResult(
            run_requests=[
                RunRequest(
                    run_key=f"{RUN_KEY_PREFIX}{probe.newest}",
                    job_name=(forwarding_job if since else daily_refresh_job).name,
                    tags={"signal/appsprint_events_through": probe.newest},
                )
            ],
            cursor=probe.newest,
        )

    return forward_new_appsprint_events
