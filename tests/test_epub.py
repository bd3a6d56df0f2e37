"""EPUB input: chapters from the navigation, front matter, contents and notes skipped, footnote markers unread."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from ebooklib import epub

from tests.test_cli import tui_tts
from tui_tts.errors import InputError
from tui_tts.text.loading import load_document, select_chapters

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 40


def page(name: str, title: str, body: str) -> epub.EpubHtml:
    item = epub.EpubHtml(title=title, file_name=name, lang="en")
    item.content = f"<html><body>{body}</body></html>"
    return item


def build_epub(path: Path, cover: bytes = PNG) -> Path:
    book = epub.EpubBook()
    book.set_identifier("test-book")
    book.set_title("The Test Book")
    book.add_author("Ada Author")
    book.set_cover("cover.jpg" if cover.startswith(b"\xff\xd8") else "cover.png", cover)
    title = page("title.xhtml", "Title Page", "<h1>The Test Book</h1><p>Copyright 1900 by nobody.</p>")
    one = page("one.xhtml", "One", "<h1>Chapter One</h1><p>The first words of the story."
               '<a epub:type="noteref" href="notes.xhtml#n1">1</a> And more.<sup>2</sup></p>'
               '<aside epub:type="footnote" id="fn-local"><p>A footnote never read.</p></aside>')  # fmt: skip
    both = page("both.xhtml", "Two", '<section id="two"><h2>Chapter Two</h2><p>Second chapter text.</p></section>'
                '<section id="three"><h2>Chapter Three</h2><p>Third chapter text, same file.</p>'
                "</section>")  # fmt: skip
    notes = page("notes.xhtml", "Notes", '<h1>Notes</h1><p id="n1">1. An endnote never read.</p>')
    for item in (title, one, both, notes):
        book.add_item(item)
    book.toc = [epub.Link("title.xhtml", "Title Page", "t"), epub.Link("one.xhtml", "Chapter One", "c1"),
                epub.Link("both.xhtml#two", "Chapter Two", "c2"), epub.Link("both.xhtml#three", "Chapter Three", "c3"),
                epub.Link("notes.xhtml", "Notes", "n")]  # fmt: skip
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["cover", "nav", title, one, both, notes]
    epub.write_epub(str(path), book)
    return path


def test_chapters_come_from_the_navigation_and_skip_what_is_not_the_story(tmp_path: Path) -> None:
    document = load_document(build_epub(tmp_path / "book.epub"))
    assert document.title == "The Test Book" and document.author == "Ada Author"
    assert document.cover == PNG
    assert [s.title for s in document.sections] == ["Chapter One", "Chapter Two", "Chapter Three"]
    one, two, three = (s.text for s in document.sections)
    assert one == "Chapter One\n\nThe first words of the story. And more."
    assert two == "Chapter Two\n\nSecond chapter text."
    assert three == "Chapter Three\n\nThird chapter text, same file."
    everything = one + two + three
    for never in ("footnote never read", "endnote never read", "Copyright", "Table of Contents", "Contents"):
        assert never not in everything


def test_front_matter_and_notes_on_request(tmp_path: Path) -> None:
    document = load_document(build_epub(tmp_path / "book.epub"), include_front_matter=True)
    titles = [s.title for s in document.sections]
    assert "Title Page" in titles and "Notes" in titles


def test_chapter_selection(tmp_path: Path) -> None:
    document = load_document(build_epub(tmp_path / "book.epub"))
    assert [s.title for s in select_chapters(document, "2-3").sections] == ["Chapter Two", "Chapter Three"]
    assert [s.title for s in select_chapters(document, "1,3").sections] == ["Chapter One", "Chapter Three"]
    for bad in ("0", "4", "2-1", "x"):
        with pytest.raises(InputError, match="--chapters"):
            select_chapters(document, bad)


def test_a_broken_epub_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.epub"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(InputError, match="not a readable EPUB"):
        load_document(broken)
    result = tui_tts("run", str(broken), "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 2 and "Traceback" not in result.stderr


@pytest.mark.slow
def test_list_chapters_and_a_run_of_selected_chapters(tmp_path: Path) -> None:
    book = build_epub(tmp_path / "book.epub")
    listing = tui_tts("run", str(book), "--list-chapters")
    assert listing.returncode == 0
    assert "The Test Book by Ada Author: 3 chapters" in listing.stdout and "Chapter Three" in listing.stdout
    data = str(tmp_path / "d")
    result = tui_tts("run", str(book), "--chapters", "2-3", "--data-dir", data, "-o", str(tmp_path / "two.wav"))
    assert result.returncode == 0, result.stderr
    whole = tui_tts("run", str(book), "--data-dir", data, "-o", str(tmp_path / "all.wav"))
    assert whole.returncode == 0, whole.stderr
    assert "chapters: '2-3' -> None" in whole.stderr and "new run" in whole.stderr  # another selection, another run


def test_deeply_nested_elements_lose_no_text(tmp_path: Path) -> None:
    """libxml2's HTML parser stops at 256 levels; a book must never lose what follows such nesting."""
    deep = "<div>" * 300 + "<p>Hello from the deep.</p>" + "</div>" * 300
    book = epub.EpubBook()
    book.set_identifier("deep-book")
    book.set_title("Deep")
    chapter = page("deep.xhtml", "Deep", f"<h1>Deep</h1><p>Before.</p>{deep}<p>After.</p>")
    book.add_item(chapter)
    book.toc = [epub.Link("deep.xhtml", "Deep", "d")]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", chapter]
    written = tmp_path / "written.epub"
    epub.write_epub(str(written), book)  # ebooklib's own writer cuts the nesting, so put the page back as it is
    path = tmp_path / "deep.epub"
    html = (
        f"<html xmlns='http://www.w3.org/1999/xhtml'><body><h1>Deep</h1><p>Before.</p>{deep}<p>After.</p></body></html>"
    )
    with zipfile.ZipFile(written) as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, html.encode() if info.filename.endswith("deep.xhtml") else data)
    text = load_document(path).sections[0].text
    assert "Before." in text
    assert "Hello from the deep." in text
    assert "After." in text
