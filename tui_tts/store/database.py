"""The SQLite file underneath the store: WAL, synchronous=NORMAL, a busy timeout, one writer fed by a queue.

Writes are queued without waiting and committed in batches (by count or after a short interval, whichever comes
first), each batch one `BEGIN IMMEDIATE` transaction of `executemany` calls. Reads use a second connection, so a
progress query never waits for a batch.

Only the store's own modules speak SQL to it (an import-linter contract); everyone else asks `Store` by name.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import Iterable, Sequence
from itertools import groupby
from pathlib import Path
from typing import Any

import aiosqlite

from tui_tts.errors import StoreError
from tui_tts.store.schema import MIGRATIONS, SCHEMA_VERSION

Params = Sequence[Any]
BUSY_TIMEOUT_MS = 30_000
LAST_TRY_TIMEOUT_MS = 2_000  # the last try at close waits no longer than this
BUSY_TIMEOUT_ENV = "TUI_TTS_BUSY_TIMEOUT_MS"  # how long a write waits on another process's lock (tests shorten it)


def busy_timeout_ms() -> int:
    """The busy timeout: $TUI_TTS_BUSY_TIMEOUT_MS when it is a positive whole number, else 30 s."""
    value = os.environ.get(BUSY_TIMEOUT_ENV, "")
    return int(value) if value.isdigit() and int(value) > 0 else BUSY_TIMEOUT_MS


class _Flush:
    """A marker in the write queue: its future resolves once everything queued before it is committed.

    `within` bounds how long the batch holding it may wait: 0 commits at once, a few ms lets writes arriving
    together share one commit.
    """

    def __init__(self, within: float) -> None:
        self.within = within
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()


class Database:
    """One run database file, spoken to in SQL. Use as `async with Database(path) as database:`."""

    def __init__(
        self, path: Path, *, batch_size: int = 500, batch_interval: float = 0.25, busy_timeout: int | None = None
    ) -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout if busy_timeout is not None else busy_timeout_ms()
        self.batch_size = batch_size
        self.batch_interval = batch_interval
        self.commits = 0
        self.rows_written = 0
        self._queue: asyncio.Queue[tuple[str, Params] | _Flush] = asyncio.Queue()
        self._urgent = asyncio.Event()
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._writer_task: asyncio.Task[None] | None = None
        self.failure: StoreError | None = None
        self._unsaved: list[tuple[str, Params]] = []  # writes refused after a failure, in order: one last try at close

    async def __aenter__(self) -> Database:
        await self.open()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = await aiosqlite.connect(self.path, timeout=self.busy_timeout_ms / 1000, isolation_level=None)
            await self._configure(self._writer)
            mode = await (await self._writer.execute("PRAGMA journal_mode=WAL")).fetchone()
            if mode is None or str(mode[0]).lower() != "wal":
                raise StoreError(f"{self.path}: SQLite refused WAL mode (is it on a network filesystem?)")
            await self._migrate(self._writer)
            self._reader = await aiosqlite.connect(self.path, timeout=self.busy_timeout_ms / 1000, isolation_level=None)
            await self._configure(self._reader)
            self._reader.row_factory = sqlite3.Row
        except (sqlite3.Error, OSError) as exc:
            await self._close_connections()
            raise StoreError(f"cannot open the database {self.path}: {exc}") from None
        except StoreError:
            await self._close_connections()
            raise
        self._writer_task = asyncio.get_running_loop().create_task(self._write_loop())

    async def _configure(self, connection: aiosqlite.Connection) -> None:
        await connection.execute(f"PRAGMA busy_timeout={self.busy_timeout_ms}")
        await connection.execute("PRAGMA synchronous=NORMAL")
        await connection.execute("PRAGMA foreign_keys=ON")

    async def _migrate(self, connection: aiosqlite.Connection) -> None:
        await connection.execute("BEGIN IMMEDIATE")
        try:
            row = await (await connection.execute("PRAGMA user_version")).fetchone()
            version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} was written by a newer tui-tts (schema {version}, this one knows {SCHEMA_VERSION})"
                )
            for number in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        await connection.execute(statement)
            await connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            await connection.execute("COMMIT")
        except BaseException:
            await connection.execute("ROLLBACK")
            raise

    async def close(self) -> None:
        """Flush what is queued, checkpoint the WAL and close both connections."""
        try:
            if self._writer_task is not None and not self._writer_task.done():
                # A failure is already recorded in self.failure; closing must still release the connections.
                with contextlib.suppress(StoreError):
                    await self.flush()
                self._writer_task.cancel()
                await asyncio.gather(self._writer_task, return_exceptions=True)
            while not self._queue.empty():  # after a failure, flush() raises at once: what is queued is unsaved
                item = self._queue.get_nowait()
                if not isinstance(item, _Flush):
                    self._unsaved.append(item)
            if self.failure is not None and self._unsaved and self._writer is not None:
                await self._save_unsaved()
            if self._writer is not None and self.failure is None:
                # Another process may be reading; the next close will checkpoint.
                with contextlib.suppress(sqlite3.Error):
                    await self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            await self._close_connections()

    async def _save_unsaved(self) -> None:
        """A last, short try to commit what a failure refused (a lock held too long may have been let go by now).
        The writes are the last ones queued, in order, so nothing newer can be overwritten by them."""
        assert self._writer is not None
        writes, self._unsaved = self._unsaved, []
        try:
            await self._writer.execute(f"PRAGMA busy_timeout={min(self.busy_timeout_ms, LAST_TRY_TIMEOUT_MS)}")
            await self._execute_batch(writes)
        except Exception:  # still failing: the first failure is the one already reported
            return
        self.commits += 1
        self.rows_written += len(writes)

    async def _execute_batch(self, writes: list[tuple[str, Params]]) -> None:
        """One transaction of the writes, grouped into executemany calls. Raises what SQLite raised."""
        assert self._writer is not None
        await self._writer.execute("BEGIN IMMEDIATE")
        try:
            for sql, group in groupby(writes, key=lambda item: item[0]):
                await self._writer.executemany(sql, [params for _, params in group])
            await self._writer.execute("COMMIT")
        except BaseException:
            # A failed COMMIT (a full disk) may have rolled back already: the first error is the one to tell.
            with contextlib.suppress(sqlite3.Error, ValueError):
                await self._writer.execute("ROLLBACK")
            raise

    async def _close_connections(self) -> None:
        for connection in (self._reader, self._writer):
            if connection is not None:
                await connection.close()
        self._reader = self._writer = None

    # ----- writes -----

    def write(self, sql: str, params: Params = ()) -> None:
        """Queue one write; it is committed with the next batch."""
        if self.failure is not None:
            raise self.failure
        self._queue.put_nowait((sql, params))
        if self._queue.qsize() >= self.batch_size:
            self._urgent.set()

    def write_many(self, sql: str, rows: Iterable[Params]) -> None:
        for row in rows:
            self.write(sql, row)

    async def flush(self) -> None:
        """Commit everything queued so far now, and wait for it. Raises StoreError if the writer failed."""
        await self.committed(within=0.0)

    async def committed(self, within: float) -> None:
        """Wait until everything queued so far is committed, letting the commit wait up to `within` seconds for
        company (writes arriving together share it). Raises StoreError if the writer failed."""
        if self.failure is not None:
            raise self.failure
        marker = _Flush(within)
        self._queue.put_nowait(marker)
        self._urgent.set()
        await marker.done

    async def _write_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            first = await self._queue.get()
            batch = [first]
            deadline = loop.time() + self.batch_interval
            while len(batch) < self.batch_size:
                if isinstance(batch[-1], _Flush):
                    deadline = min(deadline, loop.time() + batch[-1].within)
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    batch.append(self._queue.get_nowait())
                    continue
                except asyncio.QueueEmpty:
                    pass
                self._urgent.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._urgent.wait(), remaining)
            await self._commit(batch)

    async def _commit(self, batch: list[tuple[str, Params] | _Flush]) -> None:
        writes = [item for item in batch if not isinstance(item, _Flush)]
        flushes = [item for item in batch if isinstance(item, _Flush)]
        error: StoreError | None = self.failure
        if writes and error is None:
            try:
                await self._execute_batch(writes)
                self.commits += 1
                self.rows_written += len(writes)
            except Exception as exc:  # any failure must reach the waiters, or flush() would hang
                error = self.failure = StoreError(_describe_sqlite_error(exc, self.path, self.busy_timeout_ms))
        if error is not None:
            self._unsaved += writes
        for flush in flushes:
            if not flush.done.done():
                if error is None:
                    flush.done.set_result(None)
                else:
                    flush.done.set_exception(error)

    # ----- reads -----

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        assert self._reader is not None, "store is not open"
        async with self._reader.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        assert self._reader is not None, "store is not open"
        async with self._reader.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def journal_mode(self) -> str:
        row = await self.fetchone("PRAGMA journal_mode")
        return str(row[0]) if row else ""


def _describe_sqlite_error(exc: Exception, path: Path, busy_timeout: int) -> str:
    text = str(exc)
    if "full" in text:
        return f"cannot write the database {path}: the disk is full"
    if "locked" in text or "busy" in text:
        return f"the database {path} stayed locked for {busy_timeout / 1000:g} s"
    return f"cannot write the database {path}: {text}"
