"""The runs in the store: create, find by identity or id, list, change state, record results, delete."""

from __future__ import annotations

import json
import time
from typing import Any

from tui_tts.models import Chunk, Document
from tui_tts.store.database import Database
from tui_tts.store.records import RunRecord, run_from


class Runs:
    """Queries and updates of runs (and their section titles). Updates are queued; `Store.flush()` commits them."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def find(self, run_key: str) -> RunRecord | None:
        """The newest run with this identity (same input bytes and audio-affecting settings)."""
        row = await self._db.fetchone("SELECT * FROM runs WHERE run_key=? ORDER BY created_at DESC LIMIT 1", (run_key,))
        return run_from(row) if row else None

    async def get(self, run_id: str) -> RunRecord | None:
        row = await self._db.fetchone("SELECT * FROM runs WHERE id=?", (run_id,))
        return run_from(row) if row else None

    async def with_prefix(self, prefix: str) -> list[RunRecord]:
        """Runs whose id starts with prefix (ids are long; a unique prefix is enough), newest first."""
        rows = await self._db.fetchall("SELECT * FROM runs WHERE id LIKE ? ORDER BY created_at DESC", (prefix + "%",))
        return [run_from(row) for row in rows]

    async def listing(self) -> list[tuple[RunRecord, dict[str, int]]]:
        """Every run, newest first, with its chunk counts by state."""
        runs = [run_from(row) for row in await self._db.fetchall("SELECT * FROM runs ORDER BY created_at DESC")]
        counts: dict[str, dict[str, int]] = {run.id: {} for run in runs}
        for row in await self._db.fetchall("SELECT run_id, state, COUNT(*) AS n FROM chunks GROUP BY run_id, state"):
            counts.setdefault(row["run_id"], {})[row["state"]] = int(row["n"])
        return [(run, counts.get(run.id, {})) for run in runs]

    async def latest_settings_for_input(self, input_hash: str) -> tuple[str, str] | None:
        """(run id, settings JSON) of the newest run of the same input bytes, whatever its settings."""
        row = await self._db.fetchone(
            "SELECT id, settings_json FROM runs WHERE input_hash=? ORDER BY created_at DESC LIMIT 1", (input_hash,)
        )
        return (str(row["id"]), str(row["settings_json"])) if row else None

    async def settings(self, run_id: str) -> dict[str, Any]:
        """The audio-affecting settings (and chapter choice) the run was made with; {} for an unknown run."""
        row = await self._db.fetchone("SELECT settings_json FROM runs WHERE id=?", (run_id,))
        return dict(json.loads(row["settings_json"])) if row else {}

    async def last_stats(self, run_id: str) -> dict[str, Any]:
        """The counters of the run's last execution (commits, requests, ...); {} when it never ran."""
        row = await self._db.fetchone("SELECT stats_json FROM runs WHERE id=?", (run_id,))
        return dict(json.loads(row["stats_json"])) if row and row["stats_json"] else {}

    async def section_titles(self, run_id: str) -> list[str]:
        rows = await self._db.fetchall("SELECT title FROM sections WHERE run_id=? ORDER BY idx", (run_id,))
        return [str(row["title"]) for row in rows]

    async def create(self, run: RunRecord, settings_json: str, document: Document, chunks: list[Chunk]) -> None:
        """Write the run, its sections and its chunks in one go, and wait for the commit."""
        now = time.time()
        self._db.write(
            "INSERT INTO runs (id, run_key, input_path, input_hash, title, settings_json, engine, output_path, "
            "output_format, state, total_chunks, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (run.id, run.run_key, run.input_path, run.input_hash, run.title, settings_json, run.engine,
             run.output_path, run.output_format, run.state, run.total_chunks, now, now),
        )  # fmt: skip
        sections = [(run.id, number, section.title) for number, section in enumerate(document.sections)]
        self._db.write_many("INSERT INTO sections (run_id, idx, title) VALUES (?,?,?)", sections)
        self._db.write_many(
            "INSERT INTO chunks (run_id, idx, section, start_offset, end_offset, text, ends_paragraph) "
            "VALUES (?,?,?,?,?,?,?)",
            [(run.id, c.index, c.section, c.start, c.end, c.text, int(c.ends_paragraph)) for c in chunks],
        )
        await self._db.flush()

    def set_state(self, run_id: str, state: str) -> None:
        """Queue a change of the run's state ('active', 'stopped', 'failed', 'done')."""
        self._update(run_id, state=state)

    def reopen(self, run_id: str, output_path: str, output_format: str) -> None:
        """Queue: the run is active again, writing this output (a resume may name another file or format)."""
        self._update(run_id, output_path=output_path, output_format=output_format, state="active")

    def record_stats(self, run_id: str, stats: dict[str, object]) -> None:
        """Queue the counters of this execution (shown by `show`, read by the benchmarks)."""
        self._update(run_id, stats_json=json.dumps(stats))

    def record_output(self, run_id: str, output_path: str, output_format: str, duration: float, size: int) -> None:
        """Queue: the run is done, its output joined and written."""
        self._update(run_id, state="done", finished_at=time.time(), output_path=output_path,
                     output_format=output_format, output_duration=duration, output_bytes=size)  # fmt: skip

    def delete(self, run_id: str) -> None:
        """Queue the removal of the run with its sections, chunks and events (the foreign keys cascade)."""
        self._db.write("DELETE FROM runs WHERE id=?", (run_id,))

    def _update(self, run_id: str, **fields: Any) -> None:
        fields["updated_at"] = time.time()
        columns = ", ".join(f"{name}=?" for name in fields)
        self._db.write(f"UPDATE runs SET {columns} WHERE id=?", (*fields.values(), run_id))
