"""Benchmark: event-to-TikTok latency with the forwarding sensor running (target: p95 < 30 s).

What it runs, all on this machine:

1. both sandbox servers (``sandbox_processes``, scale ``demo``, anchored at this hour);
2. a baseline warehouse in a temporary directory: extract, ``dbt build``, forward (as ``make demo``);
3. ``dagster-daemon run`` on ``workspace.yaml`` with a temporary ``DAGSTER_HOME`` (the instance
   config of ``make dev``: one warehouse run at a time), the sandbox's environment, the forwarding
   sensor switched on (every ``SIGNAL_FORWARDING_SENSOR_SECONDS``, default 5 s) and the cron schedules
   moved out of the way;
4. after the sensor's first run (a ``daily_refresh``), ``--steps`` times: advance both sandbox clocks by
   ``--step-sandbox-seconds`` (late and re-delivered events become visible in the AppSprint API at
   that moment), note which events appeared (``updated_since`` reads of the AppSprint API), then
   poll the TikTok sandbox's received events (``/_sandbox/events/received?payloads=true``) every
   ``--poll`` seconds until the next step; then drain until the runs are done.

Per forwarded event: latency = wall time first seen accepted by the TikTok sandbox - wall time it
became forwardable (resolution: the poll interval): it became visible in the AppSprint API, and its
install was TikTok-attributed (an event of an install not yet attributed is not eligible until the
attribution appears; ``installs`` is followed like ``events``). Events that appeared but were not forwarded are ineligible ones
(``forwarding_skips``); events forwarded without appearing in a step were made eligible by a late
attribution of their install and are counted apart. The three slowest events are printed.

Also printed: the runs the sensor requested (queue wait and duration) and, per run, where its time
goes: the run worker's start until its first step, then each step (median and max over the runs).

Run: ``.venv/bin/python -m bench.bench_forwarding_latency [--steps 8] [--step-seconds 20]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]

TARGET_P95_SECONDS = 30.0
NEVER = "0 0 1 1 *"  # the cron schedules stay out of the measurement
SENSOR = "forward_new_appsprint_events"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class AppSprintFeed:
    """Reads which rows of one export endpoint (``events``, ``installs``) the AppSprint API serves
    after a point (as any client would)."""

    def __init__(self, endpoints, endpoint: str = "events") -> None:
        creds = endpoints.credentials
        self.url = f"{endpoints.appsprint_api_url}/apps/{creds.appsprint_app_id}/{endpoint}"
        self.http = httpx.Client(headers={"Authorization": f"Bearer {creds.appsprint_export_token}"}, timeout=60)
        self.newest: str | None = None

    def new_rows(self) -> list[dict]:
        params: dict = {"limit": 1000}
        if self.newest:
            params["updated_since"] = self.newest
        rows: list[dict] = []
        while True:
            body = self.http.get(self.url, params=params).json()
            rows.extend(body["data"])
            if body["data"]:
                self.newest = body["data"][-1]["updated_at"]
            if not body["meta"]["next_cursor"]:
                return rows
            params = {"limit": 1000, "cursor": body["meta"]["next_cursor"]}


def is_tiktok_attributed(install: dict) -> bool:
    attribution = install.get("attribution") or {}
    return (
        str(attribution.get("status") or "").lower() == "attributed"
        and str(attribution.get("network") or "").lower() == "tiktok"
    )


def became_forwardable(
    event_id: str, appeared: dict[str, float], install_of: dict[str, str], attributed_at: dict[str, float]
) -> float:
    """When an event could first be forwarded: it appeared, and its install was TikTok-attributed
    (which eligibility requires). An event that appeared before its install was attributed becomes
    forwardable when the attribution appeared; installs attributed before the steps add nothing."""
    return max(appeared[event_id], attributed_at.get(install_of.get(event_id, ""), 0.0))


class TikTokReceived:
    """Follows the TikTok sandbox's store of received production events."""

    def __init__(self, endpoints) -> None:
        self.url = f"{endpoints.tiktok_url}/_sandbox/events/received"
        self.http = httpx.Client(timeout=60)
        self.offset = 0
        self.first_seen: dict[str, float] = {}

    def poll(self, record: bool = True) -> int:
        new = 0
        while True:
            body = self.http.get(self.url, params={"payloads": "true", "limit": 10_000, "offset": self.offset}).json()
            rows = body["payloads"]["events"]
            now = time.time()
            for row in rows:
                event_id = row["event"].get("event_id")
                if record and event_id not in self.first_seen:
                    self.first_seen[event_id] = now
                    new += 1
            self.offset += len(rows)
            if len(rows) < 10_000:
                return new


def runs(instance) -> list:
    """The sensor's runs, oldest first (the first is its catch-up ``daily_refresh``)."""
    from dagster import RunsFilter

    return list(reversed(instance.get_run_records(filters=RunsFilter(tags={"dagster/sensor_name": SENSOR}))))


