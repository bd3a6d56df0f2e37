"""The files on disk are checked against their records: truncated chunk audio is redone, never stitched in."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import signal
import sqlite3
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.audio_helpers import tone_pcm
from tests.waiting import wait_until
from tui_tts.audio.ffmpeg import Ffmpeg
from tui_tts.audio.probe import AudioError, inspect_audio, probe_file
from tui_tts.audio.wav import pcm_to_wav

STORY = "\n\n".join(
    f"Part {p}. The quick brown fox jumps over the lazy dog, and then sleeps a while." for p in range(12)
)


def test_a_wav_cut_short_on_disk_is_not_audio(tmp_path: Path) -> None:
    whole = pcm_to_wav(tone_pcm(0.8, 24_000), 24_000)
    path = tmp_path / "000001.wav"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(AudioError, match="truncated"):
        probe_file(path)
    path.write_bytes(whole)
    assert probe_file(path).duration == pytest.approx(0.8, abs=0.001)


def test_placeholder_sizes_still_mean_to_the_end_of_the_file(tmp_path: Path) -> None:
    streamed = bytearray(pcm_to_wav(tone_pcm(0.5, 24_000), 24_000))
    struct.pack_into("<I", streamed, 40, 0xFFFFFFFF)  # what streaming servers send
    path = tmp_path / "streamed.wav"
    path.write_bytes(streamed)
    assert probe_file(path).duration == pytest.approx(0.5, abs=0.001)
    assert inspect_audio(bytes(streamed))[1].duration == pytest.approx(0.5, abs=0.001)


def test_a_float_wav_is_stored_with_its_true_data_size(tmp_path: Path) -> None:
    samples = struct.pack("<4800f", *([0.25] * 4800))
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 0xFFFFFFFF, b"WAVE", b"fmt ", 16, 3, 1, 24_000, 96_000, 4, 32,
                         b"data", 0x7FFFF000)  # fmt: skip
    repaired, facts = inspect_audio(header + samples)
    assert facts.codec == "pcm_f32le" and facts.duration == pytest.approx(0.2)
    assert struct.unpack_from("<I", repaired, 40)[0] == len(samples)
    path = tmp_path / "float.wav"
    path.write_bytes(repaired)
    assert probe_file(path).duration == pytest.approx(0.2)


@pytest.mark.slow
def test_truncated_chunks_are_redone_on_resume_and_the_output_is_whole(tmp_path: Path, ffmpeg: Ffmpeg) -> None:
    book = tmp_path / "story.txt"
    book.write_text(STORY, encoding="utf-8")
    config = tmp_path / "c.toml"
    config.write_text('engine = "local"\n[run]\nmax_chars = 90\n[seams]\nenabled = false\n')
    data, output = tmp_path / "data", tmp_path / "story.wav"
    command = [sys.executable, "-m", "tui_tts", "run", str(book), "-c", str(config), "--data-dir", str(data), "-o",
               str(output), "--headless"]  # fmt: skip
    first = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    whole = probe_file(output).duration
    with sqlite3.connect(data / "tui-tts.db") as db:
        paths = [Path(row[0]) for row in db.execute("SELECT audio_path FROM chunks ORDER BY idx")]
    assert len(paths) >= 10
    for path in paths[1:10:2]:  # five chunks cut to half their size, header untouched
        size = path.stat().st_size
        with path.open("r+b") as handle:
            handle.truncate(size // 2)
    output.unlink()
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    resumed = re.search(r"resuming: (\d+)/(\d+) done", again.stderr)
    assert resumed is not None, again.stderr
    assert int(resumed.group(1)) == len(paths) - 5 and int(resumed.group(2)) == len(paths)
    assert probe_file(output).duration == pytest.approx(whole, abs=0.05)
    for path in paths[1:10:2]:
        assert probe_file(path).duration > 0.5


def test_a_chunk_shorter_than_its_record_is_not_accepted_even_with_a_placeholder_header(tmp_path: Path) -> None:
    from tui_tts.run.chunk_files import chunk_audio_facts

    whole = bytearray(pcm_to_wav(tone_pcm(0.8, 24_000), 24_000))
    struct.pack_into("<I", whole, 40, 0xFFFFFFFF)  # no size to compare the file with: only the record can tell
    path = tmp_path / "000003.wav"
    path.write_bytes(whole[: len(whole) // 2])
    recorded = probe_file(path)
    assert recorded.duration == pytest.approx(0.4, abs=0.001)
    assert chunk_audio_facts(path, None) == recorded  # no record (adopted from disk): whole audio is enough
    assert chunk_audio_facts(path, dataclasses.replace(recorded, duration=0.8)) is None
    assert chunk_audio_facts(path, dataclasses.replace(recorded, duration=0.405)) == recorded
    assert chunk_audio_facts(tmp_path / "000004.wav", None) is None


@pytest.mark.slow
@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT])
def test_stitch_stops_on_a_signal_and_leaves_no_part_file(tmp_path: Path, number: signal.Signals) -> None:
    from bench.reconcile import finished_run

    source, config = asyncio.run(finished_run(tmp_path, 1500))  # 12.5 minutes of audio: an encode of a few seconds
    output = tmp_path / "book.mp3"
    partial = output.with_name(f".{output.name}.part")
    command = [sys.executable, "-m", "tui_tts", "stitch", "last", "-c", str(config), "--data-dir",
               str(tmp_path / "data"), "-o", str(output)]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    assert wait_until(partial.exists, 120), "the stitch never started writing"
    process.send_signal(number)
    _stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert not partial.exists() and not output.exists()
    assert source.exists()
