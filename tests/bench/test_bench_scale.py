"""The scale benchmark at its smallest size, run as a user runs it: every stage has its figures
(seconds, seconds per million events, peak memory of its own process), the targets are printed
beside them, progress shows stage by stage, and the chart is written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STAGES = ("generate", "extract", "full-build", "incremental", "forward")


def run_bench(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "bench.bench_scale", *args]
    return subprocess.run(cmd, check=False, cwd=REPO, capture_output=True, text=True, timeout=180)


def test_smallest_size_end_to_end(tmp_path):
    chart = tmp_path / "charts" / "scale.png"
    done = run_bench("--sizes", "3k", "--chart", str(chart), "--workdir", str(tmp_path / "work"))
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]

    rows = {
        m["stage"]: m
        for m in re.finditer(
            r"^\s+3k\s+(?P<stage>[a-z-]+)\s+(?P<events>[\d,]+)\s+(?P<s>[\d.]+)\s+(?P<per>[\d.]+)\s+(?P<rss>[\d,]+)"
            r"\s+(?P<targets>.+)$",
            out,
            re.MULTILINE,
        )
    }
    assert sorted(rows) == sorted(STAGES), out
    for stage, m in rows.items():
        seconds, per_1m, rss = float(m["s"]), float(m["per"]), int(m["rss"].replace(",", ""))
        events = int(m["events"].replace(",", ""))
        assert seconds > 0 and rss > 50, (stage, m.group(0))  # a real process, measured
        millions = events / 1e6  # the seconds are printed rounded to 0.01
        assert abs(per_1m - seconds / millions) <= 0.006 / millions + 0.01, m.group(0)
        assert re.search(r"RSS<6GB (OK|MISS)", m["targets"]), m.group(0)
    assert re.search(r"of full \(<5%\) (OK|MISS)", rows["incremental"]["targets"])
    assert re.search(r"ev/s \(>=50,000\) (OK|MISS)", rows["forward"]["targets"])

    for stage in STAGES:  # watchable: each stage announced when it starts and when it ends
        assert re.search(rf"^\[\d\d:\d\d:\d\d\] 3k {stage}: started$", out, re.MULTILINE), stage
        assert re.search(rf"^\[\d\d:\d\d:\d\d\] 3k {stage}: done in ", out, re.MULTILINE), stage
    assert re.search(r"^Scale benchmark \d{4}-\d\d-\d\dT.*load average before [\d.]+ ", out, re.MULTILINE)
    assert re.search(r"^load average after [\d.]+ ", out, re.MULTILINE)
    assert f"chart: {chart}" in out
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list((tmp_path / "work").iterdir()) == []  # temporary files removed


def test_unknown_size_is_refused_by_name():
    done = run_bench("--sizes", "3k,7m")
    assert done.returncode != 0
    assert "unknown size(s) ['7m']" in done.stderr and "100m" in done.stderr
