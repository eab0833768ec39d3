"""The trials of the chaos benchmark (``bench/bench_chaos.py``): one forwarding trial and one
extraction trial, each in processes of their own that are SIGKILLed at a random moment.

Processes: the forwarder runs either as its command line (``python -m signal_campaigns.forwarding``)
or as the function the Dagster asset calls (:func:`~signal_campaigns.forwarding.forward_events`)
in a child of a fork server that imported the forwarder and dlt once, so a child starts in
milliseconds; the AppSprint extraction (the product's dlt pipeline) runs in such a child too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import multiprocessing
import multiprocessing.context
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import duckdb

from sandbox.chaos import (
    DeliveryCheck,
    arm_events_fault,
    check_delivery,
    disarm_faults,
    reset_events_api,
    sigkill,
    start_forwarder,
)
from sandbox.runner import SandboxEndpoints

CLIENT_TIMEOUT = 1.0  # the forwarder's HTTP timeout, seconds
MAX_ATTEMPTS = 8  # the forwarder's retry budget per batch (faults are armed for at most 3 answers)
# Events API faults armed on event/track (sandbox/control.py's kinds): none of them stores a request
# twice, so every repeat TikTok sees is a re-send after a restart
FAULTS: dict[str, dict[str, Any]] = {
    "none": {},
    "code 50000": {"kind": "code", "code": 50000},
    "code 50002": {"kind": "code", "code": 50002},
    "HTTP 502 page": {"kind": "http", "status": 502},
    "HTTP 503 page": {"kind": "http", "status": 503},
    "timeout": {"kind": "timeout", "seconds": CLIENT_TIMEOUT + 0.1},
    "40100 rate limit": {"kind": "code", "code": 40100},
    "20001 partial": {"kind": "code", "code": 20001},
    "slow reply": {"kind": "delay", "seconds": 0.2},
}
# a request the killed process sent may still be held by a slow reply, then stored: waited out
# before checking (a timeout fault answers 504 and stores nothing)
DRAIN_S = {"slow reply": 0.3}
RESUMED = "a load package of an earlier run is pending"
VOLATILE_COLUMNS = {"quarantined_at"}  # when a row was quarantined: differs from run to run


def fork_server() -> multiprocessing.context.ForkServerContext:
    """A fork server that has imported the forwarder and the extraction once (started here, so
    that no trial pays its start-up)."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["bench.chaos_trials", "signal_campaigns.pipeline", "dlt_sources.appsprint"])
    warm = ctx.Process(target=time.sleep, args=(0,))
    warm.start()
    warm.join()
    return ctx


class Child:
    """A process under test: a command line (``subprocess.Popen``) or a fork-server child."""

    def __init__(self, proc: subprocess.Popen | multiprocessing.process.BaseProcess) -> None:
        self.proc = proc

    @property
    def pid(self) -> int:
        pid = self.proc.pid
        assert pid is not None
        return pid

    def wait(self, timeout: float | None) -> int | None:
        """The exit code, or None when still running after ``timeout`` seconds."""
        if isinstance(self.proc, subprocess.Popen):
            with contextlib.suppress(subprocess.TimeoutExpired):
                return self.proc.wait(timeout=timeout)
            return None
        self.proc.join(timeout)
        return self.proc.exitcode

    def kill_at(self, moment: float) -> bool:
        """SIGKILL ``moment`` seconds after the start unless it ended before; True when killed."""
        if self.wait(moment) is not None:
            return False
        killed = sigkill(self.pid)
        self.wait(60)
        return killed


