"""The one event stream out of a run: typed, past-tense facts that the store, the progress output and the UI consume."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeAlias, assert_never, overload


@dataclass(frozen=True, slots=True)
class EventBase:
    """Base of every event; `at` is a wall-clock timestamp. Consumers take `Event`, the closed union below."""

    at: float = field(default_factory=time.time, kw_only=True)


@dataclass(frozen=True, slots=True)
class ChunkStarted(EventBase):
    index: int
    attempt: int


@dataclass(frozen=True, slots=True)
class ChunkJobSubmitted(EventBase):
    """A remote job id is known; persisted before anyone waits on it, so a restart can re-attach."""

    index: int
    job_id: str


@dataclass(frozen=True, slots=True)
class ChunkSucceeded(EventBase):
    index: int
    attempt: int
    audio_path: str
    codec: str
    sample_rate: int
    channels: int
    duration: float
    elapsed: float
    job_facts: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChunkRetryScheduled(EventBase):
    index: int
    attempt: int
    error: str
    delay: float


@dataclass(frozen=True, slots=True)
class ChunkFailed(EventBase):
    """The chunk failed for good (attempts used up, or an error that retrying cannot fix)."""

    index: int
    attempt: int
    error: str


@dataclass(frozen=True, slots=True)
class ChunkCancelled(EventBase):
    """Work on the chunk stopped (the run was stopped); it is queued again, its remote job id kept for resume."""

    index: int


@dataclass(frozen=True, slots=True)
class ChunksRequeued(EventBase):
    """Chunks went back to the queue (retry of failed chunks, or jobs returned on resume)."""

    indexes: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class LimitChanged(EventBase):
    """The concurrency limit changed; `reason` says who changed it (the user, a 429, recovery)."""

    old: int
    new: int
    reason: str


@dataclass(frozen=True, slots=True)
class EndpointObserved(EventBase):
    """A reading of the endpoint's /health: its workers and queue, in a few words."""

    summary: str
    booting: bool = False  # workers are starting and none runs yet: a cold start is under way


@dataclass(frozen=True, slots=True)
class DispatchPaused(EventBase):
    pass


@dataclass(frozen=True, slots=True)
class DispatchResumed(EventBase):
    pass


@dataclass(frozen=True, slots=True)
class RunAbortRequested(EventBase):
    """An error that no retry can fix (a bad API key, say) stopped dispatch."""

    error: str


@dataclass(frozen=True, slots=True)
class LogEmitted(EventBase):
    level: str  # "info" | "warning" | "error"
    message: str


@dataclass(frozen=True, slots=True)
class StitchProgressed(EventBase):
    done_seconds: float
    total_seconds: float
    eta_seconds: float | None = None  # None until the join's pace is known


@dataclass(frozen=True, slots=True)
class PlayableUpdated(EventBase):
    """The partial book (`<output>.partial.<ext>`) now holds chapters first..last, this many seconds."""

    path: str
    seconds: float
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class StitchFinished(EventBase):
    output_path: str
    duration: float
    size_bytes: int
    copied: bool


# Every event there is. A consumer matches on it and ends in `case _ as unreachable: assert_never(unreachable)`, so
# `mypy --strict` names each consumer that does not handle (or explicitly ignore) an event added here.
Event: TypeAlias = (
    ChunkStarted
    | ChunkJobSubmitted
    | ChunkSucceeded
    | ChunkRetryScheduled
    | ChunkFailed
    | ChunkCancelled
    | ChunksRequeued
    | LimitChanged
    | EndpointObserved
    | DispatchPaused
    | DispatchResumed
    | RunAbortRequested
    | LogEmitted
    | StitchProgressed
    | PlayableUpdated
    | StitchFinished
)


@dataclass(frozen=True, slots=True)
class Line:
    """What an event says in a log: the same words in the dashboard's log pane, headless stderr and the store."""

    level: str  # "info" | "warning" | "error"
    text: str


Told = ChunkRetryScheduled | ChunkFailed | LimitChanged | DispatchPaused | RunAbortRequested | LogEmitted


@overload
def describe(event: Told) -> Line: ...
@overload
def describe(event: Event) -> Line | None: ...
def describe(event: Event) -> Line | None:
    """The log line for an event, or None for events shown only as counters, cells and stages."""
    match event:
        case ChunkRetryScheduled(index=index, error=error, delay=delay):
            return Line("warning", f"chunk {index + 1}: {error}; retry in {delay:.1f} s")
        case ChunkFailed(index=index, error=error):
            return Line("error", f"chunk {index + 1} failed for good: {error}")
        case LimitChanged(old=old, new=new, reason=reason):
            return Line("info", f"limit {old} -> {new} ({reason})")
        case DispatchPaused():
            return Line("info", "paused: no new chunks start; work in flight finishes")
        case RunAbortRequested(error=error):
            return Line("error", f"run stopped: {error}")
        case LogEmitted(level=level, message=message):
            return Line(level, message)
        case (
            ChunkStarted() | ChunkJobSubmitted() | ChunkSucceeded() | ChunkCancelled() | ChunksRequeued()
            | DispatchResumed() | StitchProgressed() | PlayableUpdated() | StitchFinished() | EndpointObserved()
        ):  # fmt: skip
            return None  # DispatchResumed's words name the limit's mode, which only the dashboard knows how to say
        case _ as unreachable:
            assert_never(unreachable)


Subscriber = Callable[[Event], None]


class EventBus:
    """Fan one event out to every subscriber, synchronously and in order. Subscribers must not block."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns a function that removes it."""
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def emit(self, event: Event) -> None:
        """Deliver to every subscriber; one that fails (a broken store) does not starve the others. Its error is
        raised once all have the event."""
        failure: Exception | None = None
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception as exc:
                failure = failure or exc
        if failure is not None:
            raise failure
