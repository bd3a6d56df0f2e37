"""The seam-aware join: each chunk in turn as PCM, its edges trimmed, exact pauses between, into one encoder's stdin.

Trimming compressed audio exactly needs decoding, so this path decodes every chunk in the process (audio/decode.py;
WAV chunks are read straight from disk) and feeds one streaming encode: a few chunks are in memory at a time, and
because every sample written is counted, chapter times are exact rather than summed from container durations.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tui_tts.audio.ffmpeg import Ffmpeg, run_ffmpeg
from tui_tts.audio.seams import SeamPlan, amplitude, trim_bounds
from tui_tts.audio.speech import level_matched, speech_span, to_samples
from tui_tts.audio.wav import WavError, wav_data_span
from tui_tts.errors import FfmpegError
from tui_tts.models import AudioFacts

SAMPLE_BYTES = 2  # s16le
PREFETCH = 3  # chunks read or decoded ahead of the one being written, in worker threads
_SILENCE_BLOCK = 1 << 20


@dataclass(frozen=True, slots=True)
class Timeline:
    """Where things landed in the joined audio."""

    starts: tuple[float, ...]  # seconds at which each chunk's kept audio begins
    duration: float  # seconds of audio written
    speech: tuple[tuple[float, float], ...] = ()  # (first, last) second of each chunk's speech, edge silence aside


async def join_with_seams(
    ffmpeg: Ffmpeg,
    chunks: Sequence[tuple[Path, AudioFacts]],
    plan: SeamPlan,
    layout: tuple[int, int],
    encode_args: list[str],
    on_progress: Callable[[float], None] | None = None,
) -> Timeline:
    """Feed every chunk, trimmed and spaced by `plan`, as PCM at `layout` (rate, channels) into one ffmpeg.

    `encode_args` are ffmpeg's arguments after the PCM input (codec, filters, muxer, output path).
    """
    rate, channels = layout
    frame_bytes = SAMPLE_BYTES * channels
    edge_frames = round(plan.edge * rate)
    threshold = amplitude(plan.threshold_db)
    starts: list[float] = []
    speech: list[tuple[float, float]] = []
    written = 0

    async def feed(stdin: asyncio.StreamWriter) -> None:
        nonlocal written

        async def write_silence(frames: int) -> None:
            nonlocal written
            remaining = max(0, frames) * frame_bytes
            written += max(0, frames)
            while remaining:
                block = min(remaining, _SILENCE_BLOCK)
                stdin.write(bytes(block))
                await stdin.drain()
                remaining -= block

        def prepare(number: int) -> asyncio.Task[tuple[bytes, int, int]]:
            return asyncio.create_task(_kept_pcm(chunks[number], layout, plan, edge_frames, threshold))

        ahead = deque(prepare(number) for number in range(min(PREFETCH, len(chunks))))
        pending_pause = plan.start
        previous_trail = 0
        try:
            for number in range(len(chunks)):
                pcm, lead, trail = await ahead.popleft()
                if number + len(ahead) + 1 < len(chunks):  # keep decoding ahead while this one is written
                    ahead.append(prepare(number + len(ahead) + 1))
                await write_silence(round(pending_pause * rate) - previous_trail - lead)
                starts.append(written / rate)
                stdin.write(pcm)
                await stdin.drain()
                kept = len(pcm) // frame_bytes
                speech.append(((written + min(lead, kept)) / rate, (written + max(kept - trail, 0)) / rate))
                written += kept
                pending_pause, previous_trail = plan.after[number], trail
            await write_silence(round(pending_pause * rate) - previous_trail)
        finally:
            for task in ahead:
                task.cancel()

    args = ["-y", "-f", "s16le", "-ar", str(rate), "-ac", str(channels), "-i", "pipe:0", *encode_args]
    await run_ffmpeg(ffmpeg, args, on_progress, feed=feed)
    return Timeline(tuple(starts), written / rate, tuple(speech))


async def _kept_pcm(
    chunk: tuple[Path, AudioFacts],
    layout: tuple[int, int],
    plan: SeamPlan,
    edge_frames: int,
    threshold: int,
) -> tuple[bytes, int, int]:
    """A chunk's PCM with its edges trimmed (and its level matched, when asked), and how many frames of its own
    silence it kept at the start and at the end. Read or decoded and analysed in a worker thread."""
    return await asyncio.to_thread(_kept, chunk, layout, plan, edge_frames, threshold)


def _kept(
    chunk: tuple[Path, AudioFacts], layout: tuple[int, int], plan: SeamPlan, edge_frames: int, threshold: int
) -> tuple[bytes, int, int]:
    pcm = chunk_pcm(chunk, layout)
    rate, channels = layout
    frame_bytes = SAMPLE_BYTES * channels
    frames = len(pcm) // frame_bytes
    span = speech_span(to_samples(pcm), channels, threshold)
    keep_from, keep_to = trim_bounds(span, frames, edge_frames)
    if keep_from == keep_to:
        return b"", 0, 0
    kept = pcm[keep_from * frame_bytes : keep_to * frame_bytes]
    if plan.level_db is not None:
        kept, _gain = level_matched(kept, channels, rate, threshold, plan.level_db)
    return kept, span[0] - keep_from, keep_to - span[1]


def chunk_pcm(chunk: tuple[Path, AudioFacts], layout: tuple[int, int]) -> bytes:
    """A chunk's samples as s16le at `layout`: read straight from a matching WAV, else decoded in this process."""
    path, facts = chunk
    if facts.container == "wav" and facts.codec == "pcm_s16le" and (facts.sample_rate, facts.channels) == layout:
        try:
            return _wav_samples(path)
        except (OSError, WavError) as exc:
            raise FfmpegError(f"cannot read chunk audio {path}: {exc}") from None
    from tui_tts.audio.decode import decode_pcm  # PyAV loads only when a chunk needs decoding

    return decode_pcm(path, facts.container, layout)


def _wav_samples(path: Path) -> bytes:
    with path.open("rb") as handle:
        head = handle.read(65536)
        offset, length, _facts = wav_data_span(head, path.stat().st_size)
        handle.seek(offset)
        return handle.read(length)
