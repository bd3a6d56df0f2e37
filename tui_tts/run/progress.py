"""Headless progress: a one-line bar on a terminal, plain timestamped lines otherwise. Both read the event stream."""

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
    Line,
    LogEmitted,
    PlayableUpdated,
    RunAbortRequested,
    StitchFinished,
    StitchProgressed,
    describe,
)
from tui_tts.run.stitch_progress import stitch_text

LIMIT_SUMMARY_INTERVAL = 30.0  # seconds between two lines about adaptive limit changes
COLD_START_SECONDS = 2.0  # the first jobs all waited at least this long for a worker: a cold start, said so
PERSON_REASONS = {"set by user", "parallel", "sequential"}  # limit changes a person made: always printed


class RunStats:
    """Counters of a run, updated from events: what the progress line and the dashboard header show."""

    def __init__(self, total: int, already_done: int = 0, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.total = total
        self.done = already_done
        self.done_at_start = already_done
        self.failed = 0
        self.retrying: set[int] = set()
        self.running: set[int] = set()
        self.retries = 0
        self.audio_seconds = 0.0
        self.spend = 0.0
        self.started = clock()
        self.stopped: float | None = None
        self.endpoint = ""  # the endpoint's workers and queue, from its /health
        self.first_delays: list[float] = []  # delayTime of the first jobs, seconds
        self.cold_start: float | None = None  # seconds, when the first jobs show one
        self.booting_since: float | None = None  # workers started booting and none runs yet
        self.playable = ""  # how much of the book the partial file holds, once there is one

    def apply(self, event: Event) -> None:
        match event:
            case ChunkStarted(index=index):
                self.running.add(index)
                self.retrying.discard(index)
            case ChunkSucceeded(index=index, duration=duration, job_facts=facts):
                self.running.discard(index)
                self.done += 1
                self.audio_seconds += duration
                cost = facts.get("cost")
                if isinstance(cost, int | float):
                    self.spend += cost
                self._note_delay(facts.get("delay_ms"))
            case EndpointObserved(summary=summary, booting=booting):
                self.endpoint = summary
                if not booting:
                    self.booting_since = None
                elif self.booting_since is None:
                    self.booting_since = self.clock()
            case ChunkCancelled(index=index):
                self.running.discard(index)
            case ChunkRetryScheduled(index=index):
                self.running.discard(index)
                self.retrying.add(index)
                self.retries += 1
            case ChunkFailed(index=index):
                self.running.discard(index)
                self.retrying.discard(index)
                self.failed += 1
            case ChunksRequeued(indexes=indexes):
                self.failed = max(0, self.failed - len(indexes))
            case PlayableUpdated(seconds=seconds, first=first, last=last):
                self.playable = playable_text(seconds, first, last)
            case (
                ChunkJobSubmitted() | LimitChanged() | DispatchPaused() | DispatchResumed() | RunAbortRequested()
                | LogEmitted() | StitchProgressed() | StitchFinished()
            ):  # fmt: skip
                pass  # no counter moves
            case _ as unreachable:
                assert_never(unreachable)

    def _note_delay(self, delay_ms: object) -> None:
        """The least delay of the first three jobs is the cold start (later ones also wait behind others)."""
        if not isinstance(delay_ms, int | float) or len(self.first_delays) >= 3:
            return
        self.first_delays.append(delay_ms / 1000)
        least = min(self.first_delays)
        self.cold_start = least if least >= COLD_START_SECONDS else None
        self.booting_since = None

    @property
    def cold_start_label(self) -> str:
        """'cold start: 42 s', or 'cold start: 12 s so far' while workers boot; '' when there is none."""
        if self.booting_since is not None and not self.first_delays:
            return f"cold start: {self.clock() - self.started:.0f} s so far"
        return f"cold start: {self.cold_start:.0f} s" if self.cold_start is not None else ""

    def stop(self) -> None:
        """Freeze the clock: the run is over (or stopped), so elapsed and rates stop moving."""
        self.stopped = self.clock()

    @property
    def elapsed(self) -> float:
        return (self.stopped if self.stopped is not None else self.clock()) - self.started

    @property
    def chunks_per_minute(self) -> float:
        made = self.done - self.done_at_start
        return 60.0 * made / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def audio_per_second(self) -> float:
        return self.audio_seconds / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        rate = self.chunks_per_minute / 60.0
        left = self.total - self.done - self.failed
        return left / rate if rate > 0 else None


def playable_text(seconds: float, first: int, last: int) -> str:
    """'playable: 3 h 12 min, chapters 1-14'."""
    minutes = int(seconds // 60)
    length = f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min {int(seconds % 60)} s"
    chapters = f"chapter {first}" if first == last else f"chapters {first}-{last}"
    return f"playable: {length}, {chapters}"


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class HeadlessProgress:
    """Subscribe with `bus.subscribe(progress)`; call `finish()` at the end."""

    def __init__(self, stats: RunStats, stream: TextIO | None = None, tty: bool | None = None,
                 interval: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.stats = stats
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.interval = interval if not self.tty else 0.1
        self._clock = clock
        self._last = 0.0
        self._bar_shown = False
        self._limit_from: int | None = None  # adaptive limit changes not yet printed: the first old value ...
        self._limit_last: LimitChanged | None = None  # ... the latest change, and how many there were
        self._limit_changes = 0
        self._limit_printed = -LIMIT_SUMMARY_INTERVAL
        self._cold_said = False

    def __call__(self, event: Event) -> None:
        self.stats.apply(event)
        line = describe(event)
        match event:
            case ChunkFailed() | RunAbortRequested():
                self._say(line)
            case ChunkRetryScheduled() if not self.tty:
                self._say(line)
            case LimitChanged(reason=reason) if reason in PERSON_REASONS:
                self._say(line)
            case LimitChanged():
                self._note_adaptive_limit(event)
            case ChunkSucceeded() if self.stats.cold_start is not None and not self._cold_said:
                self._cold_said = True
                self._line(f"{self.stats.cold_start_label} (the first jobs waited for workers to boot)")
            case LogEmitted(level=level, message=message) if level != "info" or not self.tty:
                self._line(message if level == "info" else f"{level}: {message}")
            case StitchProgressed():
                self._maybe_render(stitch_text(event))
            case StitchFinished():
                pass  # the closing lines say where the output went
            case (
                ChunkStarted() | ChunkJobSubmitted() | ChunkSucceeded() | ChunkCancelled() | ChunksRequeued()
                | DispatchPaused() | DispatchResumed() | ChunkRetryScheduled() | LogEmitted() | PlayableUpdated()
                | EndpointObserved()
            ):  # fmt: skip
                self._maybe_render(self.summary_line())  # the bar (a tty) or the periodic counters line
            case _ as unreachable:
                assert_never(unreachable)

    def _say(self, line: Line | None) -> None:
        if line is not None:
            self._line(line.text)

    def _note_adaptive_limit(self, event: LimitChanged) -> None:
        """The adaptive limit moves often under faults: one summary line at most every 30 s, not one per move."""
        if self._limit_from is None:
            self._limit_from = event.old
        self._limit_last = event
        self._limit_changes += 1
        if self._clock() - self._limit_printed >= LIMIT_SUMMARY_INTERVAL:
            self._flush_limit_summary()

    def _flush_limit_summary(self) -> None:
        last, first = self._limit_last, self._limit_from
        if last is None or first is None:
            return
        if self._limit_changes == 1:
            self._say(describe(last))
        else:
            self._line(f"limit {first} -> {last.new} ({self._limit_changes} adaptive changes; last: {last.reason})")
        self._limit_from, self._limit_last, self._limit_changes = None, None, 0
        self._limit_printed = self._clock()

    def summary_line(self) -> str:
        s = self.stats
        parts = [f"{s.done}/{s.total} done"]
        if s.failed:
            parts.append(f"{s.failed} failed")
        if s.retrying:
            parts.append(f"{len(s.retrying)} retrying")
        parts.append(f"{s.chunks_per_minute:.0f} chunks/min")
        parts.append(f"{s.audio_per_second:.1f} s audio/s")
        if s.spend:
            parts.append(f"${s.spend:.4f}")
        parts.append(f"ETA {format_duration(s.eta_seconds)}")
        if s.playable:
            parts.append(s.playable)
        if s.endpoint:
            parts.append(s.endpoint)
        return ", ".join(parts)

    def _maybe_render(self, text: str) -> None:
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        if self.tty:
            width = 24
            filled = int(width * self.stats.done / self.stats.total) if self.stats.total else width
            self.stream.write(f"\r\x1b[2K[{'#' * filled}{'-' * (width - filled)}] {text}")
            self._bar_shown = True
        else:
            self.stream.write(f"{time.strftime('%H:%M:%S')} {text}\n")
        self.stream.flush()

    def _line(self, text: str) -> None:
        prefix = "\r\x1b[2K" if self.tty and self._bar_shown else f"{time.strftime('%H:%M:%S')} "
        self.stream.write(f"{prefix}{text}\n")
        self.stream.flush()

    def finish(self) -> None:
        """Print the final counters on a line of their own."""
        self._flush_limit_summary()
        self.stats.endpoint = ""  # its last /health reading is up to 10 s old: not part of the final counters
        self._last = 0.0
        if self.tty:
            self._maybe_render(self.summary_line())
            self.stream.write("\n")
        else:
            self._line(self.summary_line())
        self.stream.flush()