# --- the children ------------------------------------------------------------------------------------
def _log_to(log_path: str) -> None:
    """The child's log and its stdout/stderr (dlt's warnings) go to ``log_path``."""
    with open(log_path, "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )


def forward_child(warehouse: str, base_url: str, token: str, batch_size: int, log_path: str) -> None:
    """What the Dagster asset runs; exits with the command line's documented codes (0, 2, 3)."""
    from signal_campaigns.forwarding import ForwarderConfig, RetryPolicy, forward_events
    from signal_campaigns.tiktok.events_api import EventsApiAuthError, ForwardingError

    _log_to(log_path)
    retry = RetryPolicy(max_attempts=MAX_ATTEMPTS, base_delay=0.01)
    try:
        forward_events(
            warehouse,
            base_url=base_url,
            token=token,
            config=ForwarderConfig(batch_size=batch_size),
            retry=retry,
            timeout=CLIENT_TIMEOUT,
        )
    except ForwardingError as exc:
        logging.getLogger("bench.chaos").error(f"stopped: {exc}")
        sys.exit(2 if isinstance(exc, EventsApiAuthError) else 3)


def extract_child(warehouse: str, pipelines_dir: str, api_url: str, app_id: str, token: str, log_path: str) -> None:
    """The product's AppSprint pipeline into ``warehouse`` (what ``signal_campaigns.pipeline.extract`` runs)."""
    from dlt_sources.appsprint import appsprint
    from signal_campaigns.pipeline import warehouse_pipeline
    from signal_campaigns.warehouse import duckdb_destination

    _log_to(log_path)
    pipeline = warehouse_pipeline("appsprint", duckdb_destination(Path(warehouse)), Path(pipelines_dir))
    if pipeline.has_pending_data:  # dlt loads it first, and extracts nothing new in this run
        logging.getLogger("bench.chaos").info(RESUMED)
    try:
        pipeline.run(appsprint(base_url=api_url, app_id=app_id, export_token=token))
    except Exception:
        logging.getLogger("bench.chaos").error(traceback.format_exc())
        sys.exit(1)


# --- forwarding trials ---------------------------------------------------------------------------------
class Durations:
    """How long a clean run takes, per kind of run: the median of the last few clean runs (the
    machine's load changes during a long benchmark; the kill moments follow it)."""

    def __init__(self, keep: int = 5) -> None:
        self.keep = keep
        self.seen: dict[str, list[float]] = {}

    def record(self, kind: str, seconds: float) -> None:
        runs = self.seen.setdefault(kind, [])
        runs.append(seconds)
        del runs[: -self.keep]

    def expected(self, kind: str) -> float:
        return statistics.median(self.seen[kind])


@dataclasses.dataclass
class ForwardingSetup:
    ep: SandboxEndpoints
    ctx: multiprocessing.context.ForkServerContext
    prepared: Path  # a warehouse file holding the queue, copied for each trial
    event_ids: list[str]
    batch_size: int
    latency: float  # seconds each answer is held on its way to the forwarder (bench/latency_proxy.py)
    forwarder_ep: SandboxEndpoints  # the sandbox as the forwarder reaches it: through the latency proxy
    durations: Durations = dataclasses.field(default_factory=Durations)


@dataclasses.dataclass
class ForwardingTrial:
    runner: str
    faults: list[str]
    kill_at: float
    killed: bool
    runs: int  # processes started (the killed one included)
    stops: int  # runs that stopped with exit code 3 (retry budget spent) and were run again
    check: DeliveryCheck
    seconds: float
    log: Path
    exit_code: int | None  # of the last run (0: it ended; anything else fails the trial)


def start_forwarding(setup: ForwardingSetup, runner: str, warehouse: Path, log: Path) -> Child:
    if runner == "cli":
        with open(log, "ab") as out:  # the child keeps its own copy of the descriptor
            options = ["--batch-size", str(setup.batch_size), "--timeout", str(CLIENT_TIMEOUT)]
            return Child(start_forwarder(warehouse, setup.forwarder_ep, *options, stdout=out, stderr=out))
    ep = setup.forwarder_ep
    args = (str(warehouse), ep.tiktok_url, ep.credentials.events_api_token, setup.batch_size, str(log))
    proc = setup.ctx.Process(target=forward_child, args=args)
    proc.start()
    return Child(proc)


def arm_faults(setup: ForwardingSetup, rng: random.Random) -> str:
    """Arm a random fault for the next 1 to 3 answers; the fault's name."""
    disarm_faults(setup.ep)
    name = rng.choice(list(FAULTS))
    if FAULTS[name]:
        count = 1 if name == "timeout" else rng.randint(1, 3)  # a timeout costs CLIENT_TIMEOUT: once
        arm_events_fault(setup.ep, count=count, **FAULTS[name])
        name = f"{name} x{count}"
    return name


def forwarding_trial(setup: ForwardingSetup, runner: str, work: Path, rng: random.Random) -> ForwardingTrial:
    """Kill one forwarding run at a moment drawn uniformly in a clean run's duration, faults armed
    before it and before the restart; then run until done and check what TikTok and the ledger hold."""
    started = time.perf_counter()
    reset_events_api(setup.ep)
    warehouse = work / "warehouse.duckdb"
    shutil.copyfile(setup.prepared, warehouse)
    log = work / "forwarder.log"
    faults = [arm_faults(setup, rng)]
    kill_at = rng.uniform(0.0, setup.durations.expected(runner))
    killed = start_forwarding(setup, runner, warehouse, log).kill_at(kill_at)
    faults.append(arm_faults(setup, rng))
    runs, stops = 1, 0
    while True:
        runs += 1
        child = start_forwarding(setup, runner, warehouse, log)
        code = child.wait(300)
        if code is None:  # hung: a failed trial
            sigkill(child.pid)
        elif code == 3 and stops < 3:  # documented: stopped, events pending; the next run goes on
            stops += 1
            continue
        break
    if killed:
        time.sleep(setup.latency + max(DRAIN_S.get(name.split(" x")[0], 0.05) for name in faults))
    try:
        check = check_delivery(warehouse, setup.ep, setup.event_ids)
    except duckdb.Error:  # no ledger at all: nothing can be shown delivered
        check = DeliveryCheck(len(setup.event_ids), 0, len(setup.event_ids), 0, 0, 0, {}, 0, 0, 0)
    seconds = time.perf_counter() - started
    return ForwardingTrial(runner, faults, kill_at, killed, runs, stops, check, seconds, log, code)


def calibrate_forwarding(setup: ForwardingSetup, runner: str, work: Path) -> float:
    """Seconds of one clean run with this runner, start-up included (recorded in ``setup.durations``)."""
    reset_events_api(setup.ep)
    warehouse = work / f"calibrate_{runner}.duckdb"
    shutil.copyfile(setup.prepared, warehouse)
    started = time.perf_counter()
    code = start_forwarding(setup, runner, warehouse, work / f"calibrate_{runner}.log").wait(300)
    seconds = time.perf_counter() - started
    if code != 0:
        raise RuntimeError(f"the clean {runner} forwarding run ended with exit code {code}")
    check = check_delivery(warehouse, setup.ep, setup.event_ids)
    if not check.exactly_once:
        raise RuntimeError(f"the clean {runner} forwarding run did not deliver exactly once: {check}")
    setup.durations.record(runner, seconds)
    return seconds


# --- extraction trials -----------------------------------------------------------------------------------
@dataclasses.dataclass
class ExtractionTrial:
    kill_at: float
    killed: bool
    equal: bool
    differences: list[str]  # tables that differ from the clean run's
    seconds: float
    resumed: bool  # the rerun found the killed run's load package and loaded it
    replayed: int = 0  # raw rows a re-run load job stored a second time (staging drops them)


def run_extraction(
    ctx: multiprocessing.context.ForkServerContext, ep: SandboxEndpoints, work: Path, kill_at: float | None = None
) -> tuple[int | None, bool]:
    """One AppSprint extraction into ``work``; SIGKILLed at ``kill_at`` seconds if given.
    (exit code or None when killed, killed)."""
    work.mkdir(parents=True, exist_ok=True)
    creds = ep.credentials
    args = (
        str(work / "warehouse.duckdb"),
        str(work / "pipelines"),
        ep.appsprint_api_url,
        creds.appsprint_app_id,
        creds.appsprint_export_token,
        str(work / "extract.log"),
    )
    proc = ctx.Process(target=extract_child, args=args)
    proc.start()
    child = Child(proc)
    if kill_at is not None and child.kill_at(kill_at):
        return None, True
    return child.wait(600), False


def raw_tables(warehouse: Path) -> dict[str, list[tuple]]:
    """Every row of the raw AppSprint tables (dlt's own columns and volatile ones left out), sorted.

    A row stored twice with the same ``_dlt_load_id`` counts once: dlt runs a load job again when a
    kill landed between DuckDB's commit of its rows and dlt's record that the job completed, and an
    append table (events, quarantine) then holds that job's rows twice; staging drops such copies.
    Their number is in the ``REPLAYED`` entry (:func:`replayed_rows`)."""
    out: dict[str, list[tuple]] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'appsprint' ORDER BY 1"
        ).fetchall()
        for (table,) in tables:
            if table.startswith("_dlt"):
                continue
            cols = [
                f'"{name}"'
                for name, *_ in con.execute(f'DESCRIBE appsprint."{table}"').fetchall()
                if not name.startswith("_dlt") and name not in VOLATILE_COLUMNS
            ]
            rows = f'(SELECT DISTINCT * FROM appsprint."{table}")'
            out[table] = con.execute(f"SELECT {', '.join(cols)} FROM {rows} ORDER BY ALL").fetchall()
            counted = con.execute(f'SELECT (SELECT count(*) FROM appsprint."{table}") - (SELECT count(*) FROM {rows})')
            out[REPLAYED] = [*out.get(REPLAYED, []), (table, (counted.fetchone() or (0,))[0])]
    return out


