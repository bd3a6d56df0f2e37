"""M4B output: chapters at the measured chunk boundaries (within 50 ms), title, author and cover, read back."""

from __future__ import annotations

from pathlib import Path

import pytest
from mutagen.mp4 import MP4

from tests.audio_helpers import write_tone
from tests.test_cli import tui_tts
from tests.test_epub import build_epub
from tui_tts.audio.ffmpeg import Ffmpeg
from tui_tts.audio.m4b import BookMetadata, chapter_heads, timed_chapters
from tui_tts.audio.probe import probe_file
from tui_tts.audio.stitch import ChunkAudio, stitch

JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a1f1e"
    "1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001000101011100ffc4001f0000010501"
    "010101010100000000000000000102030405060708090a0bffc400b5100002010303020403050504040000017d0102030004110512213141"
    "0613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a5354"
    "55565758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9"
    "bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008010100003f00fbd3ffd9"
)


def test_chapters_start_at_each_new_section_at_its_chunks_start() -> None:
    heads = chapter_heads([0, 0, 1, 1, 1, 2], ["One", "Two", "Three"])
    assert heads == [("One", 0), ("Two", 2), ("Three", 5)]
    book = BookMetadata("B", chapters=tuple(heads))
    assert timed_chapters(book, [0.2, 1.7, 3.5, 4.75, 5.75, 6.75]) == [("One", 0.0), ("Two", 3.5), ("Three", 6.75)]


async def test_m4b_has_chapters_tags_and_cover(tmp_path: Path, ffmpeg: Ffmpeg) -> None:
    durations = [1.3, 0.7, 2.1, 0.9, 1.6]
    paths = [write_tone(tmp_path / f"{n}.wav", seconds, 22050, 300 + 40 * n) for n, seconds in enumerate(durations)]
    pieces = [ChunkAudio(path, probe_file(path)) for path in paths]
    heads = tuple(chapter_heads([0, 0, 1, 2, 2], ["Opening", "Middle = part; #2", "End"]))
    book = BookMetadata("A Test Book", "Ada Author", JPEG, heads)
    chapters = [("Opening", 0.0), ("Middle = part; #2", 2.0), ("End", 4.1)]
    output = tmp_path / "book.m4b"
    result = await stitch(ffmpeg, pieces, output, "m4b", "64k", tmp_path / "work", book=book)
    assert not result.copied
    assert result.duration == pytest.approx(sum(durations), abs=0.1)
    audio = MP4(output)
    found = [(chapter.title, chapter.start) for chapter in audio.chapters]
    assert [title for title, _ in found] == ["Opening", "Middle = part; #2", "End"]
    for (_, start), (_, expected) in zip(found, chapters, strict=True):
        assert start == pytest.approx(expected, abs=0.05)
    assert audio.tags["\xa9nam"] == ["A Test Book"] and audio.tags["\xa9ART"] == ["Ada Author"]
    assert audio.tags["covr"]
    with output.open("rb") as handle:  # +faststart: the moov atom comes before the audio data
        head = handle.read(4096)
    assert head.find(b"moov") != -1 and (head.find(b"mdat") == -1 or head.find(b"moov") < head.find(b"mdat"))


@pytest.mark.slow
def test_an_epub_becomes_an_m4b_with_its_chapters_and_cover(tmp_path: Path) -> None:
    book = build_epub(tmp_path / "book.epub", cover=JPEG)
    output = tmp_path / "book.m4b"
    result = tui_tts("run", str(book), "-o", str(output), "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 0, result.stderr
    audio = MP4(output)
    assert [c.title for c in audio.chapters] == ["Chapter One", "Chapter Two", "Chapter Three"]
    assert audio.tags["\xa9ART"] == ["Ada Author"] and audio.tags["covr"]
    again = tmp_path / "again.m4b"
    assert tui_tts("stitch", "last", "-o", str(again), "--data-dir", str(tmp_path / "d")).returncode == 0
    assert [c.title for c in MP4(again).chapters] == ["Chapter One", "Chapter Two", "Chapter Three"]


async def test_a_cover_that_does_not_decode_is_left_out(tmp_path: Path, ffmpeg: Ffmpeg) -> None:
    piece = write_tone(tmp_path / "a.wav", 1.0, 22050)
    book = BookMetadata("Title", "", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, (("Only", 0),))
    output = tmp_path / "book.m4b"
    await stitch(ffmpeg, [ChunkAudio(piece, probe_file(piece))], output, "m4b", "64k", tmp_path / "w", book=book)
    audio = MP4(output)
    assert [c.title for c in audio.chapters] == ["Only"] and not audio.tags.get("covr")
