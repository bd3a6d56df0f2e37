"""Read-along outputs from a finished run: caption sidecars, and the EPUB with synchronized narration."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from tui_tts.audio.ffmpeg import Ffmpeg
from tui_tts.audio.m4b import BookMetadata
from tui_tts.audio.seams import Pauses, plan_seams
from tui_tts.audio.stitch import ChunkAudio, Loudness, StitchResult, stitch
from tui_tts.config import Settings
from tui_tts.errors import InputError
from tui_tts.events import EventBus, LogEmitted
from tui_tts.models import Document, Section
from tui_tts.store import ChunkRecord, RunRecord, Store
from tui_tts.text.captions import CaptionFormat, caption_path, chunk_cues, write_captions
from tui_tts.text.epub import Chapter, EpubOptions, read_chapters
from tui_tts.text.epub_overlay import NarratedChapter, check_narratable, write_overlay_epub
from tui_tts.text.loading import read_input_bytes, select_chapters

READ_ALONG_READERS = "Thorium Reader, Readest, BookFusion, Apple Books"


def check_read_along_input(path: Path) -> None:
    """An .epub output is a narrated copy of an EPUB 3 input: refuse anything else before anything is paid for."""
    if path.suffix.lower() != ".epub":
        raise InputError(f"an .epub output (a copy of the book, read along) needs an EPUB input, not {path.name}")
    check_narratable(read_input_bytes(path), path.name)


def write_part_captions(
    kind: CaptionFormat, audio: Path, records: Sequence[ChunkRecord], result: StitchResult, bus: EventBus
) -> Path:
    """The sidecar beside one output file: a cue per sentence, chunk edges where the join put each chunk's speech."""
    path = caption_path(audio, kind)
    cues = chunk_cues([record.chunk.text for record in records], result.speech)
    write_captions(path, cues, kind)
    bus.emit(LogEmitted("info", f"wrote {len(cues)} captions to {path}"))
    return path


async def narrated_chapters(store: Store, run: RunRecord, records: Sequence[ChunkRecord]) -> list[Chapter]:
    """The EPUB chapters the run's sections were made from, checked against the chunks' text."""
    stored = await store.runs.settings(run.id)
    path = Path(run.input_path)
    check_read_along_input(path)
    data = read_input_bytes(path)
    front = bool(stored.get("front_matter"))
    _book, chapters = await asyncio.to_thread(read_chapters, data, str(path), EpubOptions(front, front))
    sections = [Section(chapter.title, "\n\n".join(chapter.paragraphs)) for chapter in chapters]
    if stored.get("chapters"):
        chosen = select_chapters(Document(run.title, tuple(sections)), str(stored["chapters"])).sections
        chapters = [chapter for chapter, section in zip(chapters, sections, strict=True) if section in chosen]
        sections = list(chosen)
    for record in records:
        chunk = record.chunk
        text = sections[chunk.section].text if chunk.section < len(sections) else ""
        if " ".join(text[chunk.start : chunk.end].split()) != chunk.text:
            raise InputError(f"run {run.id}: its input {path} changed since the run; its text no longer matches")
    return chapters


async def stitch_read_along(
    store: Store,
    ffmpeg: Ffmpeg,
    settings: Settings,
    work_dir: Path,
    run: RunRecord,
    records: Sequence[ChunkRecord],
    output: Path,
    bus: EventBus,
    progressed: Callable[[float, float], None],
) -> StitchResult:
    """Per-chapter audio (AAC in MP4, seams and loudness as configured), then the EPUB copy with overlays."""
    chapters = await narrated_chapters(store, run, records)
    out = settings.output
    loudness = Loudness(out.loudness, out.true_peak) if out.loudnorm else None
    pauses = Pauses(**settings.seams.model_dump(exclude={"enabled"})) if settings.seams.enabled else None
    folder = work_dir / "read-along"
    folder.mkdir(parents=True, exist_ok=True)
    narrated: list[NarratedChapter] = []
    done = 0.0
    total = sum(record.facts.duration for record in records if record.facts)
    try:
        for number, chapter in enumerate(chapters):
            mine = [record for record in records if record.chunk.section == number]
            if not mine:
                continue
            pieces = [ChunkAudio(Path(r.audio_path or ""), r.facts) for r in mine if r.facts]
            plan = plan_seams([number] * len(mine), [r.chunk.ends_paragraph for r in mine], pauses) if pauses else None
            audio = folder / f"chapter-{number + 1:03d}.m4a"
            book = BookMetadata(chapter.title, run.title)

            def report(seconds: float, _total: float, before: float = done) -> None:
                progressed(min(total, before + seconds), total)

            result = await stitch(ffmpeg, pieces, audio, "m4a", out.bitrate, folder / "work", report, book,
                                  seams=plan, loudness=loudness)  # fmt: skip
            done += sum(piece.facts.duration for piece in pieces)
            spans = [(r.chunk.index, r.chunk.start, r.chunk.end, first, last)
                     for r, (first, last) in zip(mine, result.speech, strict=True)]  # fmt: skip
            narrated.append(NarratedChapter(chapter, audio, result.duration, spans))
        data = read_input_bytes(Path(run.input_path))
        overlay = await asyncio.to_thread(write_overlay_epub, data, narrated, output, Path(run.input_path).name)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    placed = len({par.chunk for par in overlay.pars})
    bus.emit(LogEmitted("info", f"{placed}/{len(records)} chunks narrated in {output} ({len(overlay.pars)} clips); "
                        f"readers that play it: {READ_ALONG_READERS}"))  # fmt: skip
    if not overlay.active_class:
        bus.emit(LogEmitted("info", "the book's pages have no stylesheet, so no highlight class is declared: "
                            "readers highlight the sentence being read in their own style"))  # fmt: skip
    duration = sum(chapter.duration for chapter in narrated)
    return StitchResult(output, duration, output.stat().st_size, False, 0)
