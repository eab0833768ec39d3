"""Chaos benchmark: SIGKILLs at random moments and injected Events API faults while forwarding, and
kills during the AppSprint extraction; N trials (default 1,000).

    .venv/bin/python -m bench.bench_chaos [--trials 1000] [--extraction-trials N] [--seed 1]

A forwarding trial (bench/chaos_trials.py): a copy of a prepared warehouse file holding a small
queue (default 400 events, batches of 50) is forwarded to the sandbox TikTok Events API (its own
process, kept running across trials, its event store emptied per trial). A random fault is armed
on ``event/track`` (5xxxx codes, nginx HTML 5xx pages, timeouts, 40100 rate limits, 20001 partial
answers, slow replies; for 1 to 3 answers); the forwarder starts, as its command line (every 4th
trial) or as the function the Dagster asset calls in a child process, and is SIGKILLed at a
moment drawn uniformly in a clean run's duration; its answers come through a proxy that holds
them ``--latency`` seconds (bench/latency_proxy.py); another fault is armed and it runs again until done
(a run that stops with exit code 3 is run again, as a schedule would). Then what TikTok kept
after its ``event_id`` dedup and the delivery ledger are checked.

An extraction trial: the product's AppSprint dlt pipeline (tiny world) is SIGKILLed at a moment
drawn uniformly in a clean run's duration, run again to the end, and its raw tables are compared
with a clean run's.

Prints progress per trial and: trials, kills, events checked, lost, duplicates after TikTok's
dedup, the largest re-send after one restart against the batch size, ledger consistency and
extraction equality; targets beside them (0 lost, 0 duplicates, re-sends never above one batch,
every extraction equal). Exits 1 when a target is missed. See docs/decisions/0011-hostile-input.md.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench.chaos_trials import (
    REPLAYED,
    ExtractionTrial,
    ForwardingSetup,
    ForwardingTrial,
    calibrate_forwarding,
    extraction_trial,
    fork_server,
    forwarding_trial,
    raw_tables,
    run_extraction,
)
from bench.latency_proxy import LatencyProxy

SEED = 7
SCALE = "tiny"
ANCHOR = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)  # fixed: the sandbox clock never moves
RECALIBRATE = 25  # trials between two timed clean runs


@contextlib.contextmanager
def stderr_of_children_to(path: Path) -> Iterator[None]:
    """Processes started inside write their stderr to ``path`` (the sandbox servers log each
    request a killed forwarder left unfinished)."""
    saved = os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


class Totals:
    """Running totals over the trials."""

    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size
        self.forwarding: list[ForwardingTrial] = []
        self.extraction: list[ExtractionTrial] = []

    def add(self, trial: ForwardingTrial | ExtractionTrial) -> None:
        if isinstance(trial, ForwardingTrial):
            self.forwarding.append(trial)
        else:
            self.extraction.append(trial)

    @property
    def kills(self) -> int:
        return sum(t.killed for t in self.forwarding) + sum(t.killed for t in self.extraction)

    def sum(self, field: str) -> int:
        return sum(getattr(t.check, field) for t in self.forwarding)

    @property
    def max_resend(self) -> int:
        return max((t.check.resent for t in self.forwarding if t.killed), default=0)

    @property
    def resending_restarts(self) -> int:
        return sum(t.killed and t.check.resent > 0 for t in self.forwarding)

    @property
    def resend_without_kill(self) -> int:
        return sum(t.check.resent for t in self.forwarding if not t.killed)

    @property
    def unfinished(self) -> int:
        return sum(t.exit_code != 0 for t in self.forwarding)

    @property
    def inconsistent_ledgers(self) -> int:
        return sum(not t.check.ledger_consistent for t in self.forwarding)

    @property
    def equal(self) -> int:
        return sum(t.equal for t in self.extraction)

    def per_trial(self, trials: list) -> float:
        return sum(t.seconds for t in trials) / len(trials) if trials else 0.0

    def line(self) -> str:
        return (
            f"kills {self.kills}, events {self.sum('expected'):,}, lost {self.sum('lost')}, "
            f"duplicates {self.sum('duplicates')}, max re-send {self.max_resend}/{self.batch_size}, "
            f"extraction equal {self.equal}/{len(self.extraction)}"
        )


def describe(trial: ForwardingTrial | ExtractionTrial) -> str:
    kill = f"killed at {trial.kill_at:.2f}s" if trial.killed else f"ended before {trial.kill_at:.2f}s"
    if isinstance(trial, ExtractionTrial):
        outcome = "equal" if trial.equal else f"DIFFERENT: {', '.join(trial.differences)}"
        resumed = ", the rerun loaded its pending package" if trial.resumed else ""
        if trial.replayed:
            resumed += f" ({trial.replayed} raw rows stored twice by a re-run load job)"
        return f"extraction, {kill}{resumed}: {outcome} ({trial.seconds:.1f}s)"
    c = trial.check
    return (
        f"forwarding ({trial.runner}), {kill}, faults {' / '.join(trial.faults)}, {trial.runs} runs: "
        f"lost {c.lost}, duplicates {c.duplicates}, re-sent {c.resent}"
        f"{'' if c.ledger_consistent else ', LEDGER INCONSISTENT'}"
        f"{'' if trial.exit_code == 0 else f', LAST RUN ENDED WITH EXIT CODE {trial.exit_code}'} ({trial.seconds:.1f}s)"
    )


def report(totals: Totals, trials: int, elapsed: float, projected_for: int) -> bool:
    fw, ex = totals.forwarding, totals.extraction
    lost, dups, extra = totals.sum("lost"), totals.sum("duplicates"), totals.sum("extra")
    max_resend, batch = totals.max_resend, totals.batch_size
    ok = {
        "lost": lost == 0 and extra == 0,
        "dups": dups == 0,
        "resend": max_resend <= batch and totals.resend_without_kill == 0,
        "ledger": totals.inconsistent_ledgers == 0,
        "ended": totals.unfinished == 0,
        "extraction": totals.equal == len(ex),
    }
    fw_s, ex_s = totals.per_trial(fw), totals.per_trial(ex)
    share = len(ex) / trials if trials else 0.0
    projected = projected_for * ((1 - share) * fw_s + share * ex_s)
    fw_kills = sum(t.killed for t in fw)
    print()
    print(f"trials: {trials} ({len(fw)} forwarding, {len(ex)} extraction)")
    print(f"kills: {totals.kills} ({fw_kills} forwarding, {sum(t.killed for t in ex)} extraction)")
    print(f"events checked: {totals.sum('expected')}")
    print(f"lost: {lost} (target 0) {verdict(ok['lost'])}" + (f"  [{extra} unexpected events kept]" if extra else ""))
    print(f"duplicates after TikTok's dedup: {dups} (target 0) {verdict(ok['dups'])}")
    print(
        f"largest re-send after one restart: {max_resend} events, batch size {batch} "
        f"(target <= {batch}) {verdict(ok['resend'])}"
        + (f"  [{totals.resend_without_kill} re-sent without a kill]" if totals.resend_without_kill else "")
    )
    print(f"restarts that re-sent events (a kill after TikTok took a batch): {totals.resending_restarts} of {fw_kills}")
    print(
        f"ledgers inconsistent (not all sent, journal unfolded or stale): {totals.inconsistent_ledgers} "
        f"(target 0) {verdict(ok['ledger'])}"
    )
    print(
        f"forwarding trials whose last run did not end with exit code 0: {totals.unfinished} "
        f"(target 0) {verdict(ok['ended'])}"
    )
    print(f"extraction equal to a clean run: {totals.equal}/{len(ex)} (target {len(ex)}) {verdict(ok['extraction'])}")
    print(
        f"extraction reruns that loaded the killed run's pending load package: {sum(t.resumed for t in ex)} "
        f"of {sum(t.killed for t in ex)} kills"
    )
    print(
        f"raw rows a re-run load job stored a second time (same load id; staging drops them): "
        f"{sum(t.replayed for t in ex)} in {sum(t.replayed > 0 for t in ex)} trials"
    )
    print(
        f"seconds per trial: forwarding {fw_s:.2f}, extraction {ex_s:.2f}; wall {elapsed:.0f}s; "
        f"projected for {projected_for:,} trials: {projected / 60:.1f} min"
    )
    print(f"outcome: {verdict(all(ok.values()))}")
    return all(ok.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000, help="trials in all (forwarding + extraction)")
    parser.add_argument(
        "--extraction-trials", type=int, default=None, help="how many of them are extraction trials (default: 1 in 10)"
    )
    parser.add_argument("--events", type=int, default=400, help="events in a forwarding trial's queue")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument(
        "--latency", type=float, default=0.03, help="seconds each Events API answer takes back to the forwarder"
    )
    parser.add_argument(
        "--cli-every",
        type=int,
        default=4,
        help="every Nth forwarding trial runs the command line, the others the function in a child (0: never)",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    n_ex = args.extraction_trials if args.extraction_trials is not None else max(1, args.trials // 10)
    n_ex = min(n_ex, args.trials)
    n_fw = args.trials - n_ex
    runners = ["function"] * (args.cli_every - 1 if args.cli_every > 0 else 1) + ["cli"] * (args.cli_every > 0)

    from sandbox.runner import load_world, sandbox_processes
    from sandbox.synthetic_queue import synthetic_queue, write_queue_file

    rng = random.Random(args.seed)
    # the extraction trials spread evenly among the forwarding ones
    kinds = ["forwarding"] * n_fw
    for k in range(n_ex):
        kinds.insert(round((k + 1) * args.trials / n_ex) - 1, "extraction")
    pixels = sorted(load_world(SEED, SCALE, ANCHOR).notes["pixel_codes"].values())
    rows = synthetic_queue(args.events, pixels, ANCHOR, seed=args.seed)
    totals = Totals(args.batch_size)
    ctx = fork_server()
    work = Path(tempfile.mkdtemp(prefix="bench_chaos_"))
    started = time.perf_counter()
    try:
        with contextlib.ExitStack() as stack:
            with stderr_of_children_to(work / "sandbox.log"):
                ep = stack.enter_context(sandbox_processes(SEED, SCALE, ANCHOR, marketing_qps=None))
            proxy = stack.enter_context(LatencyProxy(ep.tiktok_url, args.latency))
            prepared = work / "prepared.duckdb"
            write_queue_file(prepared, rows)
            ids = rows["event_id"].to_pylist()
            via_proxy = dataclasses.replace(ep, tiktok_url=proxy.url)
            setup = ForwardingSetup(ep, ctx, prepared, ids, args.batch_size, args.latency, via_proxy)
            clean: dict[str, list[tuple]] = {}

            def calibrate() -> None:
                """Clean runs timed (at the start and every RECALIBRATE trials): kill moments follow the load."""
                if n_fw:
                    seconds = {runner: calibrate_forwarding(setup, runner, work) for runner in sorted(set(runners))}
                    timed = ", ".join(f"{r} {s:.2f}s" for r, s in seconds.items())
                    print(f"a clean forwarding run of {args.events} events in batches of {args.batch_size}: {timed}")
                if n_ex:
                    shutil.rmtree(work / "clean", ignore_errors=True)
                    t0 = time.perf_counter()
                    code, _ = run_extraction(ctx, ep, work / "clean")
                    setup.durations.record("extraction", time.perf_counter() - t0)
                    if code != 0:
                        raise RuntimeError(f"the clean extraction ended with exit code {code}: {work / 'clean'}")
                    tables = raw_tables(work / "clean" / "warehouse.duckdb")
                    if clean and tables != clean:
                        raise RuntimeError(
                            "two clean extractions differ: an equality with one of them would mean nothing"
                        )
                    clean.update(tables)
                    sizes = ", ".join(f"{t} {len(r)}" for t, r in clean.items() if t != REPLAYED)
                    print(f"a clean AppSprint extraction: {time.perf_counter() - t0:.2f}s ({sizes})")

            for k, kind in enumerate(kinds, start=1):
                if k % RECALIBRATE == 1:
                    calibrate()
                trial_dir = work / f"trial_{k:05d}"
                trial_dir.mkdir()
                trial: ForwardingTrial | ExtractionTrial
                if kind == "forwarding":
                    trial = forwarding_trial(setup, runners[len(totals.forwarding) % len(runners)], trial_dir, rng)
                    keep = not trial.check.exactly_once or trial.check.resent > args.batch_size or trial.exit_code != 0
                else:
                    expected = setup.durations.expected("extraction")
                    trial = extraction_trial(ctx, ep, trial_dir, clean, expected, rng)
                    keep = not trial.equal
                totals.add(trial)
                print(f"trial {k}/{args.trials}: {describe(trial)} | {totals.line()}", flush=True)
                if keep:
                    print(f"  kept for inspection: {trial_dir}", flush=True)
                else:
                    shutil.rmtree(trial_dir, ignore_errors=True)
        ok = report(totals, args.trials, time.perf_counter() - started, 1000)
    finally:
        if not any(p.name.startswith("trial_") for p in work.iterdir()):
            shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
