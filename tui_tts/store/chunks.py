"""The chunks of a run in the store: load them, adopt audio found on disk, requeue, sum, and detail one."""

from __future__ import annotations

from collections.abc import Iterable

from tui_tts.models import AudioFacts, ChunkDetails
from tui_tts.store.database import Database
from tui_tts.store.records import ChunkRecord, ChunkTotals, chunk_from, details_from, totals_from


class Chunks:
    """Queries and updates of chunks. Updates are queued; `Store.flush()` commits them. (A running run's chunk
    states are written by its `EventRecorder`.)"""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def load(self, run_id: str) -> list[ChunkRecord]:
        """The run's chunks, in order."""
        rows = await self._db.fetchall("SELECT * FROM chunks WHERE run_id=? ORDER BY idx", (run_id,))
        return [chunk_from(row) for row in rows]

    def adopt(self, run_id: str, found: Iterable[tuple[int, str, AudioFacts]]) -> None:
        """Queue: these chunks are done, with the audio (index, path, facts) found on disk."""
        self._db.write_many(
            "UPDATE chunks SET state='done', audio_path=?, codec=?, sample_rate=?, channels=?, duration=? "
            "WHERE run_id=? AND idx=?",
            [(path, facts.codec, facts.sample_rate, facts.channels, facts.duration, run_id, index)
             for index, path, facts in found],
        )  # fmt: skip

    def set_keys(self, run_id: str, keys: Iterable[tuple[int, str]]) -> None:
        """Queue: each chunk's audio key (index, key), what its audio depends on."""
        self._db.write_many("UPDATE chunks SET audio_key=? WHERE run_id=? AND idx=?",
                            [(key, run_id, index) for index, key in keys])  # fmt: skip

    def unmake(self, run_id: str, index: int, key: str) -> None:
        """Queue: the chunk is to be made anew under this key (its audio was set aside): queued, no audio, no job."""
        self._db.write(
            "UPDATE chunks SET state='queued', audio_key=?, audio_path=NULL, codec=NULL, sample_rate=NULL, "
            "channels=NULL, duration=NULL, job_id=NULL, attempts=0, last_error=NULL WHERE run_id=? AND idx=?",
            (key, run_id, index),
        )  # fmt: skip

    async def made(self, keys: Iterable[str]) -> dict[str, tuple[str, AudioFacts]]:
        """Audio already made for these keys, by any run: key -> (path, facts), the newest first found."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, tuple[str, AudioFacts]] = {}
        for start in range(0, len(wanted), 500):  # under SQLite's limit of bound parameters
            batch = wanted[start : start + 500]
            rows = await self._db.fetchall(
                f"SELECT * FROM chunks WHERE state='done' AND audio_path IS NOT NULL AND audio_key IN "
                f"({','.join('?' * len(batch))}) ORDER BY finished_at DESC", tuple(batch),
            )  # fmt: skip
            for row in rows:
                record = chunk_from(row)
                if record.audio_key and record.audio_path and record.facts and record.audio_key not in found:
                    found[record.audio_key] = (record.audio_path, record.facts)
        return found

    def requeue(self, run_id: str, indexes: Iterable[int]) -> None:
        """Queue: these chunks wait to be synthesized (their attempts are kept)."""
        self._db.write_many("UPDATE chunks SET state='queued' WHERE run_id=? AND idx=?",
                            [(run_id, index) for index in indexes])  # fmt: skip

    async def spend(self, run_id: str) -> float:
        """What the run's chunks have cost so far, over every session."""
        row = await self._db.fetchone("SELECT SUM(cost) AS spend FROM chunks WHERE run_id=?", (run_id,))
        return float(row["spend"] or 0.0) if row else 0.0

    async def totals(self, run_id: str) -> ChunkTotals:
        row = await self._db.fetchone(
            "SELECT SUM(cost) AS spend, SUM(duration) AS audio, SUM(submissions) AS submissions, "
            "SUM(attempts) AS attempts, AVG(elapsed) AS mean_elapsed, MIN(started_at) AS first, "
            "MAX(finished_at) AS last, SUM(execution_ms) AS execution_ms FROM chunks WHERE run_id=?", (run_id,),
        )  # fmt: skip
        return totals_from(row)

    async def details(self, run_id: str, index: int) -> ChunkDetails | None:
        """Everything stored of one chunk, with its logged events; None when there is no such chunk."""
        row = await self._db.fetchone("SELECT * FROM chunks WHERE run_id=? AND idx=?", (run_id, index))
        if row is None:
            return None
        events = await self._db.fetchall(
            "SELECT at, kind, message FROM events WHERE run_id=? AND chunk=? ORDER BY id", (run_id, index)
        )
        return details_from(row, events)

    async def median_seconds_per_char(self, run_id: str) -> float | None:
        """The median seconds of audio per character over the run's done chunks (a truncated chunk falls far below)."""
        rows = await self._db.fetchall(
            "SELECT duration / LENGTH(text) AS ratio FROM chunks WHERE run_id=? AND state='done' AND duration > 0 "
            "ORDER BY ratio", (run_id,),
        )  # fmt: skip
        return float(rows[len(rows) // 2]["ratio"]) if rows else None
