"""Persistence: one SQLite file in WAL mode, one writer fed by a queue, batched commits."""

from tui_tts.errors import StoreError
from tui_tts.store.database import Store

__all__ = ["Store", "StoreError"]
