"""Audio made once per text: each chunk's audio key, audio any run made reused by a link, and old takes set aside.

A chunk's key names everything its audio depends on: the engine, its audio settings (endpoint, voice, model, the job
input template, the format; never a key, a timeout or a price) and the text as the engine reads it (the chunk's
text, or its edit, after the lexicon). The chunk size is not in it, so a run with another `max_chars` reuses every
chunk whose text came out the same. Reused audio is hard-linked into the run's own folder (copied where the file
system cannot link): each run stays whole on its own, and removing one run never takes audio from another.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from tui_tts.config import Settings
from tui_tts.errors import UserError
from tui_tts.models import AudioFacts, Chunk, ChunkState
from tui_tts.run.chunk_files import chunk_audio_facts
from tui_tts.run.job_journal import NO_JOB, journal_path, record_job
from tui_tts.store import ChunkRecord, RunRecord, Store
from tui_tts.text.lexicon import Lexicon


def audio_key(settings: Settings, spoken: str) -> str:
    """The key of the audio the configured engine makes of `spoken`."""
    identity = {"engine": settings.engine, "settings": settings.engine_section().audio_identity(), "text": spoken}
    return hashlib.sha256(json.dumps(identity, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass
class AudioKeys:
    """What each chunk is read as, and the key of its audio, for one run's settings, lexicon and edits."""

    settings: Settings
    lexicon: Lexicon = field(default_factory=Lexicon)
    edits: dict[str, str] = field(default_factory=dict)  # original chunk text -> the person's edit

    def text(self, chunk: Chunk) -> str:
        """The chunk's text as the person wants it read (its edit, if any), before the lexicon."""
        return self.edits.get(chunk.text, chunk.text)

    def spoken(self, chunk: Chunk) -> str:
        """What the engine is sent."""
        return self.lexicon.apply(self.text(chunk))

    def key(self, chunk: Chunk) -> str:
        return audio_key(self.settings, self.spoken(chunk))


async def reuse_made_audio(store: Store, run_id: str, chunk_dir: Path, wanted: dict[int, str]) -> list[int]:
    """Link into the run every chunk (index -> key) whose audio some run already made; adopt them. Their indexes."""
    made = await store.chunks.made(wanted.values())
    if not made:
        return []
    found = [(index, made[key]) for index, key in wanted.items() if key in made]
    adopted = await asyncio.to_thread(_link_all, found, chunk_dir)
    store.chunks.adopt(run_id, adopted)
    await store.flush()
    return [index for index, _path, _facts in adopted]


def _link_all(found: list[tuple[int, tuple[str, AudioFacts]]], chunk_dir: Path) -> list[tuple[int, str, AudioFacts]]:
    chunk_dir.mkdir(parents=True, exist_ok=True)
    adopted = []
    for index, (source, recorded) in found:
        source_path = Path(source)
        facts = chunk_audio_facts(source_path, recorded)  # a file removed or cut since is not reused
        if facts is None:
            continue
        target = chunk_dir / f"{index:06d}{source_path.suffix}"
        if target != source_path:
            link_or_copy(source_path, target)
        adopted.append((index, str(target), facts))
    return adopted


def link_or_copy(source: Path, target: Path) -> None:
    """Put `source` at `target` whole or not at all: a hard link (no bytes copied) or a copy, then a rename."""
    partial = target.with_name(target.name + ".part")
    partial.unlink(missing_ok=True)
    try:
        os.link(source, partial)
    except OSError:  # another file system, or one without hard links
        shutil.copyfile(source, partial)
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
    os.replace(partial, target)


def set_aside(chunk_dir: Path, index: int, recorded: str | None) -> None:
    """Move a chunk's audio out of the run's way, into `takes/` beside its chunks: kept, never deleted (rm and prune
    remove it with the run). The chunk is then made anew."""
    takes = chunk_dir.parent / "takes"
    candidates = {Path(recorded)} if recorded else set()
    if chunk_dir.is_dir():
        candidates |= {path for path in chunk_dir.glob(f"{index:06d}.*") if not path.name.endswith(".part")}
    for path in candidates:
        if path.is_file() and path.parent == chunk_dir:
            takes.mkdir(parents=True, exist_ok=True)
            os.replace(path, takes / f"{path.stem}-{time.time_ns()}{path.suffix}")


