"""A streaming worker's pieces (from RunPod's /stream/{id}) joined into one chunk's audio.

Three shapes are understood: pieces of one audio file, each base64 on its own (joined byte for byte); whole WAV
files, one per piece (their samples are joined); raw PCM pieces with a declared `sample_rate` (wrapped in a WAV).
"""

from __future__ import annotations

from typing import Any

import httpx

from tui_tts.audio.wav import WavError, pcm_to_wav, wav_data_span
from tui_tts.engines.base import BadOutputError
from tui_tts.engines.http import audio_from_value, dig

PCM_FORMATS = {"pcm", "pcm_s16le", "s16le", "raw"}


async def join_stream(pieces: list[Any], audio_field: str, downloader: httpx.AsyncClient, source: str) -> bytes:
    """The audio of all pieces in order. Raises BadOutputError when there is none or the shapes do not fit."""
    datas: list[bytes] = []
    rates: set[int] = set()
    pcm = False
    for piece in pieces:
        value = dig(piece, audio_field) if audio_field and isinstance(piece, dict) else piece
        if value is None and isinstance(piece, dict):
            continue  # a progress or metrics piece without audio
        datas.append(await audio_from_value(value, downloader))
        if isinstance(piece, dict):
            rate = piece.get("sample_rate")
            if isinstance(rate, int) and rate > 0:
                rates.add(rate)
            pcm = pcm or str(piece.get("format", "")).lower() in PCM_FORMATS
    if not datas:
        raise BadOutputError(f"{source} streamed no audio")
    if pcm or (rates and not datas[0].startswith(b"RIFF")):
        if len(rates) != 1:
            raise BadOutputError(f"{source} streamed PCM pieces without one declared sample_rate ({sorted(rates)})")
        samples = b"".join(datas)
        return pcm_to_wav(samples[: len(samples) // 2 * 2], rates.pop())
    if len(datas) > 1 and all(data.startswith(b"RIFF") for data in datas):
        return _join_wavs(datas, source)
    return b"".join(datas)


def _join_wavs(datas: list[bytes], source: str) -> bytes:
    """Whole WAV files, one per piece: their samples in order, under the first one's header."""
    samples = []
    layout = None
    for data in datas:
        try:
            offset, length, facts = wav_data_span(data, len(data))
        except WavError as exc:
            raise BadOutputError(f"{source} streamed a WAV piece that does not parse: {exc}") from None
        if layout is None:
            layout = facts
        elif (facts.codec, facts.sample_rate, facts.channels) != (layout.codec, layout.sample_rate, layout.channels):
            raise BadOutputError(f"{source} streamed WAV pieces of different formats")
        samples.append(data[offset : offset + length])
    assert layout is not None
    if layout.codec != "pcm_s16le":
        raise BadOutputError(f"{source} streamed WAV pieces as {layout.codec}; only 16-bit PCM pieces can be joined")
    return pcm_to_wav(b"".join(samples), layout.sample_rate, layout.channels)
