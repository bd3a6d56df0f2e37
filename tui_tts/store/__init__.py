"""Persistence: one SQLite file in WAL mode, one writer fed by a queue, batched commits; all its SQL lives here."""

from tui_tts.errors import StoreError
from tui_tts.store.records import ChunkRecord, ChunkTotals, RunRecord
from tui_tts.store.repository import Store

__all__ = ["ChunkRecord", "ChunkTotals", "RunRecord", "Store", "StoreError"]
