"""The finished file: parts for very long books, book tags from flags, loudness normalisation in the final encode."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from mutagen.mp4 import MP4

from tests.audio_helpers import tone_pcm
from tests.test_cli import tui_tts
from tests.test_m4b import JPEG
from tui_tts.audio.ffmpeg import Ffmpeg
from tui_tts.audio.probe import probe_file
from tui_tts.audio.stitch import ChunkAudio, Loudness, stitch
from tui_tts.audio.wav import pcm_to_wav
from tui_tts.run.assemble import Part, part_path, split_parts


def test_no_split_when_the_book_fits_or_splitting_is_off() -> None:
    assert split_parts([10, 10, 10], [0, 1, 2], [True] * 3, 0) == [Part(0, 3)]
    assert split_parts([10, 10, 10], [0, 1, 2], [True] * 3, 30) == [Part(0, 3)]


def test_parts_are_cut_at_chapter_starts() -> None:
    lengths = [10, 10, 10, 10, 10, 10]
    sections = [0, 0, 1, 1, 2, 2]
    assert split_parts(lengths, sections, [False, True] * 3, 45) == [Part(0, 4), Part(4, 6)]


def test_a_chapter_longer_than_a_part_is_cut_at_paragraph_ends_then_anywhere() -> None:
    lengths = [10] * 6
    ends = [False, True, False, False, False, True]
    assert split_parts(lengths, [0] * 6, ends, 35) == [Part(0, 2), Part(2, 5), Part(5, 6)]
    assert split_parts([50, 10], [0, 0], [False, True], 20) == [Part(0, 1), Part(1, 2)]


def test_part_names_sort_in_order() -> None:
    assert part_path(Path("/b/Book.m4b"), 1, 1) == Path("/b/Book.m4b")
    assert part_path(Path("/b/Book.m4b"), 3, 12) == Path("/b/Book - Part 03.m4b")


def _book(tmp_path: Path) -> Path:
    text = tmp_path / "book.md"
    chapters = [f"# Chapter {n}\n\n" + " ".join(f"Sentence {n}.{i} of the chapter." for i in range(12))
                for n in range(1, 5)]  # fmt: skip
    text.write_text("\n\n".join(chapters) + "\n", encoding="utf-8")
    return text


@pytest.mark.slow
def test_a_long_book_is_split_into_parts_each_with_its_chapters(tmp_path: Path) -> None:
    text = _book(tmp_path)
    whole = tui_tts("run", str(text), "-o", str(tmp_path / "whole.m4b"), "--data-dir", str(tmp_path / "d"))
    assert whole.returncode == 0, whole.stderr
    total = probe_file(tmp_path / "whole.m4b").duration
    hours = total * 0.6 / 3600  # a bit over half the book per part: two parts
    result = tui_tts("stitch", "last", "-o", str(tmp_path / "book.m4b"), "--data-dir", str(tmp_path / "d"),
                     "--part-hours", f"{hours:.6f}", "--title", "Split Book")  # fmt: skip
    assert result.returncode == 0, result.stderr
    parts = sorted(tmp_path.glob("book - Part *.m4b"))
    assert [p.name for p in parts] == ["book - Part 1.m4b", "book - Part 2.m4b"]
    assert result.stdout.split("\n")[:2] == [str(p) for p in parts]  # one path per line, for scripts
    assert "2 parts (book - Part 1.m4b, book - Part 2.m4b)" in result.stderr
    assert not (tmp_path / "book.m4b").exists()
    durations = [probe_file(p).duration for p in parts]
    assert all(d <= hours * 3600 + 0.5 for d in durations)
    assert sum(durations) == pytest.approx(total, abs=1.5)  # each part has its own lead-in and tail
    titles = [[c.title for c in MP4(p).chapters] for p in parts]
    assert titles == [["Chapter 1", "Chapter 2"], ["Chapter 3", "Chapter 4"]]
    tags = MP4(parts[1]).tags
    assert tags["\xa9nam"] == ["Split Book (Part 2 of 2)"] and tags["\xa9alb"] == ["Split Book"]
    assert tags["trkn"] == [(2, 2)]


@pytest.mark.slow
def test_title_author_and_cover_flags_tag_the_audiobook(tmp_path: Path) -> None:
    cover = tmp_path / "cover.jpg"
    cover.write_bytes(JPEG)
    output = tmp_path / "tagged.m4b"
    result = tui_tts("run", str(_book(tmp_path)), "-o", str(output), "--data-dir", str(tmp_path / "d"),
                     "--title", "My Title", "--author", "Some One", "--cover", str(cover))  # fmt: skip
    assert result.returncode == 0, result.stderr
    tags = MP4(output).tags
    assert tags["\xa9nam"] == ["My Title"] and tags["\xa9ART"] == ["Some One"] and tags["covr"]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--cover", "missing.jpg"], "cannot read the cover image"),
        (["--cover", "book.md"], "the cover must be a JPEG or PNG image"),
        (["--part-hours", "-1"], "hours must be between 0"),
        (["--title", " "], "--title must not be empty"),
    ],
)
def test_bad_finishing_flags_are_one_line_errors(tmp_path: Path, flags: list[str], message: str) -> None:
    text = _book(tmp_path)
    flags = [str(tmp_path / flag) if flag.endswith((".jpg", ".md")) else flag for flag in flags]
    result = tui_tts("run", str(text), "-o", str(tmp_path / "x.m4b"), "--data-dir", str(tmp_path / "d"), *flags)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2  # argparse adds a usage line


def integrated_loudness(ffmpeg: Ffmpeg, path: Path) -> tuple[float, float]:
    """(integrated loudness in LUFS, true peak in dBTP), measured by ffmpeg's ebur128 filter."""
    report = subprocess.run([ffmpeg.path, "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128=peak=true",
                             "-f", "null", "-"], capture_output=True, text=True, check=True).stderr  # fmt: skip
    summary = report[report.rindex("Summary:") :]
    loudness = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))  # type: ignore[union-attr]
    peak = float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1))  # type: ignore[union-attr]
    return loudness, peak


