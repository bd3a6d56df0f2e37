"""The records the store hands out (runs, chunks, totals), and how each is read from its row."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from tui_tts.models import AudioFacts, Chunk, ChunkDetails, ChunkState, LoggedEvent


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: str
    run_key: str
    input_path: str
    input_hash: str
    title: str
    engine: str
    output_path: str
    output_format: str
    state: str
    total_chunks: int
    created_at: float
    finished_at: float | None
    output_duration: float | None


@dataclass(frozen=True, slots=True)
class ChunkRecord:
    chunk: Chunk
    state: ChunkState
    attempts: int
    last_error: str | None
    audio_path: str | None
    facts: AudioFacts | None
    job_id: str | None
    audio_key: str | None = None  # what the audio depends on (see run/reuse.py); None in runs made before it


@dataclass(frozen=True, slots=True)
class ChunkTotals:
    """Sums over a run's chunks, for `show`: what was paid, made and tried, and when synthesis ran."""

    spend: float = 0.0
    audio_seconds: float = 0.0
    submissions: int = 0
    attempts: int = 0
    mean_elapsed: float = 0.0
    first_started: float | None = None
    last_finished: float | None = None
    execution_ms: int = 0


def run_from(row: sqlite3.Row) -> RunRecord:
    return RunRecord(
        id=row["id"], run_key=row["run_key"], input_path=row["input_path"], input_hash=row["input_hash"],
        title=row["title"], engine=row["engine"],
        output_path=row["output_path"], output_format=row["output_format"], state=row["state"],
        total_chunks=row["total_chunks"], created_at=row["created_at"], finished_at=row["finished_at"],
        output_duration=row["output_duration"],
    )  # fmt: skip


def chunk_from(row: sqlite3.Row) -> ChunkRecord:
    chunk = Chunk(
        index=row["idx"], section=row["section"], start=row["start_offset"], end=row["end_offset"], text=row["text"],
        ends_paragraph=bool(row["ends_paragraph"]),
    )  # fmt: skip
    facts = None
    if row["codec"] and row["duration"] is not None:
        container = "wav" if str(row["codec"]).startswith("pcm_") else str(row["audio_path"] or "").rsplit(".", 1)[-1]
        facts = AudioFacts(row["codec"], container, row["sample_rate"], row["channels"], row["duration"])
    return ChunkRecord(chunk, ChunkState(row["state"]), row["attempts"], row["last_error"], row["audio_path"], facts,
                       row["job_id"], row["audio_key"])  # fmt: skip


def totals_from(row: sqlite3.Row | None) -> ChunkTotals:
    if row is None:
        return ChunkTotals()
    return ChunkTotals(
        spend=row["spend"] or 0.0, audio_seconds=row["audio"] or 0.0, submissions=row["submissions"] or 0,
        attempts=row["attempts"] or 0, mean_elapsed=row["mean_elapsed"] or 0.0, first_started=row["first"],
        last_finished=row["last"], execution_ms=row["execution_ms"] or 0,
    )  # fmt: skip


def details_from(row: sqlite3.Row, events: list[sqlite3.Row]) -> ChunkDetails:
    return ChunkDetails(
        index=row["idx"], section=row["section"], state=ChunkState(row["state"]), attempts=row["attempts"],
        text=row["text"], last_error=row["last_error"], job_id=row["job_id"], submissions=row["submissions"] or 0,
        audio_path=row["audio_path"],
        worker_id=row["worker_id"], elapsed=row["elapsed"], delay_ms=row["delay_ms"],
        execution_ms=row["execution_ms"], cost=row["cost"], duration=row["duration"],
        events=tuple(LoggedEvent(event["at"], event["kind"], event["message"]) for event in events),
    )  # fmt: skip
