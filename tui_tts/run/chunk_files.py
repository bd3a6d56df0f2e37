"""Chunk audio files on disk: written whole (fsync, then rename), and checked against their records on resume."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from tui_tts.audio.probe import AudioError, probe_file
from tui_tts.models import AudioFacts
from tui_tts.store import ChunkRecord


def audio_on_disk(records: list[ChunkRecord], chunk_dir: Path) -> dict[int, tuple[Path, AudioFacts]]:
    """Each chunk's valid audio file, by index: its recorded file first, then any `NNNNNN.*` in the folder."""
    by_index: dict[int, list[Path]] = {}
    with contextlib.suppress(FileNotFoundError), os.scandir(chunk_dir) as entries:  # one listing, not a glob each
        for entry in entries:
            stem, _, suffix = entry.name.partition(".")
            if stem.isdigit() and suffix and not entry.name.endswith(".part"):
                by_index.setdefault(int(stem), []).append(Path(entry.path))
    found: dict[int, tuple[Path, AudioFacts]] = {}
    for record in records:
        candidates = [Path(record.audio_path)] if record.audio_path else []
        candidates += sorted(p for p in by_index.get(record.chunk.index, []) if p not in candidates)
        for path in candidates:
            facts = chunk_audio_facts(path, record.facts if str(path) == record.audio_path else None)
            if facts is not None:
                found[record.chunk.index] = (path, facts)
                break
    return found


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temp file and rename it into place, so a crash never leaves a half file under the real name.

    The file is on disk (fsync) before the rename, and the rename before the chunk is recorded as done: after a
    power cut, a "done" chunk has its whole audio.
    """
    partial = path.with_name(path.name + ".part")
    try:
        with partial.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
        _fsync_directory(path.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _fsync_directory(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


DURATION_TOLERANCE = 0.02  # seconds, or 1%: container estimates (MP3 without a Xing header) wander a little


def chunk_audio_facts(path: Path, recorded: AudioFacts | None) -> AudioFacts | None:
    """The facts of a chunk file when it is whole audio that matches its record (if any), else None.

    WAV: the header against the file size (a cut file is caught without reading samples). Every format: the
    duration against the recorded one, so a short file is redone rather than stitched in.
    """
    if path.suffix == ".part":
        return None
    try:
        facts = probe_file(path, head_bytes=4096)
    except AudioError as exc:
        if "no data chunk" not in str(exc):
            return None
        try:  # a WAV with a long header (LIST, ...) before its samples
            facts = probe_file(path)
        except (AudioError, OSError):
            return None
    except OSError:
        return None
    if recorded is not None and abs(facts.duration - recorded.duration) > max(DURATION_TOLERANCE,
                                                                               recorded.duration / 100):  # fmt: skip
        return None
    return facts
