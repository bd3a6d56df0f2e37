"""The growing playable book: the longest finished prefix of whole chapters, refreshed as chapters complete."""

from __future__ import annotations

from pathlib import Path

import pytest
from mutagen.mp4 import MP4

from tests.audio_helpers import write_padded_tone
from tui_tts.audio.ffmpeg import Ffmpeg
from tui_tts.audio.probe import probe_file
from tui_tts.emulator import EmulatorConfig, running_emulator
from tui_tts.engines.registry import build_engine, load_settings
from tui_tts.events import ChunkSucceeded, Event, EventBus, PlayableUpdated
from tui_tts.models import Chunk
from tui_tts.run.limits import ConcurrencyLimit
from tui_tts.run.preview import PlayablePreview, partial_path, remove_partial
from tui_tts.run.progress import HeadlessProgress, RunStats, playable_text
from tui_tts.run.runner import RunController
from tui_tts.store import Store
from tui_tts.text.loading import load_document
from tui_tts.ui.header import header_content

RATE = 22050


def test_the_playable_figure_reads_like_the_dashboard() -> None:
    assert playable_text(3 * 3600 + 12 * 60 + 5, 1, 14) == "playable: 3 h 12 min, chapters 1-14"
    assert playable_text(95, 1, 1) == "playable: 1 min 35 s, chapter 1"
    stats = RunStats(10)
    stats.apply(PlayableUpdated("book.partial.m4b", 754.0, 1, 2))
    assert stats.playable == "playable: 12 min 34 s, chapters 1-2"
    header = header_content("Book", "local", stats, ConcurrencyLimit(4, True), False, "", 160)
    assert "playable: 12 min 34 s, chapters 1-2" in header.plain  # the dashboard says it
    assert "playable: 12 min 34 s, chapters 1-2" in HeadlessProgress(stats, tty=False).summary_line()


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
    # a resumed run (a new session) re-uses the chapters joined before instead of encoding them again
    cached = sorted((tmp_path / "work" / "preview").glob("chapter-*.m4a" if extension == "m4b" else "chapter-*.mp3"))
    stamps = [path.stat().st_mtime_ns for path in cached]
    again = PlayablePreview(ffmpeg, settings, tmp_path / "work", output, extension, chunks, ["One", "Two", "Three"],
                            "Book", EventBus())  # fmt: skip
    again.done = dict(preview.done)
    assert await again.refresh()
    assert len(cached) == 2 and [path.stat().st_mtime_ns for path in cached] == stamps
    await again.close()
    finish(5)
    finish(4)
    assert not await preview.refresh()  # the whole book is done: the finished one is joined next, not this
    await preview.close()
    remove_partial(output, tmp_path / "work")
    assert not partial.exists() and not (tmp_path / "work" / "preview").exists()


@pytest.mark.slow
async def test_a_run_keeps_the_partial_book_while_it_goes_and_drops_it_at_the_end(
    tmp_path: Path, ffmpeg: Ffmpeg
) -> None:
    source = tmp_path / "story.md"
    source.write_text("# One\n\nA short first chapter.\n\n# Two\n\n" + "\n\n".join(
        f"The rabbit number {n} ran past the old oak tree today." for n in range(6)), encoding="utf-8")  # fmt: skip
    output = tmp_path / "story.m4b"
    seen: list[tuple[PlayableUpdated, bool]] = []
    async with running_emulator(EmulatorConfig(workers=1, latency=0.6, jitter=0.0)) as (url, _emulator):
        settings = load_settings(None, {
            "engine": "runpod", "output": {"format": "m4b", "preview_every": 30.0},
            "run": {"concurrency": 1, "max_chars": 60},
            "runpod": {"endpoint_url": url, "poll_initial": 0.05, "poll_max": 0.1},
        })  # fmt: skip
        bus = EventBus()
        bus.subscribe(lambda e: seen.append((e, partial_path(output).is_file())) if isinstance(e, PlayableUpdated)
                      else None)  # fmt: skip
        engine = build_engine(settings)
        async with Store(tmp_path / "data" / "tui-tts.db") as store:
            controller = RunController(settings, store, engine, ffmpeg, tmp_path / "data", bus)
            await controller.prepare(source, source.read_bytes(), load_document(source), output)
            outcome = await controller.execute()
        await engine.aclose()
    assert outcome.output is not None and output.is_file()
    # chapter one was playable while chapter two was still being made, from the file itself
    assert [(event.first, event.last, there) for event, there in seen] == [(1, 1, True)]
    assert not partial_path(output).exists()  # the finished book took its place
