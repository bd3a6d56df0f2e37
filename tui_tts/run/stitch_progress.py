"""How far the final join is: a percentage and an ETA, for headless stderr, the `stitch` command and the dashboard."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO, assert_never

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
    LimitChanged,
    LogEmitted,
    PlayableUpdated,
    RunAbortRequested,
    StitchFinished,
    StitchProgressed,
)


def clock_text(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def stitch_text(event: StitchProgressed) -> str:
    """'stitching  42.0%, ETA 01:10'."""
    percent = 100 * event.done_seconds / event.total_seconds if event.total_seconds else 100.0
    return f"stitching {percent:5.1f}%, ETA {clock_text(event.eta_seconds)}"


class StitchPace:
    """The ETA of a join from how fast its audio has been written so far (seconds of audio per second)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._start: tuple[float, float] | None = None  # (time, done) when the first progress arrived

    def eta(self, done: float, total: float) -> float | None:
        now = self.clock()
        if self._start is None or done < self._start[1]:
            self._start = (now, done)
            return None
        started, done_then = self._start
        if done >= total:
            return 0.0
        if done <= done_then or now <= started:
            return None
        return (total - done) * (now - started) / (done - done_then)


class StitchPrinter:
    """A bus subscriber for the `stitch` command: the join's progress and log lines on stderr."""

    def __init__(self, stream: TextIO | None = None, interval: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.interval = 0.1 if self.tty else interval
        self._last = 0.0
        self._shown = False

    def __call__(self, event: Event) -> None:
        match event:
            case StitchProgressed():
                now = time.monotonic()
                if now - self._last < self.interval and event.done_seconds < event.total_seconds:
                    return
                self._last = now
                if self.tty:
                    self.stream.write(f"\r\x1b[2K{stitch_text(event)}")
                    self._shown = True
                else:
                    self.stream.write(f"{time.strftime('%H:%M:%S')} {stitch_text(event)}\n")
            case LogEmitted(level=level, message=message):
                self.stream.write(f"{self._prefix()}{message if level == 'info' else f'{level}: {message}'}\n")
            case (
                StitchFinished() | ChunkStarted() | ChunkJobSubmitted() | ChunkSucceeded() | ChunkRetryScheduled()
                | ChunkFailed() | ChunkCancelled() | ChunksRequeued() | LimitChanged() | DispatchPaused()
                | DispatchResumed() | RunAbortRequested() | PlayableUpdated() | EndpointObserved()
            ):  # fmt: skip
                return  # the `stitch` command runs no chunks; it reports where the output went when done
            case _ as unreachable:
                assert_never(unreachable)
        self.stream.flush()

    def finish(self) -> None:
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False

    def _prefix(self) -> str:
        if self.tty:
            shown, self._shown = self._shown, False
            return "\r\x1b[2K" if shown else ""
        return f"{time.strftime('%H:%M:%S')} "