REPLAYED = "(rows of a load job stored twice)"


def replayed_rows(tables: dict[str, list[tuple]]) -> int:
    """How many raw rows a re-run load job stored a second time (see :func:`raw_tables`)."""
    return sum(n for _, n in tables.get(REPLAYED, []))


def extraction_trial(
    ctx: multiprocessing.context.ForkServerContext,
    ep: SandboxEndpoints,
    work: Path,
    clean: dict[str, list[tuple]],
    expected_s: float,
    rng: random.Random,
) -> ExtractionTrial:
    """Kill one extraction at a moment drawn uniformly in a clean run's duration, rerun it to the
    end and compare its raw tables with the clean run's."""
    started = time.perf_counter()
    kill_at = rng.uniform(0.0, expected_s)
    _, killed = run_extraction(ctx, ep, work, kill_at)
    code, _ = run_extraction(ctx, ep, work)
    replayed = 0
    if code != 0:
        differences = [f"the rerun ended with exit code {code} (log: {work / 'extract.log'})"]
    else:
        got = raw_tables(work / "warehouse.duckdb")
        replayed = replayed_rows(got)
        differences = sorted(t for t in (clean.keys() | got.keys()) - {REPLAYED} if got.get(t) != clean.get(t))
    resumed = RESUMED in (work / "extract.log").read_text(errors="replace")
    seconds = time.perf_counter() - started
    return ExtractionTrial(kill_at, killed, not differences, differences, seconds, resumed, replayed)
