"""Stitching with the real ffmpeg: order, copy vs encode, mixed sample rates, list quoting, verification."""

from __future__ import annotations

import array
import dataclasses
from pathlib import Path

import pytest

from tests.audio_helpers import decode_mono, dominant_frequency, encode, write_tone
from tui_tts.audio.ffmpeg import Ffmpeg, find_ffmpeg
from tui_tts.audio.probe import probe_file
from tui_tts.audio.stitch import FORMATS, ChunkAudio, concat_line, plan_copy, stitch, verify_output
from tui_tts.audio.wav import pcm_to_wav
from tui_tts.errors import FfmpegError


def chunk(path: Path) -> ChunkAudio:
    return ChunkAudio(path, probe_file(path))


async def test_order_is_kept_across_600_chunks_by_copy_and_by_encode(tmp_path: Path, ffmpeg: Ffmpeg) -> None:
    rate = 8000
    pieces = []
    for n in range(600):  # each chunk is 80 samples of its own constant value: the output must list them in order
        path = tmp_path / f"{n:06d}.wav"
        path.write_bytes(pcm_to_wav(array.array("h", [n * 50 - 15000] * 80).tobytes(), rate))
        pieces.append(chunk(path))
    expected = [n * 50 - 15000 for n in range(600)]
    for format_name in ("wav", "flac"):
        output = tmp_path / f"out.{format_name}"
        result = await stitch(ffmpeg, pieces, output, format_name, "64k", tmp_path / "work")
        assert result.copied == (format_name == "wav")
        samples = decode_mono(ffmpeg, output, rate)
        assert len(samples) == 600 * 80
        assert [samples[n * 80 + 40] for n in range(600)] == expected


async def test_copy_is_chosen_only_when_formats_allow(tmp_path: Path, ffmpeg: Ffmpeg) -> None:
    wavs = [chunk(write_tone(tmp_path / f"{n}.wav", 0.5, 22050)) for n in range(3)]
    mp3s = [chunk(encode(ffmpeg, w.path, tmp_path / f"{n}.mp3", "-c:a", "libmp3lame", "-b:a", "64k"))
            for n, w in enumerate(wavs)]  # fmt: skip
    assert plan_copy(wavs, FORMATS["wav"])
    assert not plan_copy(wavs, FORMATS["mp3"])
    assert plan_copy(mp3s, FORMATS["mp3"])
    assert not plan_copy(mp3s, FORMATS["opus"])
    mixed_rate = [*wavs, chunk(write_tone(tmp_path / "odd.wav", 0.5, 44100))]
    assert not plan_copy(mixed_rate, FORMATS["wav"])
    result = await stitch(ffmpeg, mp3s, tmp_path / "joined.mp3", "mp3", "64k", tmp_path / "w1")
    assert result.copied
    assert result.duration == pytest.approx(sum(m.facts.duration for m in mp3s), abs=0.1)
    for format_name in ("mp3", "opus"):
        result = await stitch(ffmpeg, wavs, tmp_path / f"joined.{format_name}", format_name, "48k", tmp_path / "w2")
        assert not result.copied
        assert result.duration == pytest.approx(1.5, abs=0.1)


async def test_a_chunk_at_another_sample_rate_plays_at_the_right_speed(tmp_path: Path, ffmpeg: Ffmpeg) -> None:
    pieces = [
        chunk(write_tone(tmp_path / "a.wav", 1.0, 22050, 440.0)),
        chunk(write_tone(tmp_path / "b.wav", 1.0, 44100, 440.0)),  # the odd one out
        chunk(write_tone(tmp_path / "c.wav", 1.0, 22050, 440.0)),
    ]
    for format_name in ("wav", "mp3"):
        output = tmp_path / f"mixed.{format_name}"
        result = await stitch(ffmpeg, pieces, output, format_name, "64k", tmp_path / f"work-{format_name}")
        assert result.normalized == 1
        assert result.duration == pytest.approx(3.0, abs=0.1)
        samples = decode_mono(ffmpeg, output, 22050)
        middle = samples[int(1.2 * 22050) : int(1.8 * 22050)]
        assert dominant_frequency(middle, 22050) == pytest.approx(440.0, rel=0.02)


@pytest.mark.parametrize("name", ["with space", "it's quoted", "back\\slash", "ünïcødé 'both' x"])
async def test_list_file_quoting_survives_awkward_paths(tmp_path: Path, ffmpeg: Ffmpeg, name: str) -> None:
    folder = tmp_path / name
    folder.mkdir()
    pieces = [chunk(write_tone(folder / f"{name} {n}.wav", 0.3, 16000)) for n in range(3)]
    output = tmp_path / f"{name} out.wav"
    result = await stitch(ffmpeg, pieces, output, "wav", "64k", folder / "work dir")
    assert result.duration == pytest.approx(0.9, abs=0.01)
    assert (folder / "work dir" / "concat.txt").read_bytes().startswith(b"ffconcat version 1.0\nfile '")