def chunk_loudness(ffmpeg: Ffmpeg, path: Path, starts: list[float], seconds: float) -> list[float]:
    """Integrated loudness of a stretch inside each chunk (skipping its first second, where the filter adapts)."""
    found = []
    for start in starts:
        report = subprocess.run([ffmpeg.path, "-hide_banner", "-nostats", "-ss", f"{start + 1:.3f}", "-t", str(seconds),
                                 "-i", str(path), "-af", "ebur128", "-f", "null", "-"],
                                capture_output=True, text=True, check=True).stderr  # fmt: skip
        found.append(float(re.findall(r"I:\s+(-?[\d.]+) LUFS", report)[-1]))
    return found


@pytest.mark.parametrize("seamed", [False, True])
async def test_loudnorm_evens_out_chunks_and_nears_the_target(tmp_path: Path, ffmpeg: Ffmpeg, seamed: bool) -> None:
    from tui_tts.audio.seams import SeamPlan

    pieces = []
    for number, amplitude in enumerate([1500, 5000, 1800, 6000]):  # chunks 12 dB apart, as engines make them
        path = tmp_path / f"{number}.wav"
        path.write_bytes(pcm_to_wav(tone_pcm(4.0, 22050, 330 + 50 * number, amplitude), 22050))
        pieces.append(ChunkAudio(path, probe_file(path)))
    raw = tmp_path / "raw.wav"
    plain = await stitch(ffmpeg, pieces, raw, "wav", "96k", tmp_path / "w0")
    output = tmp_path / "even.wav"
    plan = SeamPlan((0.3, 0.3, 0.3, 0.5), 0.2, 0.03, -50) if seamed else None
    even = await stitch(ffmpeg, pieces, output, "wav", "96k", tmp_path / "w1", seams=plan, loudness=Loudness())
    before, _ = integrated_loudness(ffmpeg, raw)
    after, peak = integrated_loudness(ffmpeg, output)
    assert before < -20.5  # away from the target to begin with
    assert peak <= -1.0
    spread_before = chunk_loudness(ffmpeg, raw, list(plain.starts), 2.5)
    spread_after = chunk_loudness(ffmpeg, output, list(even.starts), 2.5)
    assert max(spread_before) - min(spread_before) > 10
    if seamed:  # every chunk's level is matched before the encode: no jumps left, and the target is met
        assert max(spread_after) - min(spread_after) < 1.0
        assert after == pytest.approx(-18.0, abs=1.0)
    else:  # loudnorm alone (seams off) adapts as it goes: it nears the target but leaves most of the jumps
        assert after == pytest.approx(-18.0, abs=2.5)
    assert probe_file(output).sample_rate == 22050  # loudnorm's 192 kHz does not leak into the file
