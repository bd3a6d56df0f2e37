"""Join chunk audio into one file with ffmpeg's concat demuxer: stream copy when formats allow, else one encode.

The concat demuxer keeps only the first file's codec parameters, so chunks whose codec, sample rate or channel count
differ from the rest are first converted one by one to match; the join itself then streams file by file, and memory
stays flat however many chunks there are.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tui_tts.audio.ffmpeg import Ffmpeg, image_decodes, run_ffmpeg
from tui_tts.audio.formats import FORMATS, FormatSpec
from tui_tts.audio.m4b import BookMetadata, cover_file, m4b_arguments, timed_chapters, verify_m4b, write_ffmetadata
from tui_tts.audio.probe import EXTENSIONS, AudioError, probe_file
from tui_tts.audio.seams import SeamPlan
from tui_tts.errors import FfmpegError
from tui_tts.models import AudioFacts


@dataclass(frozen=True, slots=True)
class ChunkAudio:
    path: Path
    facts: AudioFacts


# How to re-encode one odd chunk so that it matches the majority's stream parameters.
_NORMALIZE_CODEC = {
    "mp3": ("-c:a", "libmp3lame", "-b:a", "192k"),
    "opus": ("-c:a", "libopus", "-b:a", "128k"),
    "flac": ("-c:a", "flac"),
    "aac": ("-c:a", "aac", "-b:a", "192k"),
    "vorbis": ("-c:a", "libvorbis", "-q:a", "6"),
}


@dataclass(frozen=True, slots=True)
class StitchResult:
    path: Path
    duration: float
    size_bytes: int
    copied: bool
    normalized: int  # how many odd chunks were converted before the join
    starts: tuple[float, ...] = ()  # seconds at which each chunk begins in the output
    parts: tuple[Path, ...] = ()  # every file written, when a long book was split into parts
    speech: tuple[tuple[float, float], ...] = ()  # (start, end) of each chunk's speech in the output, in seconds

    @property
    def files(self) -> tuple[Path, ...]:
        return self.parts or (self.path,)

    @property
    def written(self) -> str:
        """What was written, for messages: the path, or how many parts and their names."""
        if len(self.files) == 1:
            return str(self.path)
        return f"{len(self.files)} parts ({', '.join(path.name for path in self.files)})"


def concat_line(path: Path, resolved: bool = False) -> str:
    """One `file` line of a concat list, quoted by ffmpeg's rules: inside '...' all is literal but ' itself."""
    text = (path if resolved else path.resolve()).as_posix()
    if "\n" in text or "\r" in text:
        raise FfmpegError(f"a chunk path contains a line break, which ffmpeg's concat list cannot hold: {text!r}")
    return "file '" + text.replace("'", "'\\''") + "'\n"


def write_concat_list(paths: Sequence[Path], list_path: Path, header_only_probe: bool = False) -> None:
    """Write the list as UTF-8 without a BOM (a BOM breaks ffmpeg's parser), streaming line by line.

    `header_only_probe` tells ffmpeg not to analyse each file's packets: right for WAV, whose header says everything,
    and ten times faster over thousands of chunks (ffmpeg otherwise spends ~7 ms probing each one).
    """
    with list_path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write("ffconcat version 1.0\n")
        folders: dict[Path, Path] = {}  # chunks share a folder: resolve it once, not once per chunk
        for path in paths:
            folder = folders.get(path.parent)
            if folder is None:
                folder = folders[path.parent] = path.parent.resolve()
            handle.write(concat_line(folder / path.name, resolved=True))
            if header_only_probe:
                handle.write("option probesize 4096\noption analyzeduration 0\n")


def plan_copy(chunks: Sequence[ChunkAudio], target: FormatSpec) -> bool:
    """Stream copy only when every chunk shares one stream layout and the target can hold that codec."""
    keys = {chunk.facts.stream_key for chunk in chunks}
    return len(keys) == 1 and next(iter(keys))[0] in target.copyable


def majority_key(chunks: Sequence[ChunkAudio]) -> tuple[str, int, int]:
    """The stream layout most of the audio is in; the odd chunks get converted to it."""
    weights: Counter[tuple[str, int, int]] = Counter()
    for chunk in chunks:
        weights[chunk.facts.stream_key] += 1
    return weights.most_common(1)[0][0]


@dataclass(frozen=True, slots=True)
class Loudness:
    """EBU R128 loudness normalisation inside the one final encode (ffmpeg's loudnorm, single pass)."""

    target: float = -18.0  # integrated loudness, LUFS
    true_peak: float = -1.5  # dBTP
    lra: float = 7.0  # loudness range, LU: narrow, for speech, so quiet and loud chunks move closer

    def filter_args(self, rate: int) -> list[str]:
        # loudnorm works at 192 kHz inside; -ar brings the output back to the chunks' rate.
        return ["-af", f"loudnorm=I={self.target}:TP={self.true_peak}:LRA={self.lra}", "-ar", str(rate)]


async def stitch(
    ffmpeg: Ffmpeg,
    chunks: Sequence[ChunkAudio],
    output: Path,
    format_name: str,
    bitrate: str,
    work_dir: Path,
    on_progress: Callable[[float, float], None] | None = None,
    book: BookMetadata | None = None,
    *,
    seams: SeamPlan | None = None,
    loudness: Loudness | None = None,
) -> StitchResult:
    """Join chunks in order into output (written to a temp file, verified, then renamed into place).

    Without `seams` the chunks join as they are, through the concat demuxer (stream copy when formats allow); with
    `seams` each chunk's edge silence is trimmed and exact pauses go between them. For M4B, `book` gives the
    chapters, tags and cover. `loudness` normalises inside the encode; with seams, every chunk's speech level is
    matched to the target first, so there are no jumps at seams for loudnorm to chase.
    """
    if not chunks:
        raise FfmpegError("nothing to stitch: no chunk audio")
    missing = [chunk.path for chunk in chunks if not chunk.path.is_file()]
    if missing:  # ffmpeg's concat demuxer skips a missing file and still exits 0: check first
        raise FfmpegError(f"{len(missing)} chunk audio file(s) are missing, e.g. {missing[0]}")
    work_dir.mkdir(parents=True, exist_ok=True)
    target = FORMATS[format_name]
    if target.chapters:
        book = book or BookMetadata(output.stem)
    _codec, rate, channels = majority_key(chunks)
    estimate = sum(chunk.facts.duration for chunk in chunks) + (sum(seams.after) + seams.start if seams else 0.0)
    progress = (lambda seconds: on_progress(min(seconds, estimate), estimate)) if on_progress else None
    filters = loudness.filter_args(rate) if loudness else []
    if seams is not None and loudness is not None and seams.level_db is None:
        seams = dataclasses.replace(seams, level_db=loudness.target)  # even chunks first, then loudnorm
    partial = output.with_name(f".{output.name}.part")
    intermediate = work_dir / "audio.m4a"  # the seam path's AAC, before chapters, tags and cover are muxed in
    try:
        if seams is not None:
            from tui_tts.audio.pcm_join import join_with_seams  # numpy is loaded only when seams need it

            audio_target = intermediate if book is not None else partial
            muxer = "mp4" if book is not None else target.muxer
            extra = target.extra if book is None else ()  # +faststart belongs to the final mux
            encode = [*_codec_args(target, bitrate), *filters, *extra, "-f", muxer, str(audio_target)]
            timeline = await join_with_seams(
                ffmpeg, [(c.path, c.facts) for c in chunks], seams, (rate, channels), encode, progress
            )
            expected, starts, copied, normalized = timeline.duration, timeline.starts, False, 0
            speech = timeline.speech
            audio_input, audio_codec = ["-i", str(audio_target)], ["-c:a", "copy"]
        else:
            list_path, copied, normalized = await _concat_list(ffmpeg, chunks, target, work_dir, bool(filters))
            expected = sum(chunk.facts.duration for chunk in chunks)
            starts = tuple(itertools.accumulate((c.facts.duration for c in chunks[:-1]), initial=0.0))
            speech = tuple((start, start + c.facts.duration) for start, c in zip(starts, chunks, strict=True))
            audio_input = ["-f", "concat", "-safe", "0", "-i", str(list_path)]
            audio_codec = ["-c", "copy"] if copied else [*_codec_args(target, bitrate), *filters]
            if book is None:
                args = ["-y", *audio_input, "-map", "0:a", "-vn", "-map_metadata", "-1", *audio_codec, *target.extra,
                        "-f", target.muxer, str(partial)]  # fmt: skip
                await run_ffmpeg(ffmpeg, args, progress)
        if book is not None:
            await _mux_m4b(ffmpeg, book, timed_chapters(book, starts), expected, audio_input, audio_codec, partial,
                           work_dir, progress if seams is None else None)  # fmt: skip
        duration = verify_output(partial, expected)
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
        intermediate.unlink(missing_ok=True)
    if on_progress:
        on_progress(estimate, estimate)
    return StitchResult(output, duration, output.stat().st_size, copied, normalized, starts, speech=speech)


def _codec_args(target: FormatSpec, bitrate: str) -> list[str]:
    return [arg.replace("{bitrate}", bitrate) for arg in target.encode]


async def _concat_list(
    ffmpeg: Ffmpeg, chunks: Sequence[ChunkAudio], target: FormatSpec, work_dir: Path, filtering: bool
) -> tuple[Path, bool, int]:
    """The concat list (odd chunks converted to match the rest first), and whether the join can be a stream copy."""
    key = majority_key(chunks)
    sources, normalized = await _normalize_outliers(ffmpeg, chunks, key, work_dir)
    copied = not filtering and plan_copy(
        [ChunkAudio(path, _with_key(chunk.facts, key)) for path, chunk in zip(sources, chunks, strict=True)], target
    )
    list_path = work_dir / "concat.txt"
    write_concat_list(sources, list_path, header_only_probe=all(path.suffix.lower() == ".wav" for path in sources))
    return list_path, copied, normalized


async def _mux_m4b(
    ffmpeg: Ffmpeg,
    book: BookMetadata,
    chapters: list[tuple[str, float]],
    total: float,
    audio_input: list[str],
    audio_codec: list[str],
    partial: Path,
    work_dir: Path,
    progress: Callable[[float], None] | None,
) -> None:
    """Audio plus chapters, tags and cover into one MP4, verified by reading it back."""
    metadata = work_dir / "chapters.ffmetadata"
    write_ffmetadata(metadata, book, chapters, total)
    cover = cover_file(work_dir, book.cover) if book.cover else None
    if cover is not None and not await image_decodes(ffmpeg, cover):
        book = dataclasses.replace(book, cover=None)  # a broken cover must never cost the audiobook
        cover = None
    await run_ffmpeg(ffmpeg, ["-y", *m4b_arguments(audio_input, metadata, cover, audio_codec), str(partial)], progress)
    verify_m4b(partial, book, chapters)


def _with_key(facts: AudioFacts, key: tuple[str, int, int]) -> AudioFacts:
    return AudioFacts(key[0], facts.container, key[1], key[2], facts.duration)


async def _normalize_outliers(
    ffmpeg: Ffmpeg, chunks: Sequence[ChunkAudio], key: tuple[str, int, int], work_dir: Path
) -> tuple[list[Path], int]:
    codec, rate, channels = key
    majority_container = next(chunk.facts.container for chunk in chunks if chunk.facts.stream_key == key)
    extension = EXTENSIONS.get(majority_container, majority_container)
    codec_args = ("-c:a", codec) if codec.startswith("pcm_") else _NORMALIZE_CODEC.get(codec)
    sources: list[Path] = []
    converted = 0
    for number, chunk in enumerate(chunks):
        if chunk.facts.stream_key == key:
            sources.append(chunk.path)
            continue
        if codec_args is None:
            raise FfmpegError(f"cannot convert chunk audio to {codec} to match the other chunks")
        target = work_dir / "normalized" / f"{number:06d}.{extension}"
        target.parent.mkdir(parents=True, exist_ok=True)
        await run_ffmpeg(
            ffmpeg,
            [
                "-y",
                "-i",
                str(chunk.path),
                "-map",
                "0:a",
                "-ar",
                str(rate),
                "-ac",
                str(channels),
                *codec_args,
                str(target),
            ],
        )
        sources.append(target)
        converted += 1
    return sources, converted


def verify_output(path: Path, expected_seconds: float) -> float:
    """The output exists, is not empty, and lasts as long as its chunks (within a small tolerance)."""
    if not path.exists() or path.stat().st_size == 0:
        raise FfmpegError(f"ffmpeg wrote no output to {path}")
    try:
        facts = probe_file(path)
    except AudioError as exc:
        raise FfmpegError(f"the stitched output does not read back as audio: {exc}") from None
    # Encoders add priming and padding; lossy chunks joined by copy keep theirs per file (~50 ms at most).
    tolerance = 0.25 + 0.002 * expected_seconds
    if abs(facts.duration - expected_seconds) > tolerance:
        raise FfmpegError(
            f"stitched output lasts {facts.duration:.2f} s, but its chunks add up to {expected_seconds:.2f} s"
        )
    return facts.duration
