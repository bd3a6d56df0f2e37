"""Turns the run's event stream into queued store writes: chunk state changes and a log of notable events."""

from __future__ import annotations

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
    LogEmitted,
    PlayableUpdated,
    RunAbortRequested,
    StitchFinished,
    StitchProgressed,
    describe,
)
from tui_tts.store.database import Database

_LOG = "INSERT INTO events (run_id, at, kind, chunk, message) VALUES (?, ?, ?, ?, ?)"


class EventRecorder:
    """Subscribes to the event bus; never blocks (writes are queued for the store's batching writer)."""

    def __init__(self, store: Database, run_id: str) -> None:
        self.store = store
        self.run_id = run_id
        self.state_changes = 0

    def __call__(self, event: Event) -> None:
        run = self.run_id
        write = self.store.write
        match event:
            case ChunkStarted(index=index, attempt=attempt):
                self.state_changes += 1
                write("UPDATE chunks SET state='running', attempts=?, started_at=? WHERE run_id=? AND idx=?",
                      (attempt, event.at, run, index))  # fmt: skip
            case ChunkJobSubmitted(index=index, job_id=job_id):
                write("UPDATE chunks SET job_id=?, submissions=submissions+1 WHERE run_id=? AND idx=?",
                      (job_id, run, index))  # fmt: skip
            case ChunkSucceeded():
                self.state_changes += 1
                facts = event.job_facts
                write(
                    "UPDATE chunks SET state='done', attempts=?, audio_path=?, codec=?, sample_rate=?, channels=?, "
                    "duration=?, finished_at=?, elapsed=?, last_error=NULL, delay_ms=?, execution_ms=?, "
                    "worker_id=?, cost=? WHERE run_id=? AND idx=?",
                    (event.attempt, event.audio_path, event.codec, event.sample_rate, event.channels, event.duration,
                     event.at, event.elapsed, facts.get("delay_ms"), facts.get("execution_ms"), facts.get("worker_id"),
                     facts.get("cost"), run, event.index),
                )  # fmt: skip
            case ChunkRetryScheduled(index=index, error=error, delay=delay):
                self.state_changes += 1
                write("UPDATE chunks SET state='retry', last_error=?, job_id=NULL WHERE run_id=? AND idx=?",
                      (error, run, index))  # fmt: skip
                write(_LOG, (run, event.at, "retry", index, f"{error} (retry in {delay:.1f} s)"))
            case ChunkFailed(index=index, error=error):
                self.state_changes += 1
                write("UPDATE chunks SET state='failed', last_error=?, finished_at=? "
                      "WHERE run_id=? AND idx=?", (error, event.at, run, index))  # fmt: skip
                write(_LOG, (run, event.at, "failed", index, error))
            case ChunkCancelled(index=index):
                self.state_changes += 1
                write("UPDATE chunks SET state='queued', attempts=MAX(attempts-1, 0) WHERE run_id=? AND idx=?",
                      (run, index))  # fmt: skip
            case ChunksRequeued(indexes=indexes):
                self.state_changes += len(indexes)
                self.store.write_many("UPDATE chunks SET state='queued', attempts=0 WHERE run_id=? AND idx=?",
                                      [(run, index) for index in indexes])  # fmt: skip
            case LimitChanged():
                write(_LOG, (run, event.at, "limit", None, describe(event).text))
            case RunAbortRequested(error=error):
                write(_LOG, (run, event.at, "abort", None, error))
            case LogEmitted(level=level, message=message) if level != "info":
                write(_LOG, (run, event.at, level, None, message))
            case LogEmitted() | DispatchPaused() | DispatchResumed() | StitchProgressed() | StitchFinished():
                pass  # info lines, pauses and the join are not kept: the run's row and the output say enough
            case PlayableUpdated():
                pass  # the partial book is a file beside the output, gone once the book is written
            case EndpointObserved():
                pass  # a /health reading every 10 s: what it means is logged (LogEmitted) when it matters
            case _ as unreachable:
                assert_never(unreachable)
