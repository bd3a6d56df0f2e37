"""EPUB to a Document: chapters from the navigation (not one per file), reading order from the spine.

Front matter before the first chapter, the contents page and notes sections are skipped by default; footnote and
endnote markers are never read aloud.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from tui_tts.errors import InputError
from tui_tts.models import Document, Section, TextCoverage
from tui_tts.text.html_text import MarkupText, markup_text, visible_chars

NOTES_TITLES = re.compile(r"^\s*((table of )?contents|(foot|end)?notes)\s*$", re.IGNORECASE)
FRONT_MATTER_TITLES = re.compile(r"^\s*(cover|title ?page|half[- ]title|copyright( page)?|imprint|colophon)\s*$",
                                 re.IGNORECASE)  # fmt: skip
SVG_TYPE = "image/svg+xml"


@dataclass(frozen=True)
class EpubOptions:
    include_front_matter: bool = False
    include_notes: bool = False


@dataclass
class Chapter:
    """A chapter's paragraphs, and where each comes from: (file name in the book, number of its text block there,
    as html_text.markup_text numbers them)."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    sources: list[tuple[str, int]] = field(default_factory=list)

    def add(self, text: str, source: tuple[str, int]) -> None:
        self.paragraphs.append(text)
        self.sources.append(source)


@dataclass
class _Tally:
    """What the book holds and where each part of it went."""

    total: int = 0
    navigation: int = 0
    notes: int = 0
    front_matter: int = 0
    ruby: int = 0
    pictures: int = 0

    def add(self, document: MarkupText) -> None:
        self.total += document.total
        self.navigation += document.navigation
        self.notes += document.notes
        self.ruby += document.ruby
        if document.total == 0:  # a picture, a drawing, a blank page
            self.pictures += 1


def load_epub(data: bytes, name: str, options: EpubOptions | None = None) -> Document:
    """Parse EPUB bytes into a Document of chapters. Raises InputError for anything that is not a usable EPUB.

    Every document of the spine is read, in spine order; the navigation only names the chapters and says where
    each starts (a TOC entry per file, per anchor, or one entry for many files)."""
    book, chapters, tally = _read(data, name, options or EpubOptions())
    title = _metadata(book, "title") or PurePosixPath(name).stem
    sections = tuple(Section(chapter.title, "\n\n".join(chapter.paragraphs)) for chapter in chapters)
    read = sum(visible_chars(section.text) for section in sections)
    coverage = TextCoverage(tally.total, read, _left_out(tally), tally.pictures)
    return Document(title, sections, author=_metadata(book, "creator"), cover=_cover(book), coverage=coverage)


def read_chapters(data: bytes, name: str, options: EpubOptions | None = None) -> tuple[Any, list[Chapter]]:
    """The book (ebooklib's) and the chapters that become a Document's sections, in order, with their sources."""
    book, chapters, _tally = _read(data, name, options or EpubOptions())
    return book, chapters


