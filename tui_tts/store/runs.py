"""Runs and their chunks as records: create, find by identity, load, update, list."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from tui_tts.models import AudioFacts, Chunk, ChunkState, Document
from tui_tts.store.database import Store


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


async def find_run(store: Store, run_key: str) -> RunRecord | None:
    """The newest run with this identity (same input bytes and audio-affecting settings)."""
    row = await store.fetchone("SELECT * FROM runs WHERE run_key=? ORDER BY created_at DESC LIMIT 1", (run_key,))
    return _run(row) if row else None


async def latest_settings_for_input(store: Store, input_hash: str) -> tuple[str, str] | None:
    """(run id, settings JSON) of the newest run of the same input bytes, whatever its settings."""
    row = await store.fetchone(
        "SELECT id, settings_json FROM runs WHERE input_hash=? ORDER BY created_at DESC LIMIT 1", (input_hash,)
    )
    return (str(row["id"]), str(row["settings_json"])) if row else None


async def find_runs(store: Store, prefix: str) -> list[RunRecord]:
    """Runs whose id starts with prefix (ids are long; a unique prefix is enough)."""
    rows = await store.fetchall("SELECT * FROM runs WHERE id LIKE ? ORDER BY created_at DESC", (prefix + "%",))
    return [_run(row) for row in rows]


async def run_settings(store: Store, run_id: str) -> dict[str, Any]:
    row = await store.fetchone("SELECT settings_json FROM runs WHERE id=?", (run_id,))
    return dict(json.loads(row["settings_json"])) if row else {}


async def get_run(store: Store, run_id: str) -> RunRecord | None:
    row = await store.fetchone("SELECT * FROM runs WHERE id=?", (run_id,))
    return _run(row) if row else None


async def create_run(store: Store, run: RunRecord, settings_json: str, document: Document, chunks: list[Chunk]) -> None:
    """Write the run, its sections and its chunks in one go, and wait for the commit."""
    now = time.time()
    store.write(
        "INSERT INTO runs (id, run_key, input_path, input_hash, title, settings_json, engine, output_path, "
        "output_format, state, total_chunks, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (run.id, run.run_key, run.input_path, run.input_hash, run.title, settings_json, run.engine, run.output_path,
         run.output_format, run.state, run.total_chunks, now, now),
    )  # fmt: skip
    store.write_many("INSERT INTO sections (run_id, idx, title) VALUES (?,?,?)",
                     [(run.id, number, section.title) for number, section in enumerate(document.sections)])  # fmt: skip
    store.write_many(
        "INSERT INTO chunks (run_id, idx, section, start_offset, end_offset, text, ends_paragraph) "
        "VALUES (?,?,?,?,?,?,?)",
        [(run.id, c.index, c.section, c.start, c.end, c.text, int(c.ends_paragraph)) for c in chunks],
    )
    await store.flush()


def update_run(store: Store, run_id: str, **fields: Any) -> None:
    """Queue an update of some run columns (and updated_at)."""
    fields["updated_at"] = time.time()
    columns = ", ".join(f"{name}=?" for name in fields)
    store.write(f"UPDATE runs SET {columns} WHERE id=?", (*fields.values(), run_id))


async def load_chunks(store: Store, run_id: str) -> list[ChunkRecord]:
    rows = await store.fetchall("SELECT * FROM chunks WHERE run_id=? ORDER BY idx", (run_id,))
    return [_chunk(row) for row in rows]


async def section_titles(store: Store, run_id: str) -> list[str]:
    rows = await store.fetchall("SELECT title FROM sections WHERE run_id=? ORDER BY idx", (run_id,))
    return [str(row["title"]) for row in rows]


async def list_runs(store: Store) -> list[tuple[RunRecord, dict[str, int]]]:
    """Every run, newest first, with its chunk counts by state."""
    runs = [_run(row) for row in await store.fetchall("SELECT * FROM runs ORDER BY created_at DESC")]
    counts: dict[str, dict[str, int]] = {run.id: {} for run in runs}
    for row in await store.fetchall("SELECT run_id, state, COUNT(*) AS n FROM chunks GROUP BY run_id, state"):
        counts.setdefault(row["run_id"], {})[row["state"]] = int(row["n"])
    return [(run, counts.get(run.id, {})) for run in runs]


def _run(row: sqlite3.Row) -> RunRecord:
    return RunRecord(
        id=row["id"], run_key=row["run_key"], input_path=row["input_path"], input_hash=row["input_hash"],
        title=row["title"], engine=row["engine"],
        output_path=row["output_path"], output_format=row["output_format"], state=row["state"],
        total_chunks=row["total_chunks"], created_at=row["created_at"], finished_at=row["finished_at"],
        output_duration=row["output_duration"],
    )  # fmt: skip


def _chunk(row: sqlite3.Row) -> ChunkRecord:
    chunk = Chunk(
        index=row["idx"], section=row["section"], start=row["start_offset"], end=row["end_offset"], text=row["text"],
        ends_paragraph=bool(row["ends_paragraph"]),
    )  # fmt: skip
    facts = None
    if row["codec"] and row["duration"] is not None:
        container = "wav" if str(row["codec"]).startswith("pcm_") else str(row["audio_path"] or "").rsplit(".", 1)[-1]
        facts = AudioFacts(row["codec"], container, row["sample_rate"], row["channels"], row["duration"])
    return ChunkRecord(chunk, ChunkState(row["state"]), row["attempts"], row["last_error"], row["audio_path"], facts,
                       row["job_id"])  # fmt: skip
