"""From a finished run's chunks to the output file(s): seams, loudness, chapters, and parts for very long books."""

from __future__ import annotations

import asyncio
import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tui_tts.audio.ffmpeg import Ffmpeg
from tui_tts.audio.formats import FORMATS
from tui_tts.audio.m4b import BookMetadata, chapter_heads
from tui_tts.audio.seams import Pauses, plan_seams
from tui_tts.audio.stitch import ChunkAudio, Loudness, StitchResult, stitch
from tui_tts.config import Settings
from tui_tts.errors import RunAborted
from tui_tts.events import EventBus, LogEmitted, StitchFinished, StitchProgressed
from tui_tts.models import ChunkState, Document
from tui_tts.run.preview import remove_partial
from tui_tts.run.stitch_progress import StitchPace
from tui_tts.store import ChunkRecord, RunRecord, Store


@dataclass(frozen=True, slots=True)
class Part:
    """A run of consecutive chunks that becomes one output file."""

    first: int
    stop: int  # one past the last chunk


def split_parts(
    lengths: Sequence[float], sections: Sequence[int], ends_paragraph: Sequence[bool], limit: float
) -> list[Part]:
    """Cut a book longer than `limit` seconds into parts no longer than that where the book allows it.

    Cuts go at chapter starts; a chapter longer than the limit is cut at paragraph ends, and a paragraph longer
    than the limit between chunks. Greedy, so every part but the last is as full as the limit lets it be.
    """
    count = len(lengths)
    prefix = list(itertools.accumulate(lengths, initial=0.0))
    if limit <= 0 or prefix[-1] <= limit:
        return [Part(0, count)]
    chapters = [i for i in range(1, count) if sections[i] != sections[i - 1]]
    paragraphs = [i for i in range(1, count) if sections[i] != sections[i - 1] or ends_paragraph[i - 1]]
    parts: list[Part] = []
    first = 0
    while first < count:
        furthest = bisect.bisect_right(prefix, prefix[first] + limit) - 1  # the last stop that still fits
        stop = count if furthest >= count else max(first + 1, furthest)  # one chunk over the limit: its own part
        if furthest < count:
            for cuts in (chapters, paragraphs):
                best = bisect.bisect_right(cuts, furthest) - 1
                if best >= 0 and cuts[best] > first:
                    stop = cuts[best]
                    break
        parts.append(Part(first, stop))
        first = stop
    return parts


def part_path(output: Path, number: int, count: int) -> Path:
    """`Book.m4b` -> `Book - Part 2.m4b` (numbers padded so the files sort in order)."""
    if count == 1:
        return output
    width = len(str(count))
    return output.with_name(f"{output.stem} - Part {number:0{width}d}{output.suffix}")


def pauses_from(settings: Settings) -> Pauses | None:
    seams = settings.seams
    if not seams.enabled:
        return None
    return Pauses(**seams.model_dump(exclude={"enabled"}))


