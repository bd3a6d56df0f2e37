"""The store as every caller outside this package sees it: runs and chunks by named methods, as records, no SQL."""

from __future__ import annotations

from pathlib import Path

from tui_tts.errors import StoreError
from tui_tts.store.chunks import Chunks
from tui_tts.store.database import Database
from tui_tts.store.edits import Edits
from tui_tts.store.recorder import EventRecorder
from tui_tts.store.runs import Runs


class Store:
    """One run database file. Use as `async with Store(path) as store:`, then `store.runs` and `store.chunks`.

    Writes are queued and committed in batches (see `Database`); `flush()` commits what is queued and waits for it.
    """

    def __init__(
        self, path: Path, *, batch_size: int = 500, batch_interval: float = 0.25, busy_timeout: int | None = None
    ) -> None:
        self._database = Database(path, batch_size=batch_size, batch_interval=batch_interval,
                                  busy_timeout=busy_timeout)  # fmt: skip
        self.runs = Runs(self._database)
        self.chunks = Chunks(self._database)
        self.edits = Edits(self._database)

    async def __aenter__(self) -> Store:
        await self.open()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def open(self) -> None:
        """Open (creating or migrating) the file. Raises StoreError with one line saying why it cannot."""
        await self._database.open()

    async def close(self) -> None:
        """Commit what is queued, checkpoint the WAL and close."""
        await self._database.close()

    async def flush(self) -> None:
        """Commit everything queued so far now, and wait for it. Raises StoreError if the writer failed."""
        await self._database.flush()

    async def committed(self, within: float) -> None:
        """Wait until everything queued so far is committed, letting the commit wait up to `within` seconds for
        company. Raises StoreError if the writer failed."""
        await self._database.committed(within)

    def recorder(self, run_id: str) -> EventRecorder:
        """A subscriber for the run's event bus that records chunk states and notable events (never blocking)."""
        return EventRecorder(self._database, run_id)

    async def journal_mode(self) -> str:
        return await self._database.journal_mode()

    @property
    def path(self) -> Path:
        return self._database.path

    @property
    def failure(self) -> StoreError | None:
        """The write failure that stopped the writer, if one did: nothing queued after it is saved."""
        return self._database.failure

    @property
    def commits(self) -> int:
        return self._database.commits

    @property
    def rows_written(self) -> int:
        return self._database.rows_written
