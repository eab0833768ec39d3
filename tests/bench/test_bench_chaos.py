"""The chaos benchmark, a few trials: forwarders SIGKILLed under injected Events API faults lose
nothing, TikTok keeps every event once, a restart re-sends at most one batch, and an extraction
killed and run again equals a clean one. Runs the bench as a user does and reads its figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from sandbox.chaos import check_delivery, reset_events_api
from sandbox.synthetic_queue import synthetic_queue, write_queue_file
from signal_campaigns.forwarding import ForwarderConfig, forward_events
from tests.conftest import FIXED_ANCHOR

REPO = Path(__file__).resolve().parents[2]
EVENTS, BATCH = 200, 50


def figure(out: str, pattern: str) -> tuple[str, ...]:
    match = re.search(pattern, out, re.MULTILINE)
    assert match, f"no line matching {pattern!r} in:\n{out[-3000:]}"
    return match.groups()


def test_four_trials_lose_nothing_and_extraction_equals_a_clean_run():
    cmd = [sys.executable, "-m", "bench.bench_chaos", "--trials", "4", "--extraction-trials", "1"]
    cmd += ["--events", str(EVENTS), "--batch-size", str(BATCH), "--seed", "5"]
    done = subprocess.run(cmd, check=False, cwd=REPO, capture_output=True, text=True, timeout=120)
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]

    assert len(re.findall(r"^trial \d/4: ", out, re.MULTILINE)) == 4  # progress, trial by trial
    assert figure(out, r"^trials: (\d+) \((\d+) forwarding, (\d+) extraction\)$") == ("4", "3", "1")
    (kills,) = figure(out, r"^kills: (\d+) ")
    assert int(kills) >= 1
    assert figure(out, r"^events checked: (\d+)$") == (str(3 * EVENTS),)
    assert figure(out, r"^lost: (\d+) \(target 0\) (\w+)") == ("0", "PASS")
    assert figure(out, r"^duplicates after TikTok's dedup: (\d+) \(target 0\) (\w+)$") == ("0", "PASS")
    resent, batch, verdict = figure(
        out, r"^largest re-send after one restart: (\d+) events, batch size (\d+) .* (\w+)$"
    )
    assert int(resent) <= int(batch) == BATCH and verdict == "PASS"
    assert figure(out, r"^ledgers inconsistent .*: (\d+) \(target 0\) (\w+)$") == ("0", "PASS")
    assert figure(out, r"^forwarding trials whose last run did not end .*: (\d+) \(target 0\) (\w+)$") == ("0", "PASS")
    assert figure(out, r"^extraction equal to a clean run: (\d+)/(\d+) .* (\w+)$") == ("1", "1", "PASS")
    (per_trial,) = figure(out, r"^seconds per trial: forwarding ([\d.]+), ")
    assert float(per_trial) > 0
    assert figure(out, r"projected for 1,000 trials: ([\d.]+) min$")
    assert figure(out, r"^outcome: (\w+)$") == ("PASS",)


def test_the_delivery_check_sees_lost_and_resent_events(sandbox, tiny_world, tmp_path):
    """The bench's instrument (sandbox/chaos.py) is not blind: events TikTok no longer holds are
    lost, a second delivery of the same events is a re-send TikTok dropped, not a duplicate."""
    pixels = sorted(tiny_world.notes["pixel_codes"].values())
    rows = synthetic_queue(120, pixels, FIXED_ANCHOR)
    ids = rows["event_id"].to_pylist()
    token = sandbox.credentials.events_api_token

    def forward(name: str) -> Path:
        path = tmp_path / name
        write_queue_file(path, rows)
        forward_events(path, base_url=sandbox.tiktok_url, token=token, config=ForwarderConfig(batch_size=50))
        return path

    first = forward("first.duckdb")
    check = check_delivery(first, sandbox, ids)
    assert check.exactly_once and (check.lost, check.duplicates, check.resent) == (0, 0, 0)

    second = forward("second.duckdb")  # the same events again, from a ledger that never sent them
    check = check_delivery(second, sandbox, ids)
    assert (check.lost, check.duplicates, check.resent) == (0, 0, 120) and check.exactly_once

    check = check_delivery(second, sandbox, [*ids, "evt_never_sent"])
    assert check.lost == 1 and not check.exactly_once

    reset_events_api(sandbox)  # TikTok forgets them: every event lost
    check = check_delivery(first, sandbox, ids)
    assert check.lost == 120 and check.ledger_consistent and not check.exactly_once
