"""``python -m tests.dagster.describe_location``: the code location as loaded in this process's
environment, as JSON: asset keys, jobs with their assets, schedules, sensors, pools, and where the
resources point (the target, the dlt destinations, dbt's target). Run in a child process so that
each target loads its own definitions."""

from __future__ import annotations

import json
import sys


def describe() -> dict:
    from dagster import ScheduleDefinition

    from dagster_project.definitions import defs

    graph = defs.resolve_asset_graph()
    resources = defs.resources or {}
    warehouse = resources["warehouse"]
    pipelines = {ds: warehouse.dlt_pipeline(ds) for ds in ("tiktok_ads", "appsprint")}
    return {
        "assets": sorted(k.to_user_string() for k in graph.get_all_asset_keys()),
        "pools": sorted(
            {
                str(p)
                for k in graph.get_all_asset_keys()
                if graph.get(k).is_materializable
                for p in graph.get(k).pools or []
            }
        ),
        "jobs": {
            job.name: sorted(k.to_user_string() for k in job.asset_layer.selected_asset_keys)
            for job in (defs.resolve_job_def(name) for name in sorted(j.name for j in defs.jobs or []))
        },
        "schedules": sorted(
            (s.name, s.cron_schedule, s.job_name) for s in defs.schedules or [] if isinstance(s, ScheduleDefinition)
        ),
        "sensors": sorted(s.name for s in defs.sensors or []),
        "target": warehouse.target_name(),
        "dbt_target": resources["dbt"].target,
        "dlt": {
            ds: [p.pipeline_name, p.destination.destination_name, str(p.destination.config_params.get("bucket_url"))]
            for ds, p in pipelines.items()
        },
        "load_args": warehouse.load_args(),
    }


if __name__ == "__main__":
    json.dump(describe(), sys.stdout, default=str)
