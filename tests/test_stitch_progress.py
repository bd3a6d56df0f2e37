"""The final join reports a percentage and an ETA: in headless stderr, in the `stitch` command, for the dashboard."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from tests.test_cli import tui_tts
from tui_tts.events import LogEmitted, StitchProgressed
from tui_tts.run.stitch_progress import StitchPace, StitchPrinter, stitch_text

TEXT = "One sentence here. Another sentence there. " * 12


def test_the_eta_follows_the_pace_of_the_join() -> None:
    now = [100.0]
    pace = StitchPace(clock=lambda: now[0])
    assert pace.eta(0.0, 1000.0) is None  # no pace yet
    now[0] = 110.0
    assert pace.eta(100.0, 1000.0) == 90.0  # 100 s of audio in 10 s: 900 s left take 90 s
    now[0] = 120.0
    assert pace.eta(400.0, 1000.0) == 30.0
    assert pace.eta(1000.0, 1000.0) == 0.0
    now[0] = 130.0
    assert pace.eta(0.0, 50.0) is None  # a new join (the next part) starts its own pace


def test_the_text_says_the_percentage_and_the_eta() -> None:
    assert stitch_text(StitchProgressed(250.0, 1000.0, 75.0)) == "stitching  25.0%, ETA 01:15"
    assert stitch_text(StitchProgressed(0.0, 1000.0)) == "stitching   0.0%, ETA --:--"
    assert stitch_text(StitchProgressed(10.0, 10_000.0, 3725.0)).endswith("ETA 1:02:05")


def test_the_printer_shows_progress_and_log_lines() -> None:
    stream = io.StringIO()
    printer = StitchPrinter(stream, interval=0.0)
    printer(LogEmitted("info", "stitching 3 chunks into x.m4b"))
    printer(StitchProgressed(5.0, 10.0, 4.0))
    printer(StitchProgressed(10.0, 10.0, 0.0))
    printer.finish()
    lines = stream.getvalue().splitlines()
    assert lines[0].endswith("stitching 3 chunks into x.m4b")
    assert lines[1].endswith("stitching  50.0%, ETA 00:04") and lines[2].endswith("stitching 100.0%, ETA 00:00")


@pytest.mark.slow
def test_the_stitch_command_is_not_silent(tmp_path: Path) -> None:
    book = tmp_path / "b.txt"
    book.write_text(TEXT, encoding="utf-8")
    data = str(tmp_path / "d")
    assert tui_tts("run", str(book), "--data-dir", data, "--max-chars", "100").returncode == 0
    result = tui_tts("stitch", "last", "-o", str(tmp_path / "again.m4b"), "--data-dir", data)
    assert result.returncode == 0, result.stderr
    assert re.search(r"stitching +\d+\.\d%, ETA (--:--|\d\d:\d\d)", result.stderr), result.stderr
    assert "stitching 100.0%, ETA 00:00" in result.stderr
