"""The store: WAL on a real file, batched commits far fewer than writes, migrations, and failures surfaced."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from tests.waiting import eventually
from tui_tts.events import ChunkJobSubmitted, ChunkRetryScheduled, ChunkStarted, ChunkSucceeded
from tui_tts.models import Chunk, ChunkDetails, ChunkState, Document, LoggedEvent, Section
from tui_tts.store import RunRecord, Store, StoreError
from tui_tts.store.database import Database
from tui_tts.store.schema import SCHEMA_VERSION


def a_run(run_id: str, total: int) -> RunRecord:
    return RunRecord(run_id, "key-" + run_id, "/in.txt", "hash", "title", "local", "/out.mp3", "mp3", "active", total,
                     0.0, None, None)  # fmt: skip


async def seeded(store: Store, total: int, run_id: str = "r1") -> list[Chunk]:
    chunks = [Chunk(n, 0, n * 10, n * 10 + 9, f"chunk {n}.") for n in range(total)]
    document = Document("d", (Section("s", "x"),))
    await store.runs.create(a_run(run_id, total), "{}", document, chunks)
    return chunks


async def test_wal_mode_and_schema_version(tmp_path: Path) -> None:
    async with Store(tmp_path / "db.sqlite") as store:
        assert await store.journal_mode() == "wal"
    raw = sqlite3.connect(tmp_path / "db.sqlite")
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


async def test_commits_are_batched(tmp_path: Path) -> None:
    async with Store(tmp_path / "db.sqlite", batch_interval=0.25) as store:
        chunks = await seeded(store, 2000)
        before = store.commits
        recorder = store.recorder("r1")
        for chunk in chunks:  # 4,000 state changes arriving as fast as they can
            recorder(ChunkStarted(chunk.index, 1))
            recorder(ChunkSucceeded(chunk.index, 1, f"/a/{chunk.index}.wav", "pcm_s16le", 22050, 1, 1.5, 0.1))
            if chunk.index % 100 == 0:
                await asyncio.sleep(0)
        await store.flush()
        commits = store.commits - before
        assert recorder.state_changes == 4000
        assert 1 <= commits <= 4000 / 100, commits
        records = await store.chunks.load("r1")
        assert all(record.state == "done" and record.facts and record.facts.duration == 1.5 for record in records)


async def test_time_bound_flushes_a_slow_trickle(tmp_path: Path) -> None:
    async with Store(tmp_path / "db.sqlite", batch_interval=0.05) as store:
        await seeded(store, 3)
        store.recorder("r1")(ChunkStarted(0, 1))
        other = sqlite3.connect(tmp_path / "db.sqlite")  # another connection sees only what is committed
        # No flush asked: the interval alone must commit it, well before the batch would fill.
        await eventually(lambda: other.execute("SELECT state FROM chunks WHERE idx=0").fetchone()[0] == "running", 2)


async def test_data_survives_reopen_and_list_runs_counts_states(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    async with Store(path) as store:
        await seeded(store, 5)
        store.recorder("r1")(ChunkSucceeded(2, 1, "/a.wav", "pcm_s16le", 22050, 1, 1.0, 0.1))
    async with Store(path) as store:
        [(run, counts)] = await store.runs.listing()
        assert run.id == "r1" and counts == {"queued": 4, "done": 1}


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(StoreError, match="newer tui-tts"):
        await Store(path).open()


async def test_a_failed_batch_reaches_flush_and_later_writes(tmp_path: Path) -> None:
    async with Database(tmp_path / "db.sqlite") as store:
        store.write("INSERT INTO no_such_table VALUES (1)")
        with pytest.raises(StoreError, match="no_such_table"):
            await store.flush()
        with pytest.raises(StoreError):
            store.write("SELECT 1")


async def test_a_second_process_can_read_while_the_writer_writes(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    async with Store(path) as writer, Store(path) as reader:
        await seeded(writer, 50)
        recorder = writer.recorder("r1")
        for n in range(50):
            recorder(ChunkSucceeded(n, 1, f"/a/{n}.wav", "pcm_s16le", 22050, 1, 1.0, 0.1))
            assert len(await reader.chunks.load("r1")) == 50
        await writer.flush()
        [(_run, counts)] = await reader.runs.listing()
        assert counts == {"done": 50}


async def test_job_ids_arriving_together_share_one_commit_and_are_durable_at_once(tmp_path: Path) -> None:
    async with Store(tmp_path / "db.sqlite", batch_interval=5.0) as store:
        await seeded(store, 20)
        before = store.commits

        async def submitted(n: int) -> None:
            store.recorder("r1")(ChunkJobSubmitted(n, f"job-{n}"))
            await store.committed(within=0.05)

        started = asyncio.get_running_loop().time()
        await asyncio.gather(*(submitted(n) for n in range(20)))
        assert asyncio.get_running_loop().time() - started < 1.0  # not the 5 s batch interval
        assert store.commits - before == 1
        other = sqlite3.connect(tmp_path / "db.sqlite")
        assert other.execute("SELECT COUNT(job_id) FROM chunks").fetchone()[0] == 20


async def test_a_version_1_database_is_migrated_in_place(tmp_path: Path) -> None:
    from tui_tts.store.schema import MIGRATIONS

    path = tmp_path / "old.sqlite"
    raw = sqlite3.connect(path)
    raw.executescript(MIGRATIONS[0])
    raw.execute("INSERT INTO runs (id, run_key, input_path, input_hash, title, settings_json, engine, output_path, "
                "output_format, state, total_chunks, created_at, updated_at) VALUES "
                "('old', 'k', '/i', 'h', 't', '{}', 'local', '/o', 'mp3', 'done', 0, 0, 0)")  # fmt: skip
    raw.execute("PRAGMA user_version=1")
    raw.commit()
    raw.close()
    async with Store(path) as store:
        run = await store.runs.get("old")
        assert run is not None and run.state == "done" and await store.runs.last_stats("old") == {}
    assert sqlite3.connect(path).execute("SELECT stats_json FROM runs").fetchall() == [(None,)]
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    assert sqlite3.connect(path).execute("SELECT audio_key FROM chunks").fetchall() == []  # 3: audio keys, edits
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM text_edits").fetchone()[0] == 0


async def test_a_chunks_details_and_the_runs_totals_come_back_as_records(tmp_path: Path) -> None:
    async with Store(tmp_path / "db.sqlite") as store:
        await seeded(store, 3)
        record = store.recorder("r1")
        record(ChunkStarted(0, 1))
        record(ChunkJobSubmitted(0, "job-a"))
        record(ChunkRetryScheduled(0, 1, "HTTP 503 busy", 1.5))
        record(ChunkStarted(0, 2))
        record(ChunkSucceeded(0, 2, "/a/0.wav", "pcm_s16le", 22050, 1, 2.0, 0.5,
                              {"delay_ms": 120, "execution_ms": 900, "worker_id": "w1", "cost": 0.002}))  # fmt: skip
        record(ChunkSucceeded(1, 1, "/a/1.wav", "pcm_s16le", 22050, 1, 1.0, 0.25))
        await store.flush()
        details = await store.chunks.details("r1", 0)
        assert details == ChunkDetails(
            index=0, section=0, state=ChunkState.DONE, attempts=2, text="chunk 0.", job_id=None, submissions=1,
            worker_id="w1", elapsed=0.5, delay_ms=120, execution_ms=900, cost=0.002, duration=2.0,
            audio_path="/a/0.wav",
            events=(LoggedEvent(details.events[0].at, "retry", "HTTP 503 busy (retry in 1.5 s)"),),
        )  # fmt: skip
        assert await store.chunks.details("r1", 99) is None
        assert await store.chunks.median_seconds_per_char("r1") == 2.0 / len("chunk 0.")
        totals = await store.chunks.totals("r1")
        assert (totals.spend, totals.audio_seconds, totals.attempts, totals.submissions) == (0.002, 3.0, 3, 1)
        assert await store.chunks.spend("r1") == 0.002
