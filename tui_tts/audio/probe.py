"""Facts about audio bytes or files (codec, sample rate, channels, duration) without ffprobe."""

from __future__ import annotations

import io
import os
from pathlib import Path

import mutagen
from mutagen.aac import AAC
from mutagen.flac import FLAC
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis

from tui_tts.audio.wav import WavError, repair_wav, wav_facts
from tui_tts.models import AudioFacts

# File extension for each container, used to name chunk files.
EXTENSIONS = {"wav": "wav", "mp3": "mp3", "ogg": "ogg", "flac": "flac", "mp4": "m4a", "aac": "aac"}


class AudioError(ValueError):
    """The bytes are not audio we can use (empty, unknown format, undecodable)."""


def sniff_container(data: bytes) -> str:
    """Name the container from the first bytes; raise AudioError when it is not audio."""
    head = data[:16]
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "aac"  # ADTS: MPEG sync with layer bits 00 (an MP3 frame has layer bits 01)
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"fLaC":
        return "flac"
    if head[4:8] == b"ftyp":
        return "mp4"
    if not data:
        raise AudioError("empty audio")
    raise AudioError("not a known audio format (expected WAV, MP3, Ogg, FLAC or MP4)")


def inspect_audio(data: bytes) -> tuple[bytes, AudioFacts]:
    """Validate audio bytes and return them (WAV headers repaired) with their facts. Raises AudioError."""
    container = sniff_container(data)
    if container == "wav":
        try:
            return repair_wav(data)
        except WavError as exc:
            raise AudioError(str(exc)) from None
    facts = _mutagen_facts(io.BytesIO(data), container)
    return data, facts


def probe_file(path: Path, head_bytes: int = 65536) -> AudioFacts:
    """Facts of an audio file on disk; a WAV shorter than its header says is truncated. Raises AudioError."""
    with path.open("rb") as handle:
        head = handle.read(head_bytes)
        container = sniff_container(head)
        if container == "wav":
            try:
                return wav_facts(head, os.fstat(handle.fileno()).st_size, strict=True)
            except WavError as exc:
                raise AudioError(str(exc)) from None
        handle.seek(0)
        return _mutagen_facts(handle, container)


def _mutagen_facts(handle: io.IOBase | io.BufferedReader, container: str) -> AudioFacts:
    kinds: dict[str, tuple[type[mutagen.FileType], ...]] = {
        "mp3": (MP3,),
        "ogg": (OggOpus, OggVorbis),
        "flac": (FLAC,),
        "mp4": (MP4,),
        "aac": (AAC,),
    }
    last_error: Exception | None = None
    for kind in kinds[container]:
        handle.seek(0)
        try:
            info = kind(handle).info
        except Exception as exc:  # mutagen raises many types for bad data; any of them means "unusable"
            last_error = exc
            continue
        names = {"MP3": "mp3", "OggOpus": "opus", "OggVorbis": "vorbis", "FLAC": "flac", "MP4": "aac", "AAC": "aac"}
        codec = names[kind.__name__]
        rate = int(getattr(info, "sample_rate", 0) or (48000 if codec == "opus" else 0))
        channels = int(getattr(info, "channels", 0) or 0)
        length = float(getattr(info, "length", 0.0) or 0.0)
        if rate <= 0 or channels <= 0 or length <= 0:
            raise AudioError(f"{container} audio has no duration or no samples")
        return AudioFacts(codec, container, rate, channels, length)
    raise AudioError(f"cannot read {container} audio: {last_error}")
