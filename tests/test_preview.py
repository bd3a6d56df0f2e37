"""The growing playable book: the longest finished prefix of whole chapters, refreshed as chapters complete."""

from __future__ import annotations

from pathlib import Path

import pytest
from mutagen.mp4 import MP4

from tests.audio_helpers import write_padded_tone
from tui_tts.audio.ffmpeg import Ffmpeg
from tui_tts.audio.probe import probe_file
from tui_tts.engines.registry import load_settings
from tui_tts.events import ChunkSucceeded, Event, EventBus, PlayableUpdated
from tui_tts.models import Chunk
from tui_tts.run.preview import PlayablePreview, partial_path, remove_partial
from tui_tts.run.progress import RunStats, playable_text

RATE = 22050


def test_the_playable_figure_reads_like_the_dashboard() -> None:
    assert playable_text(3 * 3600 + 12 * 60 + 5, 1, 14) == "playable: 3 h 12 min, chapters 1-14"
    assert playable_text(95, 1, 1) == "playable: 1 min 35 s, chapter 1"
    stats = RunStats(10)
    stats.apply(PlayableUpdated("book.partial.m4b", 754.0, 1, 2))
    assert stats.playable == "playable: 12 min 34 s, chapters 1-2"


@pytest.mark.parametrize("extension", ["m4b", "mp3"])
async def test_the_partial_book_grows_chapter_by_chapter(tmp_path: Path, ffmpeg: Ffmpeg, extension: str) -> None:
    # three chapters of two chunks; chunks finish out of order, as parallel workers finish them
    chunks = [Chunk(n, n // 2, 0, 10, f"chunk {n}", ends_paragraph=n % 2 == 1) for n in range(6)]
    files = [write_padded_tone(tmp_path / f"{n:06d}.wav", 0.1, 1.0, 0.2, RATE, 300 + 50 * n) for n in range(6)]
    bus = EventBus()
    seen: list[Event] = []
    bus.subscribe(seen.append)
    output = tmp_path / f"book.{extension}"
    settings = load_settings(None, {"output": {"format": extension}})
    preview = PlayablePreview(ffmpeg, settings, tmp_path / "work", output, extension, chunks, ["One", "Two", "Three"],
                              "Book", bus)  # fmt: skip

    def finish(index: int) -> None:
        bus.emit(ChunkSucceeded(index, 1, str(files[index]), "pcm_s16le", RATE, 1, 1.3, 0.1))

    finish(1)  # the loop (start()) would refresh on its own; here each step is awaited
    assert not await preview.refresh()  # nothing whole yet
    assert not partial_path(output).exists()
    finish(2)
    finish(3)  # chapter two is whole, but chapter one is not: nothing playable yet
    assert not await preview.refresh()
    finish(0)
    assert await preview.refresh()
    partial = partial_path(output)
    assert partial.name == f"book.partial.{extension}"
    # chapters one and two: a lead-in, then per chapter 1 s of tone, a sentence pause, 1 s, the chapter pause
    expected = 0.5 + 2 * (1.0 + 0.35 + 1.0 + 2.0)
    assert abs(probe_file(partial).duration - expected) < 0.2
    updates = [event for event in seen if isinstance(event, PlayableUpdated)]
    assert [(u.first, u.last) for u in updates] == [(1, 2)]
    if extension == "m4b":
        marks = [(c.title, round(c.start, 2)) for c in MP4(partial).chapters]  # type: ignore[no-untyped-call]
        assert [title for title, _ in marks] == ["One", "Two"] and abs(marks[1][1] - 4.85) < 0.1
    assert not await preview.refresh()  # nothing new: the file is left as it is
    finish(5)
    finish(4)
    assert not await preview.refresh()  # the whole book is done: the finished one is joined next, not this
    await preview.close()
    remove_partial(output, tmp_path / "work")
    assert not partial.exists() and not (tmp_path / "work" / "preview").exists()
