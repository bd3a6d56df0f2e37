"""Edits of a chunk's text, kept per input: every later run of the same input reads the edited text."""

from __future__ import annotations

import time

from tui_tts.store.database import Database


class Edits:
    """A chunk's text as the person corrected it, keyed by the input's hash and the chunk's original text."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def for_input(self, input_hash: str) -> dict[str, str]:
        """original text -> edited text, for every edit of this input."""
        rows = await self._db.fetchall("SELECT original, text FROM text_edits WHERE input_hash=?", (input_hash,))
        return {str(row["original"]): str(row["text"]) for row in rows}

    def keep(self, input_hash: str, original: str, text: str) -> None:
        """Queue: from now on, the chunk whose text is `original` reads `text` (the same text again drops the edit)."""
        if text == original:
            self._db.write("DELETE FROM text_edits WHERE input_hash=? AND original=?", (input_hash, original))
            return
        self._db.write(
            "INSERT INTO text_edits (input_hash, original, text, edited_at) VALUES (?,?,?,?) "
            "ON CONFLICT (input_hash, original) DO UPDATE SET text=excluded.text, edited_at=excluded.edited_at",
            (input_hash, original, text, time.time()),
        )  # fmt: skip