def busy(instance) -> bool:
    from dagster import DagsterRunStatus, RunsFilter

    active = [
        DagsterRunStatus.QUEUED,
        DagsterRunStatus.NOT_STARTED,
        DagsterRunStatus.STARTING,
        DagsterRunStatus.STARTED,
    ]
    return bool(instance.get_run_records(filters=RunsFilter(tags={"dagster/sensor_name": SENSOR}, statuses=active)))


def failure_text(instance, run_id: str) -> str:
    for entry in instance.all_logs(run_id):
        if entry.dagster_event is not None and entry.dagster_event.event_type_value in ("STEP_FAILURE", "RUN_FAILURE"):
            return entry.user_message or str(entry.dagster_event.event_specific_data)[:500]
    return "(no failure event)"


def run_phases(instance, record) -> dict[str, float]:
    """Wall seconds of one run: ``(start)`` from the run's start to its first step, then per step."""
    out: dict[str, float] = {}
    started: dict[str, float] = {}
    first = None
    for entry in instance.all_logs(record.dagster_run.run_id):
        event = entry.dagster_event
        if event is None or not event.step_key:
            continue
        if event.event_type_value == "STEP_START":
            started[event.step_key] = entry.timestamp
            first = entry.timestamp if first is None else min(first, entry.timestamp)
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in started:
            out[event.step_key] = entry.timestamp - started[event.step_key]
    if first is not None and record.start_time:
        out = {"(start)": first - record.start_time, **out}
    return out