async def stitch_run(
    store: Store,
    ffmpeg: Ffmpeg,
    settings: Settings,
    data_dir: Path,
    run: RunRecord,
    records: list[ChunkRecord],
    output: Path,
    format_name: str,
    bus: EventBus,
    document: Document | None = None,
    allow_gaps: bool = False,
) -> StitchResult:
    """Join a run's chunk audio, in order, into output (or its parts); record the result on the run.

    An M4B gets a chapter per section at the chunk boundaries, and the document's title, author and cover.
    With `allow_gaps`, chunks that failed for good are left out (the run stays 'failed': it is not whole).
    """
    failed = [r for r in records if r.state == ChunkState.FAILED]
    if allow_gaps and failed:
        records = [r for r in records if r.state != ChunkState.FAILED]
        if not records:
            raise RunAborted(f"cannot stitch run {run.id}: every chunk failed, there is nothing to join")
    pieces = [ChunkAudio(Path(r.audio_path), r.facts) for r in records if r.audio_path and r.facts]
    if len(pieces) != len(records) or any(r.state != ChunkState.DONE for r in records):
        missing = sum(1 for r in records if r.state != ChunkState.DONE)
        hint = f" ({len(failed)} failed for good: 'tui-tts retry' them, or stitch --allow-gaps)" if failed else ""
        raise RunAborted(f"cannot stitch run {run.id}: {missing} chunk(s) are not done yet; resume it first{hint}")
    out = settings.output
    work_dir = data_dir / "runs" / run.id / "stitch"
    if FORMATS[format_name].read_along:
        from tui_tts.run.read_along import stitch_read_along

        total = sum(piece.facts.duration for piece in pieces)
        pace = StitchPace()

        def narrated(done: float, _total: float) -> None:
            bus.emit(StitchProgressed(done, total, pace.eta(done, total)))

        result = await stitch_read_along(store, ffmpeg, settings, work_dir, run, records, output, bus, narrated)
        result = await _finished(store, run, (output, work_dir), format_name, result, pieces, bus, out.keep_chunks)
        return _gaps_left(store, run, result, allow_gaps and bool(failed))
    sections = [r.chunk.section for r in records]
    ends_paragraph = [r.chunk.ends_paragraph for r in records]
    pauses = pauses_from(settings)
    seams = plan_seams(sections, ends_paragraph, pauses) if pauses else None
    lengths = [p.facts.duration + (seams.after[n] if seams else 0.0) for n, p in enumerate(pieces)]
    parts = split_parts(lengths, sections, ends_paragraph, settings.output.part_hours * 3600)
    with_chapters = FORMATS[format_name].chapters
    titles = await store.runs.section_titles(run.id) if with_chapters else []
    loudness = Loudness(out.loudness, out.true_peak) if out.loudnorm else None
    results: list[StitchResult] = []
    done_before = 0.0
    total = sum(lengths)

    pace = StitchPace()

    def progressed(done: float, _total: float) -> None:
        so_far = min(total, done_before + done)
        bus.emit(StitchProgressed(so_far, total, pace.eta(so_far, total)))

    for number, part in enumerate(parts, start=1):
        path = part_path(output, number, len(parts))
        span = slice(part.first, part.stop)
        bus.emit(LogEmitted("info", f"stitching {part.stop - part.first} chunks into {path}"))
        book = None
        if with_chapters:
            continued = part.first > 0 and sections[part.first - 1] == sections[part.first]
            book = _book(run, document, titles, sections[span], (number, len(parts)), continued)
        plan = plan_seams(sections[span], ends_paragraph[span], pauses) if pauses else None
        result = await stitch(ffmpeg, pieces[span], path, format_name, out.bitrate,
                              work_dir, progressed, book, seams=plan, loudness=loudness)  # fmt: skip
        results.append(result)
        if out.captions:
            from tui_tts.run.read_along import write_part_captions

            write_part_captions(out.captions, path, records[span], result, bus)
        done_before += sum(lengths[span])
    duration = sum(r.duration for r in results)
    size = sum(r.size_bytes for r in results)
    first = results[0]
    combined = StitchResult(first.path, duration, size, first.copied, sum(r.normalized for r in results),
                            first.starts, tuple(r.path for r in results))  # fmt: skip
    result = await _finished(store, run, (output, work_dir), format_name, combined, pieces, bus, out.keep_chunks)
    return _gaps_left(store, run, result, allow_gaps and bool(failed))


def _gaps_left(store: Store, run: RunRecord, result: StitchResult, gaps: bool) -> StitchResult:
    """A book written with chunks left out (--allow-gaps) is not whole: its run stays 'failed'."""
    if gaps:
        store.runs.set_state(run.id, "failed")
    return result


async def _finished(
    store: Store,
    run: RunRecord,
    written: tuple[Path, Path],
    format_name: str,
    result: StitchResult,
    pieces: list[ChunkAudio],
    bus: EventBus,
    keep_chunks: bool,
) -> StitchResult:
    """Record the written output on the run, say so, drop the partial book, and the chunk audio when the config
    asks."""
    output, work_dir = written
    remove_partial(output, work_dir)
    store.runs.record_output(run.id, str(output.resolve()), format_name, result.duration, result.size_bytes)
    bus.emit(StitchFinished(str(result.path), result.duration, result.size_bytes, result.copied))
    if not keep_chunks:
        await asyncio.to_thread(_remove_chunk_audio, pieces)
    return result


def _book(
    run: RunRecord,
    document: Document | None,
    titles: list[str],
    sections: Sequence[int],
    part: tuple[int, int],
    continued: bool,
) -> BookMetadata:
    """Tags and chapters for one part; a part that starts inside a chapter names it as continued."""
    heads = chapter_heads(sections, titles)
    if continued:
        heads[0] = (f"{heads[0][0]} (continued)", 0)
    title = run.title if document is None else document.title
    return BookMetadata(title, document.author if document else "", document.cover if document else None,
                        tuple(heads), part if part[1] > 1 else None)  # fmt: skip


def _remove_chunk_audio(pieces: list[ChunkAudio]) -> None:
    """Delete the chunk audio of a run whose output was verified; an empty chunk folder marks a run as such."""
    for piece in pieces:
        piece.path.unlink(missing_ok=True)
    for folder in {piece.path.parent for piece in pieces}:
        try:
            folder.rmdir()
        except OSError:  # something else lives there: leave it
            pass


def missing_text(records: Sequence[ChunkRecord], titles: Sequence[str], words: int = 8) -> list[str]:
    """One line per chunk that failed for good: chunk, chapter and first words (what a gapped book lacks)."""
    lines = []
    for record in records:
        if record.state != ChunkState.FAILED:
            continue
        chunk = record.chunk
        title = titles[chunk.section] if chunk.section < len(titles) else ""
        head = chunk.text.split()
        opening = " ".join(head[:words]) + (" …" if len(head) > words else "")
        chapter = f"chapter {chunk.section + 1}" + (f" '{title}'" if title else "")  # quoted as written: no escapes
        lines.append(f"chunk {chunk.index + 1}, {chapter}: '{opening}'")
    return lines
