"""Plain text: chapter headings become chapters (and nothing else does), Project Gutenberg's header and licence are
never read, and its title and author name the book."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli import tui_tts
from tui_tts.text.loading import load_document

PROSE = "It was a bright cold day in April, and the clocks were striking thirteen. " * 3


def book(*blocks: str) -> str:
    return "\n\n".join(blocks) + "\n"


def titles(tmp_path: Path, text: str, **options: bool) -> list[str]:
    path = tmp_path / "book.txt"
    path.write_text(text, encoding="utf-8")
    return [section.title for section in load_document(path, **options).sections]


def test_the_ways_books_write_chapter_headings(tmp_path: Path) -> None:
    alice = book("CHAPTER I.\nDown the Rabbit-Hole", PROSE, "CHAPTER II.\nThe Pool of Tears", PROSE)
    assert titles(tmp_path, alice) == ["CHAPTER I. Down the Rabbit-Hole", "CHAPTER II. The Pool of Tears"]
    assert titles(tmp_path, book("Chapter 1", PROSE, "Chapter 2", PROSE, "Chapter 3", PROSE)) == [
        "Chapter 1", "Chapter 2", "Chapter 3"]  # fmt: skip
    assert titles(tmp_path, book("CHAPTER THE FIRST", PROSE, "CHAPTER THE SECOND", PROSE)) == [
        "CHAPTER THE FIRST", "CHAPTER THE SECOND"]  # fmt: skip
    assert titles(tmp_path, book("I", "The Garden", PROSE, "II", "The Wall", PROSE, "III", PROSE)) == [
        "I: The Garden", "II: The Wall", "III"]  # fmt: skip
    assert titles(tmp_path, book("Chapter Twenty-One: Home", PROSE, "Chapter Twenty-Two: Away", PROSE)) == [
        "Chapter Twenty-One: Home", "Chapter Twenty-Two: Away"]  # fmt: skip


def test_volume_book_and_part_are_a_level_above(tmp_path: Path) -> None:
    text = book("VOLUME I", "CHAPTER I", PROSE, "CHAPTER II", PROSE, "VOLUME II", "CHAPTER I", PROSE,
                "BOOK THREE", "An introduction to the third book, before its first chapter.", "Chapter 1", PROSE,
                "PART 4", "Chapter 1", PROSE)  # fmt: skip
    path = tmp_path / "volumes.txt"
    path.write_text(text, encoding="utf-8")
    sections = load_document(path).sections
    assert [s.title for s in sections] == [
        "VOLUME I, CHAPTER I", "VOLUME I, CHAPTER II", "VOLUME II, CHAPTER I", "BOOK THREE", "BOOK THREE, Chapter 1",
        "PART 4, Chapter 1"]  # fmt: skip
    assert sections[0].text.startswith("VOLUME I\n\nCHAPTER I\n\nIt was")  # the headings are read, nothing is lost
    assert sum(len("".join(s.text.split())) for s in sections) == len("".join(text.split()))


def test_no_false_chapters_in_ordinary_prose(tmp_path: Path) -> None:
    prose = book(
        "Chapter 1 of my life was spent in a small town, where nothing much happened to anyone.",
        "I", "Part of the problem was the rain.", "Book learning, she said, is not everything.",
        "1. Eggs\n2. Flour\n3. Milk", "IV", "Volume 2 of the encyclopedia was missing, as always.",
        "Chapter 7", PROSE, "II", PROSE,
    )  # fmt: skip
    assert titles(tmp_path, prose) == ["book"]  # one heading alone is not believed; 'I', 'IV', 'II' are not in order


def test_a_contents_list_is_not_a_chapter(tmp_path: Path) -> None:
    text = book("CONTENTS", "CHAPTER I. Loomings", "CHAPTER II. The Carpet-Bag", "CHAPTER I. Loomings", PROSE,
                "CHAPTER II. The Carpet-Bag", PROSE)  # fmt: skip
    assert titles(tmp_path, text) == ["book", "CHAPTER I. Loomings", "CHAPTER II. The Carpet-Bag"]


def test_no_chapters_turns_detection_off(tmp_path: Path) -> None:
    assert titles(tmp_path, book("Chapter 1", PROSE, "Chapter 2", PROSE), detect_chapters=False) == ["book"]


GUTENBERG = """\ufeffThe Project Gutenberg eBook of Moby Dick; Or, The Whale

This ebook is for the use of anyone anywhere in the United States and
most other parts of the world at no cost and with almost no restrictions
whatsoever.

Title: Moby Dick; Or, The Whale

Author: Herman Melville

Release date: June 1, 2001 [eBook #2701]

*** START OF THE PROJECT GUTENBERG EBOOK MOBY DICK; OR, THE WHALE ***

MOBY-DICK;

or, THE WHALE.

CHAPTER 1. Loomings.

Call me Ishmael. Some years ago—never mind how long precisely—having
little or no money in my purse, I thought I would sail about a little.

CHAPTER 2. The Carpet-Bag.

I stuffed a shirt or two into my old carpet-bag, tucked it under my arm.

*** END OF THE PROJECT GUTENBERG EBOOK MOBY DICK; OR, THE WHALE ***

Updated editions will replace the previous one--the old editions will
be renamed.

START: FULL LICENSE

THE FULL PROJECT GUTENBERG LICENSE
PLEASE READ THIS BEFORE YOU DISTRIBUTE OR USE THIS WORK
"""


def test_project_gutenberg_header_and_licence_are_never_read(tmp_path: Path) -> None:
    path = tmp_path / "pg2701.txt"
    path.write_text(GUTENBERG, encoding="utf-8")
    document = load_document(path)
    assert (document.title, document.author) == ("Moby Dick; Or, The Whale", "Herman Melville")
    assert [s.title for s in document.sections] == ["Moby Dick; Or, The Whale", "CHAPTER 1. Loomings",
                                                    "CHAPTER 2. The Carpet-Bag"]  # fmt: skip
    everything = "".join(s.text for s in document.sections)
    for never in ("Project Gutenberg", "LICENSE", "ebook", "Release date", "***"):
        assert never not in everything
    assert everything.endswith("tucked it under my arm.")
    assert document.coverage is not None and document.coverage.unexplained == 0
    assert document.coverage.left_out[0][0] == "Project Gutenberg header and licence"


def test_the_bundled_sample_stays_one_block(tmp_path: Path) -> None:
    sample = Path(__file__).parent.parent / "tui_tts" / "samples" / "alice-rabbit-hole.txt"
    document = load_document(sample)
    assert [s.title for s in document.sections] == ["alice-rabbit-hole"]
    assert document.coverage is not None and document.coverage.read == document.coverage.total


@pytest.mark.slow
def test_list_chapters_shows_what_was_found_and_the_coverage(tmp_path: Path) -> None:
    path = tmp_path / "pg2701.txt"
    path.write_text(GUTENBERG, encoding="utf-8")
    listing = tui_tts("run", str(path), "--list-chapters")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert lines[0] == "Moby Dick; Or, The Whale by Herman Melville: 3 chapters"
    assert lines[1].startswith("text: ") and "left out: Project Gutenberg header and licence" in lines[1]
    assert "unexplained" not in lines[1]
    assert "CHAPTER 2. The Carpet-Bag" in listing.stdout
    flat = tui_tts("run", str(path), "--list-chapters", "--no-chapters")
    assert flat.stdout.splitlines()[0].endswith(": 1 chapters")
