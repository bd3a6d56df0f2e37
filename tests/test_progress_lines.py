"""The headless progress printer: adaptive limit changes are summarised, a person's changes are printed at once."""

from __future__ import annotations

import io

from tui_tts.events import LimitChanged, LogEmitted
from tui_tts.run.progress import HeadlessProgress, RunStats


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_adaptive_limit_changes_make_at_most_one_line_per_30_s() -> None:
    clock = Clock()
    stream = io.StringIO()
    progress = HeadlessProgress(RunStats(100, clock=clock), stream, tty=False, clock=clock)
    limit = 16
    for step in range(300):  # ten minutes of an adaptive limit see-sawing every two seconds
        clock.now += 2.0
        new = limit - 1 if step % 2 else limit + 1
        progress(LimitChanged(limit, new, "after error: POST /run: HTTP 503" if new < limit else "recovering"))
        limit = new
    progress.finish()
    lines = [line for line in stream.getvalue().splitlines() if "limit" in line]
    assert 0 < len(lines) <= 600 / 30 + 2
    assert any("adaptive changes" in line for line in lines)


def test_a_person_changing_the_limit_is_printed_at_once() -> None:
    clock = Clock()
    stream = io.StringIO()
    progress = HeadlessProgress(RunStats(10, clock=clock), stream, tty=False, clock=clock)
    progress(LimitChanged(4, 3, "after 429"))
    progress(LimitChanged(3, 8, "set by user"))
    progress(LimitChanged(8, 1, "sequential"))
    text = stream.getvalue()
    assert "limit 3 -> 8 (set by user)" in text and "limit 8 -> 1 (sequential)" in text


def test_warnings_from_the_run_are_printed() -> None:
    stream = io.StringIO()
    progress = HeadlessProgress(RunStats(10), stream, tty=True)
    progress(LogEmitted("warning", "endpoint unreachable since 14:02:11, retrying in 40 s"))
    assert "endpoint unreachable since 14:02:11, retrying in 40 s" in stream.getvalue()