def _read(data: bytes, name: str, options: EpubOptions) -> tuple[Any, list[Chapter], _Tally]:
    try:
        from ebooklib import epub

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = epub.read_epub(io.BytesIO(data), {"ignore_ncx": False})
    except (zipfile.BadZipFile, KeyError, IndexError, AttributeError, ValueError) as exc:
        raise InputError(f"{name}: not a readable EPUB ({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # ebooklib raises its own EpubException and assorted lxml errors for broken books
        raise InputError(f"{name}: not a readable EPUB ({type(exc).__name__})") from None
    tally = _Tally()
    documents = _spine_documents(book, tally)
    starts = _toc_starts(book)
    chapters: list[Chapter] = []
    front = Chapter("Front matter")
    current: Chapter | None = None
    for file_name, document in documents:
        for number, (text, ids) in enumerate(document.blocks):
            for key in [(file_name, None), *((file_name, i) for i in ids)]:
                if key in starts and starts[key] is not None:
                    current = Chapter(starts[key] or "")
                    chapters.append(current)
                    starts[key] = None  # each entry starts one chapter, at its first block
            (current or front).add(text, (file_name, number))
    if not chapters:  # no usable navigation: one chapter per spine document
        front = Chapter("Front matter")
        for file_name, document in documents:
            if document.blocks:
                chapter = Chapter(document.blocks[0][0][:80])
                for number, (text, _ids) in enumerate(document.blocks):
                    chapter.add(text, (file_name, number))
                chapters.append(chapter)
    kept = []
    if options.include_front_matter and front.paragraphs:
        kept.append(front)
    else:
        tally.front_matter += _size(front)
    for chapter in chapters:
        if not options.include_notes and NOTES_TITLES.match(chapter.title):
            if "content" in chapter.title.lower():
                tally.navigation += _size(chapter)
            else:
                tally.notes += _size(chapter)
            continue
        if not options.include_front_matter and FRONT_MATTER_TITLES.match(chapter.title):
            tally.front_matter += _size(chapter)
            continue
        if chapter.paragraphs:
            chapter.title = chapter.title or chapter.paragraphs[0][:60]
            kept.append(chapter)
    if not kept:
        pictures = f" (its {tally.pictures} pages are pictures or drawings without text)" if tally.pictures else ""
        raise InputError(f"{name}: the EPUB has no speakable text{pictures}")
    return book, kept, tally


def _size(chapter: Chapter) -> int:
    return sum(visible_chars(text) for text in chapter.paragraphs)


def _left_out(tally: _Tally) -> tuple[tuple[str, int], ...]:
    parts = [("front matter", tally.front_matter), ("notes", tally.notes), ("navigation", tally.navigation),
             ("ruby readings", tally.ruby)]  # fmt: skip
    return tuple((reason, size) for reason, size in parts if size)


def _spine_documents(book: Any, tally: _Tally) -> list[tuple[str, MarkupText]]:
    """Every document of the spine in reading order: XHTML, and SVG pages (their <text> is read)."""
    from ebooklib import ITEM_DOCUMENT, epub

    documents = []
    for idref, _linear in book.spine:
        item = book.get_item_with_id(idref)
        if item is None:
            continue
        is_svg = str(getattr(item, "media_type", "")) == SVG_TYPE
        if item.get_type() != ITEM_DOCUMENT and not is_svg:
            tally.pictures += 1 if str(getattr(item, "media_type", "")).startswith("image/") else 0
            continue
        document = markup_text(_markup(item))
        if isinstance(item, epub.EpubNav):
            document.navigation, document.notes, document.blocks = document.total, 0, []
        tally.add(document)
        documents.append((item.get_name(), document))
    return documents


def _metadata(book: Any, key: str) -> str:
    values = book.get_metadata("DC", key)
    return str(values[0][0] or "").strip() if values else ""  # an empty <dc:creator/> is None, not "None"


def _toc_starts(book: Any) -> dict[tuple[str, str | None], str | None]:
    """(file name, anchor or None) -> chapter title, in TOC order, from the EPUB 3 nav or the EPUB 2 NCX."""
    from ebooklib import epub

    starts: dict[tuple[str, str | None], str | None] = {}

    def walk(entries: Any) -> None:
        for entry in entries:
            if isinstance(entry, tuple | list) and len(entry) == 2 and isinstance(entry[1], list):
                section, children = entry
                if getattr(section, "href", None):
                    add(section.href, section.title)
                walk(children)
            elif isinstance(entry, epub.Link | epub.Section) and getattr(entry, "href", None):
                add(entry.href, entry.title)

    def add(href: str, title: str) -> None:
        path, _, anchor = href.partition("#")
        key = (str(PurePosixPath(path)), anchor or None)
        starts.setdefault(key, " ".join(str(title or "").split()))

    walk(book.toc)
    return starts


def _markup(item: Any) -> bytes:
    """The document as stored in the book. ebooklib's get_content() re-parses it with libxml2, whose HTML parser
    silently drops everything after 256 levels of nesting; the raw bytes lose nothing."""
    raw = item.content
    if isinstance(raw, str):
        return raw.encode("utf-8")
    return bytes(raw) if raw else bytes(item.get_content())


def _cover(book: Any) -> bytes | None:
    from ebooklib import ITEM_COVER, ITEM_IMAGE

    for item in book.get_items_of_type(ITEM_COVER):
        return bytes(item.get_content())
    for item in book.get_items_of_type(ITEM_IMAGE):
        if "cover" in item.get_name().lower() or "cover" in str(item.get_id()).lower():
            return bytes(item.get_content())
    return None
