"""Every consumer of the event stream handles every event, and the front ends say the same words for each."""

from __future__ import annotations

import io
import re
import sqlite3
from pathlib import Path
from typing import get_args

from tests.test_store import seeded
from tui_tts import events
from tui_tts.events import (
    ChunkCancelled,
    ChunkFailed,
    ChunkJobSubmitted,
    ChunkRetryScheduled,
    ChunksRequeued,
    ChunkStarted,
    ChunkSucceeded,
    DispatchPaused,
    DispatchResumed,
    EndpointObserved,
    Event,
    EventBase,
    LimitChanged,
    LogEmitted,
    PlayableUpdated,
    RunAbortRequested,
    StitchFinished,
    StitchProgressed,
    describe,
)
from tui_tts.run.limits import ConcurrencyLimit
from tui_tts.run.progress import HeadlessProgress, RunStats
from tui_tts.run.stitch_progress import StitchPrinter
from tui_tts.store import Store
from tui_tts.ui.event_view import event_view

ONE_OF_EACH: list[Event] = [
    ChunkStarted(0, 1),
    ChunkJobSubmitted(0, "job-1"),
    ChunkRetryScheduled(0, 1, "HTTP 503", 2.0),
    ChunkSucceeded(0, 2, "/a/0.wav", "pcm_s16le", 22050, 1, 1.5, 0.1, {"cost": 0.01}),
    ChunkStarted(1, 1),
    ChunkCancelled(1),
    ChunkFailed(2, 3, "HTTP 400: bad text"),
    ChunksRequeued((2,)),
    LimitChanged(4, 2, "after 429"),
    LimitChanged(2, 8, "set by user"),
    EndpointObserved("workers 0 run 2 init · queue 3", booting=True),
    DispatchPaused(),
    DispatchResumed(),
    RunAbortRequested("HTTP 401: bad API key"),
    LogEmitted("warning", "endpoint unreachable"),
    LogEmitted("info", "3 chunks already done"),
    StitchProgressed(10.0, 40.0, 5.0),
    PlayableUpdated("/out.partial.mp3", 754.0, 1, 2),
    StitchFinished("/out.mp3", 40.0, 1000, True),
]


def test_the_union_names_every_event_class_and_the_samples_cover_it() -> None:
    classes = set(get_args(Event))
    declared = {value for value in vars(events).values() if isinstance(value, type) and issubclass(value, EventBase)}
    assert classes == declared - {EventBase}
    assert {type(event) for event in ONE_OF_EACH} == classes


def test_every_consumer_takes_every_event() -> None:
    for tty in (True, False):
        progress = HeadlessProgress(RunStats(3), io.StringIO(), tty=tty, interval=0.0)
        printer = StitchPrinter(io.StringIO(), interval=0.0)
        for event in ONE_OF_EACH:
            progress(event)
            printer(event)
            event_view(event, ConcurrencyLimit(4), paused=False)
        progress.finish()
    assert (progress.stats.done, progress.stats.failed, progress.stats.retries) == (1, 0, 1)


async def test_the_recorder_takes_every_event(tmp_path: Path) -> None:
    async with Store(tmp_path / "db.sqlite") as store:
        await seeded(store, 3)
        recorder = store.recorder("r1")
        for event in ONE_OF_EACH:
            recorder(event)
        await store.flush()
        assert recorder.state_changes == 7
    logged = sqlite3.connect(tmp_path / "db.sqlite").execute("SELECT kind, message FROM events ORDER BY id").fetchall()
    assert ("limit", "limit 4 -> 2 (after 429)") in logged and ("warning", "endpoint unreachable") in logged


def test_headless_and_dashboard_say_the_same_words() -> None:
    stream = io.StringIO()
    progress = HeadlessProgress(RunStats(3), stream, tty=False, interval=1e9)
    told = [event for event in ONE_OF_EACH if describe(event) is not None and not isinstance(event, DispatchPaused)]
    for event in told:
        progress(event)
    printed = [re.sub(r"^\d\d:\d\d:\d\d ", "", line) for line in stream.getvalue().splitlines()]
    for event in told:
        shown = event_view(event, ConcurrencyLimit(4), paused=False).line
        assert shown is not None
        said = shown.text if not isinstance(event, LogEmitted) or event.level == "info" else f"warning: {shown.text}"
        assert said in printed, (event, printed)
    assert "chunk 3 failed for good: HTTP 400: bad text" in printed and "run stopped: HTTP 401: bad API key" in printed


def test_a_limit_change_while_paused_says_when_it_applies() -> None:
    view = event_view(LimitChanged(4, 2, "set by user"), ConcurrencyLimit(2), paused=True)
    assert view.line is not None and view.line.text == "limit 4 -> 2 (set by user) (paused: applies on resume)"
    resumed = event_view(DispatchResumed(), ConcurrencyLimit(9), paused=False).line
    assert resumed is not None and resumed.text == "resumed at parallel x9"
