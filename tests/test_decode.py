"""In-process decoding (PyAV) gives exactly the samples the ffmpeg command line gives, for every chunk format."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.audio_helpers import encode, write_tone
from tui_tts.audio.decode import decode_pcm
from tui_tts.audio.ffmpeg import Ffmpeg
from tui_tts.audio.probe import probe_file
from tui_tts.errors import FfmpegError

FORMATS = [  # (file name, ffmpeg encode arguments)
    ("chunk.mp3", ("-b:a", "64k")),
    ("chunk.ogg", ("-c:a", "libopus", "-b:a", "48k")),
    ("chunk.m4a", ("-c:a", "aac", "-b:a", "64k")),
    ("chunk.aac", ("-c:a", "aac", "-b:a", "64k")),
    ("chunk.flac", ("-c:a", "flac")),
    ("chunk.wav", ("-ar", "44100", "-ac", "2")),
]


def ffmpeg_pcm(ffmpeg: Ffmpeg, path: Path, rate: int, channels: int) -> bytes:
    return subprocess.run(
        [ffmpeg.path, "-v", "error", "-i", str(path), "-map", "0:a:0", "-f", "s16le", "-ar", str(rate),
         "-ac", str(channels), "-"], check=True, capture_output=True,
    ).stdout  # fmt: skip


@pytest.mark.parametrize(("name", "args"), FORMATS)
async def test_decoded_samples_match_the_ffmpeg_command_line(
    tmp_path: Path, ffmpeg: Ffmpeg, name: str, args: tuple[str, ...]
) -> None:
    source = write_tone(tmp_path / "tone.wav", 1.3, 24000, 330.0)
    chunk = encode(ffmpeg, source, tmp_path / name, *args)
    container = probe_file(chunk).container
    for layout in [(24000, 1), (44100, 2)]:
        expected = ffmpeg_pcm(ffmpeg, chunk, *layout)
        assert len(expected) > 0
        assert decode_pcm(chunk, container, layout) == expected, (name, layout)


async def test_undecodable_audio_is_one_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"ID3" + bytes(10) + b"not audio at all" * 100)
    with pytest.raises(FfmpegError, match="cannot decode chunk audio"):
        decode_pcm(broken, "mp3", (24000, 1))
