"""The benchmarks never rot: `bench/run.py --quick` runs end to end and ends with the headline JSON line."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
HEADLINE = {
    "stitch_vs_pydub", "stitch_vs_copy", "stitch_peak_rss_mb", "seams_vs_pydub", "seams_peak_rss_mb",
    "makespan_vs_ideal", "orchestrator_cpu_s_per_1000", "commits_per_chunk", "requests_per_chunk", "peak_rss_mb",
    "orchestrator_vs_floor", "runsync_cpu_s_per_1000", "runsync_vs_floor", "seams_vs_plain_mp3", "m4b_vs_plain_aac_cpu",
}  # fmt: skip


@pytest.mark.slow
def test_quick_bench_runs_and_reports_every_headline_figure() -> None:
    result = subprocess.run([sys.executable, str(REPO / "bench" / "run.py"), "--quick"], capture_output=True,
                            text=True, timeout=600, cwd=REPO)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    headline = json.loads(lines[-1])
    assert set(headline) >= HEADLINE
    for key in HEADLINE:
        assert isinstance(headline[key], int | float) and math.isfinite(headline[key]) and headline[key] > 0, key
    assert "## Stitching" in result.stdout and "## Orchestration" in result.stdout and "## M4B" in result.stdout
    assert headline["requests_per_chunk"] < 1.5  # runsync: one request per chunk when nothing fails