def test_concat_line_escapes_single_quotes() -> None:
    assert concat_line(Path("/a/it's.wav")) == "file '/a/it'\\''s.wav'\n"
    with pytest.raises(FfmpegError):
        concat_line(Path("/a/line\nbreak.wav"))


async def test_progress_is_reported_and_the_temp_file_is_gone(tmp_path: Path, ffmpeg: Ffmpeg) -> None:
    pieces = [chunk(write_tone(tmp_path / f"{n}.wav", 2.0, 22050)) for n in range(5)]
    seen: list[tuple[float, float]] = []
    output = tmp_path / "out.mp3"
    await stitch(ffmpeg, pieces, output, "mp3", "64k", tmp_path / "w", lambda d, t: seen.append((d, t)))
    assert seen[-1] == (pytest.approx(10.0), pytest.approx(10.0))
    assert all(total == pytest.approx(10.0) for _, total in seen)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_verification_catches_a_short_or_empty_output(tmp_path: Path) -> None:
    short = write_tone(tmp_path / "short.wav", 1.0, 8000)
    assert verify_output(short, 1.0) == pytest.approx(1.0)
    with pytest.raises(FfmpegError, match=r"lasts 1\.00 s, but its chunks add up to 5\.00 s"):
        verify_output(short, 5.0)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(FfmpegError, match="no output"):
        verify_output(empty, 1.0)


async def test_a_missing_chunk_file_is_caught_before_ffmpeg_skips_it(tmp_path: Path, ffmpeg: Ffmpeg) -> None:
    good = chunk(write_tone(tmp_path / "good.wav", 0.5, 8000))
    gone = ChunkAudio(tmp_path / "deleted.wav", good.facts)
    with pytest.raises(FfmpegError, match="1 chunk audio file\\(s\\) are missing"):
        await stitch(ffmpeg, [good, gone], tmp_path / "out.wav", "wav", "64k", tmp_path / "w")
    assert not (tmp_path / "out.wav").exists()


async def test_ffmpeg_failure_is_a_clear_error_and_leaves_no_output(tmp_path: Path, ffmpeg: Ffmpeg) -> None:
    good = chunk(write_tone(tmp_path / "good.wav", 0.5, 8000))
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"RIFF" + b"\x00" * 200)
    with pytest.raises(FfmpegError, match="ffmpeg failed"):
        await stitch(ffmpeg, [ChunkAudio(garbage, good.facts)], tmp_path / "out.wav", "wav", "64k", tmp_path / "w")
    assert not (tmp_path / "out.wav").exists()


def test_ffmpeg_is_found_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundled = find_ffmpeg()
    assert bundled.source in {"PATH", "imageio-ffmpeg"}
    fake = tmp_path / "ffmpeg"
    fake.write_text(f"#!/bin/sh\nexec '{bundled.path}' \"$@\"\n")
    fake.chmod(0o755)
    assert find_ffmpeg(str(fake)).source == "config"
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_ffmpeg().source == "PATH"
    broken = tmp_path / "broken"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(FfmpegError, match="does not run"):
        find_ffmpeg(str(broken))


def test_no_working_ffmpeg_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import imageio_ffmpeg

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", lambda: (_ for _ in ()).throw(RuntimeError("none")))
    with pytest.raises(FfmpegError, match="no working ffmpeg found"):
        find_ffmpeg()


def test_wav_with_placeholder_sizes_is_repaired() -> None:
    from tui_tts.audio.probe import inspect_audio

    good = pcm_to_wav(b"\x01\x00" * 24000, 24000)
    placeholder = good[:4] + b"\xff\xff\xff\xff" + good[8:40] + b"\xff\xff\xff\xff" + good[44:]
    repaired, facts = inspect_audio(placeholder)
    assert facts.duration == pytest.approx(1.0)
    assert repaired == good


async def test_a_broken_chunk_stops_the_seam_aware_join_cleanly(tmp_path: Path, ffmpeg: Ffmpeg) -> None:
    from tui_tts.audio.seams import Pauses, plan_seams

    good = chunk(write_tone(tmp_path / "good.wav", 0.5, 8000))
    broken_wav = tmp_path / "broken.wav"
    broken_wav.write_bytes(b"RIFF" + b"\x00" * 200)
    broken_mp3 = tmp_path / "broken.mp3"
    broken_mp3.write_bytes(b"ID3" + b"\x00" * 500)
    mp3_facts = dataclasses.replace(good.facts, codec="mp3", container="mp3")
    plan = plan_seams([0, 0, 0], [False] * 3, Pauses())
    for bad, message in ((ChunkAudio(broken_wav, good.facts), "cannot read chunk audio"),
                         (ChunkAudio(broken_mp3, mp3_facts), "cannot decode chunk audio")):  # fmt: skip
        with pytest.raises(FfmpegError, match=message):
            await stitch(ffmpeg, [good, bad, good], tmp_path / "out.mp3", "mp3", "64k", tmp_path / "w", seams=plan)
        assert not (tmp_path / "out.mp3").exists() and not (tmp_path / ".out.mp3.part").exists()
