"""Failures end a run cleanly: a locked or full database, a second signal. One line, an exit code, never a hang."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_crash_resume import cli, states
from tests.test_ownership import run_args, running_emulator_process, write_config
from tests.waiting import wait_until


@pytest.fixture
def emulator_url(tmp_path: Path) -> Iterator[str]:
    with running_emulator_process(tmp_path) as url:
        yield url


FULL_DISK_SCRIPT = """
import asyncio, sys
import asyncio
from pathlib import Path
from tui_tts.store import StoreError
from tui_tts.store.database import Database

async def main():
    async with Database(Path(sys.argv[1]) / "t.db") as store:
        store.write("CREATE TABLE blobs (b BLOB)")
        await store.flush()
        try:
            for _ in range(100):
                store.write("INSERT INTO blobs VALUES (?)", (b"x" * 100_000,))
                await store.flush()
        except StoreError as exc:
            print(exc)

asyncio.run(main())
"""


def can_mount_tmpfs() -> bool:
    if not shutil.which("unshare") or os.geteuid() != 0:
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not can_mount_tmpfs(), reason="needs root and unshare to mount a small tmpfs (a real full disk)")
def test_a_full_data_dir_says_the_disk_is_full(tmp_path: Path) -> None:
    mount = tmp_path / "small"
    mount.mkdir()
    shell = f"mount -t tmpfs -o size=2m tmpfs {mount} && exec {sys.executable} -c '{FULL_DISK_SCRIPT}' {mount}"
    done = subprocess.run(["unshare", "-m", "sh", "-c", shell], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "the disk is full" in done.stdout, done.stdout
    assert "rollback" not in done.stdout


@pytest.mark.slow
def test_a_database_locked_too_long_ends_the_run_with_one_line_not_a_hang(tmp_path: Path, emulator_url: str) -> None:
    args = run_args(tmp_path, write_config(tmp_path, emulator_url, concurrency=2))
    database = tmp_path / "data" / "tui-tts.db"
    process = cli(*args, env={"TUI_TTS_BUSY_TIMEOUT_MS": "1000"})
    assert wait_until(lambda: states(database).get("done", 0) >= 2)
    blocker = sqlite3.connect(database, timeout=10, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock far longer than the busy timeout
    try:
        _stdout, stderr = process.communicate(timeout=60)  # before: waited on _finished for ever
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 2, stderr
    assert "Traceback" not in stderr and "never retrieved" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("tui-tts: error:")]
    assert len(errors) == 1 and "stayed locked for 1 s" in errors[0], stderr
    with sqlite3.connect(database) as db:  # what was saved before the lock is still there
        assert db.execute("SELECT COUNT(*) FROM chunks WHERE state='done'").fetchone()[0] >= 2


SECOND_SIGNAL_SCRIPT = """
import asyncio, os, signal, time
from tui_tts.commands.interrupts import install_interrupt_handler

async def main():
    stopped = asyncio.Event()
    install_interrupt_handler(stopped.set)
    os.kill(os.getpid(), signal.SIGTERM)
    await stopped.wait()

asyncio.run(main())  # the loop is closed: its signal handlers are gone
os.kill(os.getpid(), signal.SIGTERM)
time.sleep(5)
"""


def test_a_second_sigterm_after_the_loop_ended_still_exits_130() -> None:
    done = subprocess.run([sys.executable, "-c", SECOND_SIGNAL_SCRIPT], capture_output=True, text=True, timeout=30)
    assert done.returncode == 130, (done.returncode, done.stderr)
    assert "quitting at once" in done.stderr


async def test_writes_a_lock_held_too_long_refused_are_saved_when_the_store_closes(tmp_path: Path) -> None:
    from tui_tts.store import StoreError
    from tui_tts.store.database import Database

    path = tmp_path / "t.db"
    async with Database(path) as setup:
        setup.write("CREATE TABLE facts (n INTEGER)")
        await setup.flush()
    store = Database(path, busy_timeout=200)
    await store.open()
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    store.write("INSERT INTO facts VALUES (1)")
    with pytest.raises(StoreError, match=r"stayed locked for 0\.2 s"):
        await store.flush()
    with pytest.raises(StoreError):
        store.write("INSERT INTO facts VALUES (2)")  # the run learns at once that nothing more is saved
    blocker.execute("ROLLBACK")  # the other process lets go
    blocker.close()
    await store.close()  # the refused batch gets one last chance
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT n FROM facts").fetchall() == [(1,)]


@pytest.mark.parametrize("broken_on", ["ChunkStarted", "ChunkRetryScheduled", "ChunkSucceeded"])
async def test_a_failure_outside_the_chunk_ends_the_run_instead_of_killing_its_workers(broken_on: str) -> None:
    from tui_tts.engines.base import RetryableError
    from tui_tts.events import Event, EventBus, RunAbortRequested
    from tui_tts.models import AudioFacts, Chunk
    from tui_tts.run.limits import ConcurrencyLimit
    from tui_tts.run.scheduler import ChunkOutcome, Scheduler
    from tui_tts.store import StoreError

    bus = EventBus()
    seen: list[Event] = []

    def store_like(event: Event) -> None:  # a recorder whose store has failed
        if type(event).__name__ == broken_on:
            raise StoreError("the database x.db stayed locked for 1 s")

    bus.subscribe(store_like)
    bus.subscribe(seen.append)  # a later subscriber (the UI) still hears everything

    async def process(chunk: Chunk, attempt: int) -> ChunkOutcome:
        await asyncio.sleep(0.01)
        if attempt == 1 and chunk.index % 2:
            raise RetryableError("HTTP 502")
        return ChunkOutcome("x.wav", AudioFacts("pcm_s16le", "wav", 24_000, 1, 1.0))

    scheduler = Scheduler(process, bus, limit=ConcurrencyLimit(4, True), max_attempts=3, retry_base_delay=0.01)
    chunks = [Chunk(index, 0, 0, 1, f"chunk {index}") for index in range(12)]
    await asyncio.wait_for(scheduler.run(chunks), timeout=10)  # before: waited for ever on dead workers
    assert scheduler.abort_reason == "the database x.db stayed locked for 1 s"
    assert any(isinstance(event, RunAbortRequested) for event in seen)
    assert all(task.done() for task in asyncio.all_tasks() if task is not asyncio.current_task())
