"""The one event stream out of a run: typed, past-tense facts that the store, the progress output and the UI consume."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every event; `at` is a wall-clock timestamp."""

    at: float = field(default_factory=time.time, kw_only=True)


@dataclass(frozen=True, slots=True)
class ChunkStarted(Event):
    index: int
    attempt: int


@dataclass(frozen=True, slots=True)
class ChunkJobSubmitted(Event):
    """A remote job id is known; persisted before anyone waits on it, so a restart can re-attach."""

    index: int
    job_id: str


@dataclass(frozen=True, slots=True)
class ChunkSucceeded(Event):
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
class ChunkRetryScheduled(Event):
    index: int
    attempt: int
    error: str
    delay: float


@dataclass(frozen=True, slots=True)
class ChunkFailed(Event):
    """The chunk failed for good (attempts used up, or an error that retrying cannot fix)."""

    index: int
    attempt: int
    error: str


@dataclass(frozen=True, slots=True)
class ChunkCancelled(Event):
    """Work on the chunk stopped (the run was stopped); it is queued again, its remote job id kept for resume."""

    index: int


@dataclass(frozen=True, slots=True)
class ChunksRequeued(Event):
    """Chunks went back to the queue (retry of failed chunks, or jobs returned on resume)."""

    indexes: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class LimitChanged(Event):
    """The concurrency limit changed; `reason` says who changed it (the user, a 429, recovery)."""

    old: int
    new: int
    reason: str


@dataclass(frozen=True, slots=True)
class DispatchPaused(Event):
    pass


@dataclass(frozen=True, slots=True)
class DispatchResumed(Event):
    pass


@dataclass(frozen=True, slots=True)
class RunAbortRequested(Event):
    """An error that no retry can fix (a bad API key, say) stopped dispatch."""

    error: str


@dataclass(frozen=True, slots=True)
class LogEmitted(Event):
    level: str  # "info" | "warning" | "error"
    message: str


@dataclass(frozen=True, slots=True)
class StitchProgressed(Event):
    done_seconds: float
    total_seconds: float
    eta_seconds: float | None = None  # None until the join's pace is known


@dataclass(frozen=True, slots=True)
class PlayableUpdated(Event):
    """The partial book (`<output>.partial.<ext>`) now holds chapters first..last, this many seconds."""

    path: str
    seconds: float
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class StitchFinished(Event):
    output_path: str
    duration: float
    size_bytes: int
    copied: bool


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
