"""A growing playable book: while a run goes on, `<output>.partial.<ext>` holds the longest finished prefix of chapters.

Each chapter is joined once, when its last chunk is done (seams and loudness as in the finished book; the pause
after it is the chapter pause), into a cache beside the run; the partial file is then the cached chapters joined
by stream copy, with chapter markers, renamed into place. Separately encoded chapters meet inside the 2 s pause
between chapters, where their encoder padding cannot be heard. It runs beside the workers, one job at a time, its
ffmpeg at a lower priority, and goes away when the finished book is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from tui_tts.audio.ffmpeg import Ffmpeg, low_priority, run_ffmpeg
from tui_tts.audio.formats import FORMATS
from tui_tts.audio.m4b import BookMetadata, write_ffmetadata
from tui_tts.audio.probe import AudioError, probe_file
from tui_tts.audio.seams import Pauses, plan_seams
from tui_tts.audio.stitch import ChunkAudio, Loudness, stitch, write_concat_list
from tui_tts.config import Settings
from tui_tts.errors import FfmpegError
from tui_tts.events import ChunkSucceeded, Event, EventBus, LogEmitted, PlayableUpdated
from tui_tts.models import AudioFacts, Chunk
from tui_tts.run.progress import playable_text
from tui_tts.store import ChunkRecord, RunRecord, Store


def partial_path(output: Path) -> Path:
    """`book.m4b` -> `book.partial.m4b`."""
    return output.with_name(f"{output.stem}.partial{output.suffix}")


class PlayablePreview:
    """Keeps the partial book up to date from chunk events; `start()` it beside the workers, `close()` it after."""

    def __init__(self, ffmpeg: Ffmpeg, settings: Settings, work_dir: Path, output: Path, format_name: str,
                 chunks: Sequence[Chunk], titles: Sequence[str], title: str, bus: EventBus) -> None:  # fmt: skip
        self.ffmpeg, self.settings, self.bus = ffmpeg, settings, bus
        self.folder = work_dir / "preview"
        self.output, self.format_name, self.title = output, format_name, title
        self.path = partial_path(output)
        self.chapters: list[list[Chunk]] = []
        for chunk in chunks:
            if not self.chapters or self.chapters[-1][-1].section != chunk.section:
                self.chapters.append([])
            self.chapters[-1].append(chunk)
        self.titles = [titles[c[0].section] if c[0].section < len(titles) else f"Chapter {n + 1}"
                       for n, c in enumerate(self.chapters)]  # fmt: skip
        self.done: dict[int, ChunkAudio] = {}
        self.joined: list[tuple[Path, float]] = []  # cached chapter files, in order, and their durations
        self.every = settings.output.preview_every
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe = bus.subscribe(self._on_event)

    def start(self, records: Sequence[ChunkRecord]) -> None:
        """Begin with the chunks already done (earlier sessions), then follow the run."""
        for record in records:
            if record.audio_path and record.facts and record.state == "done":
                self.done[record.chunk.index] = ChunkAudio(Path(record.audio_path), record.facts)
        self._wake.set()
        self._task = asyncio.create_task(self._loop())
        self._task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:  # never silent, never the run's end
            self.bus.emit(LogEmitted("warning", f"the playable preview stopped: {task.exception()!r}"))

    async def close(self) -> None:
        """Stop following the run; the partial file stays until the finished book replaces it."""
        self._unsubscribe()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _on_event(self, event: Event) -> None:
        if isinstance(event, ChunkSucceeded):
            container = "wav" if event.codec.startswith("pcm_") else Path(event.audio_path).suffix.lstrip(".")
            facts = AudioFacts(event.codec, container, event.sample_rate, event.channels, event.duration)
            self.done[event.index] = ChunkAudio(Path(event.audio_path), facts)
            if self._ready() > len(self.joined):
                self._wake.set()

    def _ready(self) -> int:
        """How many chapters, from the first, have every chunk done."""
        count = 0
        for chapter in self.chapters:
            if any(chunk.index not in self.done for chunk in chapter):
                break
            count += 1
        return count

    async def _loop(self) -> None:
        low_priority.set(True)  # this task's ffmpeg runs niced: synthesis comes first
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.every)
            self._wake.clear()
            try:
                await self.refresh()
            except (FfmpegError, AudioError, OSError) as exc:  # a preview must never cost the run
                self.bus.emit(LogEmitted("warning", f"the playable preview was not updated: {exc}"))

    async def refresh(self) -> bool:
        """Join the chapters finished since the last time and rewrite the partial book; False when nothing changed."""
        ready = self._ready()
        if ready <= len(self.joined) or ready == len(self.chapters):  # all done: the finished book comes next
            return False
        self.folder.mkdir(parents=True, exist_ok=True)
        while len(self.joined) < ready:
            self.joined.append(await self._join_chapter(len(self.joined)))
        await self._write_partial()
        seconds = sum(duration for _path, duration in self.joined)
        self.bus.emit(PlayableUpdated(str(self.path), seconds, 1, len(self.joined)))
        self.bus.emit(LogEmitted("info", f"{playable_text(seconds, 1, len(self.joined))} in {self.path}"))
        return True

    async def _join_chapter(self, number: int) -> tuple[Path, float]:
        chapter = self.chapters[number]
        seams = self.settings.seams
        pauses = Pauses(**seams.model_dump(exclude={"enabled"})) if seams.enabled else None
        plan = None
        if pauses is not None:
            plan = plan_seams([c.section for c in chapter], [c.ends_paragraph for c in chapter], pauses)
            plan = dataclasses.replace(plan, after=(*plan.after[:-1], pauses.chapter),
                                       start=pauses.start if number == 0 else 0.0)  # fmt: skip
        out = self.settings.output
        loudness = Loudness(out.loudness, out.true_peak) if out.loudnorm else None
        cache_format = "m4a" if FORMATS[self.format_name].chapters else self.format_name
        path = self.folder / f"chapter-{number + 1:05d}.{cache_format}"
        pieces = [self.done[c.index] for c in chapter]
        # What the cached file was made from: a resumed run re-uses it when nothing that shapes it changed.
        key = hashlib.sha256(repr((plan, loudness, out.bitrate, [(str(p.path), p.facts) for p in pieces])).encode())
        stamp = path.with_name(path.name + ".key")
        with contextlib.suppress(OSError, AudioError):
            if stamp.read_text(encoding="utf-8") == key.hexdigest():
                return path, probe_file(path).duration
        result = await stitch(self.ffmpeg, pieces, path, cache_format, out.bitrate, self.folder / "work", None,
                              seams=plan, loudness=loudness)  # fmt: skip
        stamp.write_text(key.hexdigest(), encoding="utf-8")
        return path, result.duration

    async def _write_partial(self) -> None:
        target = FORMATS[self.format_name]
        files = [path for path, _duration in self.joined]
        list_path = self.folder / "concat.txt"
        write_concat_list(files, list_path)
        args = ["-y", "-f", "concat", "-safe", "0", "-i", str(list_path)]
        if target.chapters:
            starts, at = [], 0.0
            for title, (_path, duration) in zip(self.titles, self.joined, strict=False):
                starts.append((title, at))
                at += duration
            metadata = self.folder / "chapters.ffmetadata"
            write_ffmetadata(metadata, BookMetadata(f"{self.title} (playable so far)"), starts, at)
            args += ["-f", "ffmetadata", "-i", str(metadata), "-map_metadata", "1", "-map_chapters", "1"]
        temporary = self.path.with_name(f".{self.path.name}.part")
        args += ["-map", "0:a", "-c", "copy", *target.extra, "-f", target.muxer, str(temporary)]
        try:
            await run_ffmpeg(self.ffmpeg, args)
            probe_file(temporary)  # it reads back as audio before it replaces the last one
            os.replace(temporary, self.path)
        finally:
            temporary.unlink(missing_ok=True)


async def start_preview(
    store: Store,
    ffmpeg: Ffmpeg,
    settings: Settings,
    data_dir: Path,
    run: RunRecord,
    chunks: Sequence[Chunk],
    bus: EventBus,
) -> PlayablePreview | None:
    """The growing playable book beside the workers; None when `output.preview_every` is 0 or the output is an EPUB."""
    if settings.output.preview_every <= 0 or FORMATS[run.output_format].read_along:
        return None
    titles = await store.runs.section_titles(run.id)
    preview = PlayablePreview(ffmpeg, settings, data_dir / "runs" / run.id / "stitch", Path(run.output_path),
                              run.output_format, chunks, titles, run.title, bus)  # fmt: skip
    preview.start(await store.chunks.load(run.id))
    return preview


def remove_partial(output: Path, work_dir: Path) -> None:
    """The finished book is written: the partial one goes, and so does its cache."""
    partial_path(output).unlink(missing_ok=True)
    shutil.rmtree(work_dir / "preview", ignore_errors=True)