async def rekey(store: Store, run_id: str, chunk_dir: Path, records: list[ChunkRecord], keys: AudioKeys) -> list[int]:
    """Give every chunk its key; a chunk whose audio was made for another key (an edit since) is set aside and made
    again. Returns those chunks' indexes. Runs made before keys existed get theirs without losing any audio."""
    fresh: list[tuple[int, str]] = []
    changed: list[int] = []
    for record in records:
        key = keys.key(record.chunk)
        if record.audio_key == key:
            continue
        if record.audio_key is not None:  # its audio (or a job in flight) is for text it no longer has
            await asyncio.to_thread(set_aside, chunk_dir, record.chunk.index, record.audio_path)
            store.chunks.unmake(run_id, record.chunk.index, key)
            changed.append(record.chunk.index)
        else:
            fresh.append((record.chunk.index, key))
    store.chunks.set_keys(run_id, fresh)
    await store.flush()
    return changed


async def remake_chunk(store: Store, run: RunRecord, chunk_dir: Path, keys: AudioKeys, index: int,
                       text: str | None) -> Chunk:  # fmt: skip
    """Set one chunk up to be made again: a new take of it as it is, or (with `text`) of its edited text.

    The edit is committed first, then the chunk's earlier job is struck from the journal (never re-attached for the
    new take), then the old audio is set aside, then the chunk is queued: a kill between any two steps leaves a run
    whose next start makes the chunk again from the edit (or, for a plain new take, keeps the old one).
    """
    records = await store.chunks.load(run.id)
    if not 0 <= index < len(records):
        raise UserError(f"run {run.id} has chunks 1 to {len(records)}; there is no chunk {index + 1}")
    record = records[index]
    if record.state not in (ChunkState.DONE, ChunkState.FAILED):
        raise UserError(f"chunk {index + 1} is {record.state.value}: fix it once it is done (or failed)")
    if text is not None:
        text = " ".join(text.split())
        if not text:
            raise UserError("the new text of a chunk must not be empty")
        store.edits.keep(run.input_hash, record.chunk.text, text)
        await store.flush()
        if text == record.chunk.text:
            keys.edits.pop(record.chunk.text, None)
        else:
            keys.edits[record.chunk.text] = text
    record_job(journal_path(chunk_dir.parent), index, NO_JOB)
    await asyncio.to_thread(set_aside, chunk_dir, index, record.audio_path)
    store.chunks.unmake(run.id, index, keys.key(record.chunk))
    await store.flush()
    return record.chunk


class SameText:
    """Chunks of one run with the same key (a refrain, "CHAPTER I" twice) are made once: while one is being made,
    the others wait for it and then share its audio; if it fails, the next one makes its own."""

    def __init__(self) -> None:
        self._making: dict[str, asyncio.Event] = {}
        self._made: dict[str, tuple[Path, AudioFacts]] = {}

    async def made(self, key: str) -> tuple[Path, AudioFacts] | None:
        """The audio another chunk of this run made for `key` (waiting while one is being made), if any."""
        while (busy := self._making.get(key)) is not None:
            await busy.wait()
        found = self._made.get(key)
        return found if found is not None and found[0].is_file() else None

    def start(self, key: str) -> asyncio.Event:
        event = self._making[key] = asyncio.Event()
        return event

    def finish(self, key: str, event: asyncio.Event, audio: tuple[Path, AudioFacts] | None) -> None:
        if audio is not None:
            self._made[key] = audio
        if self._making.get(key) is event:
            del self._making[key]
        event.set()

    def forget(self, key: str) -> None:
        """A new take of this text is wanted: do not share the old one."""
        self._made.pop(key, None)
