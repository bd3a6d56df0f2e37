"""Seams: each chunk's own edge silence is trimmed and the pause at every boundary is the configured one, measured
in the decoded output of the real ffmpeg for WAV, MP3 and M4B, with chunks whose padding differs wildly."""

from __future__ import annotations

import array
from pathlib import Path

import pytest
from mutagen.mp4 import MP4

from tests.audio_helpers import decode_mono, encode, silent_runs, tone_pcm, write_padded_tone
from tui_tts.audio.ffmpeg import Ffmpeg
from tui_tts.audio.m4b import BookMetadata, chapter_heads
from tui_tts.audio.probe import probe_file
from tui_tts.audio.seams import Pauses, amplitude, plan_seams, trim_bounds
from tui_tts.audio.speech import speech_span, to_samples
from tui_tts.audio.stitch import ChunkAudio, stitch

RATE = 22050
PAUSES = Pauses(sentence=0.3, paragraph=0.9, chapter=2.0, start=0.4, end=1.2, edge=0.03, threshold_db=-50)
# (leading silence, tone, trailing silence) per chunk, as uneven as real engines make them.
CHUNKS = [(0.0, 1.0, 0.05), (0.6, 0.8, 1.3), (0.2, 1.1, 0.0), (0.9, 0.7, 0.4), (0.01, 0.9, 0.8), (0.3, 0.6, 0.3)]
SECTIONS = [0, 0, 0, 1, 1, 2]
ENDS_PARAGRAPH = [False, True, True, False, True, True]
# After chunk 0: sentence; 1: paragraph; 2: chapter (section change); 3: sentence; 4: chapter; 5: the end.
EXPECTED_GAPS = [0.3, 0.9, 2.0, 0.3, 2.0]


def test_speech_span_finds_the_first_and_last_loud_frames() -> None:
    pcm = bytes(2 * 1000) + tone_pcm(0.1, RATE) + bytes(2 * 500)
    first, end = speech_span(to_samples(pcm), 1, amplitude(-50))
    tone_frames = round(0.1 * RATE)
    assert first == 1001  # the sine starts at zero, its next sample is loud
    assert 1000 + tone_frames - 2 <= end <= 1000 + tone_frames
    assert speech_span(to_samples(bytes(4000)), 1, 100) == (0, 0)
    stereo = to_samples(array.array("h", [0, 0, 0, 0, 0, -900, 0, 0]).tobytes())  # frame 2's right channel is loud
    assert speech_span(stereo, 2, 100) == (2, 3)


def test_trim_bounds_keep_at_most_the_edge() -> None:
    assert trim_bounds((1000, 5000), 9000, 300) == (700, 5300)
    assert trim_bounds((100, 8900), 9000, 300) == (0, 9000)
    assert trim_bounds((0, 0), 9000, 300) == (0, 0)


def test_plan_seams_names_each_boundary() -> None:
    plan = plan_seams(SECTIONS, ENDS_PARAGRAPH, PAUSES)
    assert plan.after == (0.3, 0.9, 2.0, 0.3, 2.0, 1.2)
    assert plan.start == 0.4


def _chunks(folder: Path, ffmpeg: Ffmpeg, mp3_at: int | None = None) -> list[ChunkAudio]:
    pieces = []
    for number, (lead, tone, trail) in enumerate(CHUNKS):
        path = write_padded_tone(folder / f"{number}.wav", lead, tone, trail, RATE, 300 + 60 * number)
        if number == mp3_at:  # a compressed chunk at another rate must be decoded, trimmed and resampled
            path = encode(ffmpeg, path, folder / f"{number}.mp3", "-ar", "24000", "-c:a", "libmp3lame", "-b:a", "96k")
        pieces.append(ChunkAudio(path, probe_file(path)))
    return pieces


