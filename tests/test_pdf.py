"""PDF input: pages in order, running headers, footers and page numbers gone, hyphenated words whole again,
paragraphs rebuilt, chapters from the outline or from heading lines; a scan without text is one clear error."""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import pytest

from tests.pdf_writer import Line, write_pdf
from tests.test_cli import tui_tts
from tui_tts.errors import InputError
from tui_tts.text.loading import load_document

WORDS = ("the whale swam slowly through extraordinarily grey water while sailors watched considerable "
         "distances unfolding beyond remembrance and nobody spoke").split()  # fmt: skip


def paragraph(seed: int, words: int) -> str:
    """Prose that never repeats a line (running headers are lines that do)."""
    pick = random.Random(seed)
    text = " ".join(pick.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


CHAPTERS = [(f"Chapter {n}", [paragraph(n * 10 + p, 80 + 60 * p) for p in range(5)]) for n in range(1, 4)]


def wrap(text: str) -> list[str]:
    """Lines of about 70 characters, a long word at a line's start split with a hyphen onto the line before."""
    lines = textwrap.wrap(text, 64, break_long_words=False)
    for n in range(len(lines) - 1):
        first, _, rest = lines[n + 1].partition(" ")
        if len(first) >= 9 and first.isalpha() and rest:
            lines[n] += " " + first[:4] + "-"
            lines[n + 1] = first[4:] + " " + rest
    return lines


FURNITURE: list[str] = []  # what lay_out put in the margins: running headers and page numbers


def lay_out(chapters: list[tuple[str, list[str]]]) -> tuple[list[list[Line]], list[tuple[str, int]]]:
    """Pages with the chapter's running header and its page number (none on a chapter's first page, as books do),
    a foot of the book's title and the page number, or the number alone; 14 pt lines, indented paragraphs, a 16 pt
    heading for each chapter."""
    pages: list[list[Line]] = []
    outline: list[tuple[str, int]] = []
    y = 0.0
    FURNITURE.clear()

    def new_page(opening: bool = False) -> None:
        nonlocal y
        number = len(pages) + 1
        foot = f"The Test Book, page {number}" if number % 2 == 0 else str(number)
        pages.append([(250, 36, 9, foot)])
        if not opening:
            pages[-1].append((200, 760, 9, f"{title}: the story so far {number}"))
        FURNITURE.extend(text for _, _, _, text in pages[-1])
        y = 710.0

    for title, paragraphs in chapters:
        new_page(opening=True)
        outline.append((title, len(pages) - 1))
        pages[-1].append((72, y, 16, title))
        y -= 30
        for text in paragraphs:
            for n, line in enumerate(wrap(text)):
                if y < 90:
                    new_page()
                pages[-1].append((90 if n == 0 else 72, y, 11, line))
                y -= 14
    return pages, outline


def test_a_text_pdf_reads_as_its_book(tmp_path: Path) -> None:
    pages, outline = lay_out(CHAPTERS)
    path = write_pdf(tmp_path / "book.pdf", pages, tuple(outline), title="The Test Book", author="Ada Author")
    assert len(pages) >= 6  # paragraphs run across pages
    document = load_document(path)
    assert (document.title, document.author) == ("The Test Book", "Ada Author")
    assert [(s.title, s.text) for s in document.sections] == [
        (title, "\n\n".join([title, *paragraphs])) for title, paragraphs in CHAPTERS]  # fmt: skip
    coverage = document.coverage
    assert coverage is not None and coverage.unexplained / coverage.total < 0.02
    removed = sum(len("".join(text.split())) for text in FURNITURE)
    hyphens = sum(1 for lines in pages for _, _, size, text in lines if size == 11 and text.endswith("-"))
    assert coverage.left_out == (("running headers, footers and page numbers", removed),
                                 ("hyphens of words split at line ends", hyphens))  # fmt: skip
    assert coverage.unexplained == 0
    assert coverage.pictures == 0


def test_a_page_without_text_is_counted(tmp_path: Path) -> None:
    pages, outline = lay_out(CHAPTERS[:1])
    document = load_document(write_pdf(tmp_path / "mixed.pdf", [*pages, []], tuple(outline)))
    assert document.coverage is not None and document.coverage.pictures == 1


def test_without_an_outline_the_heading_lines_make_the_chapters(tmp_path: Path) -> None:
    pages, _ = lay_out(CHAPTERS)
    document = load_document(write_pdf(tmp_path / "plain.pdf", pages))
    assert [s.title for s in document.sections] == ["Chapter 1", "Chapter 2", "Chapter 3"]
    assert document.title == "plain"
    assert load_document(tmp_path / "plain.pdf", detect_chapters=False).sections[0].title == "plain"


def test_a_scanned_pdf_is_one_clear_error(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "scan.pdf", [[], []])
    with pytest.raises(InputError, match="has no text layer"):
        load_document(path)


@pytest.mark.slow
def test_a_scanned_pdf_stops_the_command_in_one_line(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "scan.pdf", [[], []])
    result = tui_tts("run", str(path), "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and "OCR" in result.stderr


def test_a_broken_pdf_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)))
    with pytest.raises(InputError, match="not a readable PDF"):
        load_document(path)


@pytest.mark.slow
def test_list_chapters_of_a_pdf(tmp_path: Path) -> None:
    pages, outline = lay_out(CHAPTERS)
    path = write_pdf(tmp_path / "book.pdf", pages, tuple(outline), title="The Test Book")
    listing = tui_tts("run", str(path), "--list-chapters")
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.startswith("The Test Book: 3 chapters\ntext: ")
    assert "left out: running headers, footers and page numbers" in listing.stdout