def print_run_phases(instance, records) -> None:
    per_phase: dict[str, list[float]] = {}
    for record in records:
        for phase, seconds in run_phases(instance, record).items():
            per_phase.setdefault(phase, []).append(seconds)
    for phase, values in per_phase.items():
        print(f"    {phase:40s} median {statistics.median(values):5.1f} s   max {max(values):5.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--step-seconds", type=float, default=20.0, help="wall seconds between clock steps")
    parser.add_argument("--step-sandbox-seconds", type=float, default=7200.0, help="sandbox time per step")
    parser.add_argument("--poll", type=float, default=0.5)
    parser.add_argument("--drain", type=float, default=240.0, help="max wall seconds to wait after the last step")
    args = parser.parse_args(argv)

    from dagster import DagsterInstance

    from dagster_project.defs.dbt.resources import prepare_manifest
    from dagster_project.settings import AutomationSettings
    from sandbox.connection import extract_sandbox_world
    from sandbox.dev import prepare_dagster_home, sandbox_environment
    from sandbox.runner import default_anchor, sandbox_processes
    from signal_campaigns.forwarding import forward_events
    from signal_campaigns.pipeline import build_models
    from signal_campaigns.warehouse import WAREHOUSE_ENV

    interval = AutomationSettings.from_env().sensor_seconds  # what the daemon's sensor reads (same env)
    anchor = default_anchor()
    t0 = time.monotonic()
    # ignore_cleanup_errors: a run worker the daemon launched may still be writing its logs
    with (
        tempfile.TemporaryDirectory(prefix="bench-latency-", ignore_cleanup_errors=True) as tmp_dir,
        sandbox_processes(7, args.scale, anchor, marketing_qps=None) as endpoints,
    ):
        tmp = Path(tmp_dir)
        db = tmp / "warehouse.duckdb"
        extract_sandbox_world(endpoints, db, anchor)
        build_models(db)
        baseline = forward_events(db, base_url=endpoints.tiktok_url, token=endpoints.credentials.events_api_token)
        print(
            f"baseline warehouse (extract, dbt build, forward {baseline.sent:,} events): {time.monotonic() - t0:.1f}s"
        )

        prepare_manifest()  # the code location the daemon loads reads dbt's manifest; it never parses
        home = prepare_dagster_home(tmp / "dagster_home")
        env = dict(
            sandbox_environment(endpoints),
            DAGSTER_HOME=str(home),
            **{WAREHOUSE_ENV: str(db)},
            SIGNAL_TIKTOK_SYNC_CRON=NEVER,
            SIGNAL_APPSPRINT_SYNC_CRON=NEVER,
            SIGNAL_DAILY_REFRESH_CRON=NEVER,
        )
        # the daemon writes to its own copy of the log's file descriptor
        with open(tmp / "daemon.log", "w") as daemon_log:
            daemon = subprocess.Popen(
                [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", str(ROOT / "workspace.yaml")],
                cwd=ROOT,
                env=env,
                stdout=daemon_log,
                stderr=subprocess.STDOUT,
            )
        try:
            instance = DagsterInstance.from_config(str(home))
            appsprint = AppSprintFeed(endpoints, "events")
            installs = AppSprintFeed(endpoints, "installs")
            tiktok = TikTokReceived(endpoints)
            appsprint.new_rows()  # what is visible before the steps
            installs.new_rows()
            tiktok.poll(record=False)

            started = time.monotonic()
            while not runs(instance) or busy(instance):  # the sensor's first tick: one catch-up run
                if time.monotonic() - started > 600 or daemon.poll() is not None:
                    print(f"no catch-up run finished within 600s; daemon log: {tmp / 'daemon.log'}")
                    print((tmp / "daemon.log").read_text()[-3000:])
                    return 1
                time.sleep(1)
            first = runs(instance)[0]
            if first.dagster_run.status.value != "SUCCESS":
                print(
                    f"the catch-up run {first.dagster_run.run_id} failed: {failure_text(instance, first.dagster_run.run_id)}"
                )
                return 1
            print(
                f"daemon up and the sensor's catch-up run done after {time.monotonic() - started:.1f}s "
                f"(run {first.end_time - first.start_time:.1f}s)"
            )
            tiktok.poll(record=False)

            appeared: dict[str, float] = {}
            install_of: dict[str, str] = {}
            attributed_at: dict[str, float] = {}  # install -> when it was first seen TikTok-attributed
            for step in range(args.steps):
                endpoints.advance_clock(args.step_sandbox_seconds)
                at = time.time()
                rows = appsprint.new_rows()
                for row in rows:
                    appeared.setdefault(row["event_id"], at)
                    install_of[row["event_id"]] = row.get("appsprint_id") or ""
                changed = installs.new_rows()
                for row in changed:
                    if is_tiktok_attributed(row):
                        attributed_at.setdefault(row["appsprint_id"], at)
                print(
                    f"step {step + 1}/{args.steps}: +{args.step_sandbox_seconds / 3600:g}h sandbox time, "
                    f"{len(rows)} event rows and {len(changed)} install rows became visible"
                )
                deadline = time.monotonic() + args.step_seconds
                while time.monotonic() < deadline:
                    tiktok.poll()
                    time.sleep(args.poll)
            last_step = time.monotonic()
            drain_until = last_step + args.drain
            quiet_after = last_step + 2 * interval + 15  # two sensor intervals and a margin: the last tick has fired
            while time.monotonic() < drain_until:
                tiktok.poll()
                if time.monotonic() > quiet_after and not busy(instance):
                    break
                time.sleep(args.poll)
            tiktok.poll()
        finally:
            daemon.terminate()
            try:
                daemon.wait(30)
            except subprocess.TimeoutExpired:
                daemon.kill()

        measured = {
            e: tiktok.first_seen[e] - became_forwardable(e, appeared, install_of, attributed_at)
            for e in tiktok.first_seen
            if e in appeared
        }
        latencies = list(measured.values())
        waited_for_install = sum(1 for e in measured if tiktok.first_seen[e] - appeared[e] > measured[e] + 1e-6)
        late_attributed = sum(1 for e in tiktok.first_seen if e not in appeared)
        sensor_runs = runs(instance)[1:]
        print()
        print(
            f"event-to-TikTok latency, forwarding sensor every {interval} s ({len(appeared)} event rows appeared, "
            f"{len(latencies)} forwarded; {late_attributed} more forwarded that became eligible otherwise, e.g. by a late attribution of their install):"
        )
        if not latencies:
            print("  no event was forwarded during the steps: nothing to measure")
            return 1
        print(
            f"  measured from when each event became forwardable: it appeared, and its install was TikTok-attributed "
            f"({waited_for_install} appeared before their install's attribution)"
        )
        p95 = percentile(latencies, 0.95)
        print(
            f"  p50 {percentile(latencies, 0.5):6.1f} s   p95 {p95:6.1f} s   max {max(latencies):6.1f} s   "
            f"count {len(latencies)}   target p95 < {TARGET_P95_SECONDS:.0f} s: "
            f"{'met' if p95 < TARGET_P95_SECONDS else 'NOT met'} (ratio {p95 / TARGET_P95_SECONDS:.2f})"
        )
        for e in sorted(measured, key=lambda event: measured[event], reverse=True)[:3]:
            waited = "; its install was attributed during the steps" if install_of.get(e) in attributed_at else ""
            print(
                f"  slowest: {e} {measured[e]:.1f} s (appeared {tiktok.first_seen[e] - appeared[e]:.1f} s before it was "
                f"accepted{waited})"
            )
        done = [r for r in sensor_runs if r.start_time and r.end_time]
        if done:
            waits = [r.start_time - r.create_timestamp.timestamp() for r in done]
            durations = [r.end_time - r.start_time for r in done]
            statuses = dict(Counter(r.dagster_run.status.value for r in sensor_runs))
            print(
                f"  sensor runs: {len(sensor_runs)} {statuses}; queued->started median {statistics.median(waits):.1f} s "
                f"(max {max(waits):.1f}); run duration median {statistics.median(durations):.1f} s "
                f"(max {max(durations):.1f}); plus up to {interval} s until the sensor's next tick"
            )
            print("  where a run's time goes:")
            print_run_phases(instance, done)
        return 0


if __name__ == "__main__":
    sys.exit(main())