def _assert_gaps(samples: array.array[int], rate: int, tolerance: float) -> list[tuple[float, float]]:
    runs = silent_runs(samples, rate, amplitude(-45), shortest=0.1)
    assert len(runs) == len(EXPECTED_GAPS) + 2, runs  # the lead-in, the gaps between chunks, the tail
    lead, *gaps, tail = runs
    assert lead[0] == 0 and lead[1] == pytest.approx(PAUSES.start, abs=tolerance)
    for (_, found), expected in zip(gaps, EXPECTED_GAPS, strict=True):
        assert found == pytest.approx(expected, abs=tolerance)
    assert tail[1] == pytest.approx(PAUSES.end, abs=tolerance + 0.03)  # encoders may pad the very end
    return runs


@pytest.mark.parametrize(("format_name", "tolerance"), [("wav", 0.002), ("flac", 0.002), ("mp3", 0.015)])
async def test_pauses_are_exact_at_every_kind_of_boundary(
    tmp_path: Path, ffmpeg: Ffmpeg, format_name: str, tolerance: float
) -> None:
    pieces = _chunks(tmp_path, ffmpeg)
    plan = plan_seams(SECTIONS, ENDS_PARAGRAPH, PAUSES)
    output = tmp_path / f"book.{format_name}"
    result = await stitch(ffmpeg, pieces, output, format_name, "64k", tmp_path / "work", seams=plan)
    tones = sum(tone for _, tone, _ in CHUNKS)
    assert result.duration == pytest.approx(tones + PAUSES.start + sum(plan.after), abs=0.1)  # MP3 adds priming
    _assert_gaps(decode_mono(ffmpeg, output, RATE), RATE, tolerance)


async def test_a_compressed_chunk_at_another_rate_is_trimmed_too(tmp_path: Path, ffmpeg: Ffmpeg) -> None:
    pieces = _chunks(tmp_path, ffmpeg, mp3_at=1)
    plan = plan_seams(SECTIONS, ENDS_PARAGRAPH, PAUSES)
    output = tmp_path / "book.wav"
    await stitch(ffmpeg, pieces, output, "wav", "64k", tmp_path / "work", seams=plan)
    assert probe_file(output).sample_rate == RATE  # the majority's rate
    _assert_gaps(decode_mono(ffmpeg, output, RATE), RATE, 0.03)  # MP3's own priming blurs its edges a little


async def test_m4b_chapters_start_where_their_first_chunk_is_heard(tmp_path: Path, ffmpeg: Ffmpeg) -> None:
    pieces = _chunks(tmp_path, ffmpeg)
    plan = plan_seams(SECTIONS, ENDS_PARAGRAPH, PAUSES)
    heads = chapter_heads(SECTIONS, ["One", "Two", "Three"])
    output = tmp_path / "book.m4b"
    result = await stitch(ffmpeg, pieces, output, "m4b", "64k", tmp_path / "work",
                          book=BookMetadata("Seams", chapters=tuple(heads)), seams=plan)  # fmt: skip
    assert not (tmp_path / "work" / "audio.m4a").exists()  # the intermediate AAC is gone
    runs = _assert_gaps(decode_mono(ffmpeg, output, RATE), RATE, 0.02)
    heard = [start + length for start, length in runs]  # where each chunk's tone begins
    chapters = MP4(output).chapters
    assert [chapter.title for chapter in chapters] == ["One", "Two", "Three"]
    assert chapters[0].start == 0
    # Chapters 2 and 3 begin with chunks 3 and 5; the edge silence kept before them is at most 30 ms.
    for chapter, chunk in zip(list(chapters)[1:], (3, 5), strict=True):
        assert heard[chunk] - PAUSES.edge - 0.05 <= chapter.start <= heard[chunk] + 0.05
        assert chapter.start == pytest.approx(result.starts[chunk], abs=0.05)


async def test_without_seams_wav_chunks_still_join_by_stream_copy(tmp_path: Path, ffmpeg: Ffmpeg) -> None:
    pieces = _chunks(tmp_path, ffmpeg)
    result = await stitch(ffmpeg, pieces, tmp_path / "raw.wav", "wav", "64k", tmp_path / "work")
    assert result.copied
    assert result.duration == pytest.approx(sum(sum(chunk) for chunk in CHUNKS), abs=0.002)
