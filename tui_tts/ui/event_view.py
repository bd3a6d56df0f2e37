"""What each run event changes on the dashboard: chunk cells, a log line, the header's stage. One exhaustive match."""

from __future__ import annotations

from dataclasses import dataclass
from typing import assert_never

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
from tui_tts.models import ChunkState
from tui_tts.run.limits import ConcurrencyLimit
from tui_tts.run.stitch_progress import stitch_text
from tui_tts.ui.header import mode_label


@dataclass(frozen=True, slots=True)
class EventView:
    cells: tuple[tuple[int, ChunkState], ...] = ()  # (chunk index, its new state)
    line: Line | None = None  # for the log pane
    stage: str | None = None  # the header's stage, when it changes


def event_view(event: Event, limit: ConcurrencyLimit, paused: bool) -> EventView:
    """The dashboard's part of an event; counters come from `RunStats.apply`, the header redraws from them."""
    line = describe(event)
    match event:
        case ChunkStarted(index=index):
            return EventView(((index, ChunkState.RUNNING),))
        case ChunkSucceeded(index=index):
            return EventView(((index, ChunkState.DONE),))
        case ChunkRetryScheduled(index=index):
            return EventView(((index, ChunkState.RETRY),), line)
        case ChunkFailed(index=index):
            return EventView(((index, ChunkState.FAILED),), line)
        case ChunkCancelled(index=index):
            return EventView(((index, ChunkState.QUEUED),))
        case ChunksRequeued(indexes=indexes):
            return EventView(tuple((index, ChunkState.QUEUED) for index in indexes))
        case LimitChanged():
            said, later = describe(event), " (paused: applies on resume)" if paused else ""
            return EventView(line=Line(said.level, said.text + later))
        case DispatchResumed():
            return EventView(line=Line("info", f"resumed at {mode_label(limit, False).lower()}"))
        case RunAbortRequested():
            return EventView(line=line, stage="error")
        case DispatchPaused() | LogEmitted():
            return EventView(line=line)
        case StitchProgressed():
            return EventView(stage=stitch_text(event))
        case StitchFinished():
            return EventView(stage="stitched")
        case ChunkJobSubmitted():
            return EventView()  # a remote job id: the details screen reads it from the store
        case PlayableUpdated():
            return EventView()  # the header says how much is playable, from RunStats
        case EndpointObserved():
            return EventView()  # the header shows the endpoint's workers and queue, from RunStats
        case _ as unreachable:
            assert_never(unreachable)
