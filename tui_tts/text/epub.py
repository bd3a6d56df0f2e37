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
from tui_tts.models import Document, Section

BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "dd", "dt", "td", "th", "figcaption",
          "div", "section", "article", "aside"}  # fmt: skip
LEAF_BLOCKS = BLOCKS - {"div", "section", "article", "aside"}
NOTE_TYPES = {"footnote", "footnotes", "endnote", "endnotes", "rearnote", "rearnotes", "noteref", "note"}
NOTE_ROLES = {"doc-noteref", "doc-footnote", "doc-endnote", "doc-endnotes", "doc-backlink"}
NOTES_TITLES = re.compile(r"^\s*((table of )?contents|(foot|end)?notes)\s*$", re.IGNORECASE)
FRONT_MATTER_TITLES = re.compile(r"^\s*(cover|title ?page|half[- ]title|copyright( page)?|imprint|colophon)\s*$",
                                 re.IGNORECASE)  # fmt: skip
NOTE_MARK = re.compile(r"^\s*[\[(]?\s*(\d{1,3}|[*†‡§]|[ivxlc]{1,5})\s*[\])]?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class EpubOptions:
    include_front_matter: bool = False
    include_notes: bool = False


@dataclass
class Chapter:
    """A chapter's paragraphs, and where each comes from: (file name in the book, number of its text block there)."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    sources: list[tuple[str, int]] = field(default_factory=list)

    def add(self, text: str, source: tuple[str, int]) -> None:
        self.paragraphs.append(text)
        self.sources.append(source)


def load_epub(data: bytes, name: str, options: EpubOptions | None = None) -> Document:
    """Parse EPUB bytes into a Document of chapters. Raises InputError for anything that is not a usable EPUB."""
    book, chapters = read_chapters(data, name, options)
    title = _metadata(book, "title") or PurePosixPath(name).stem
    sections = tuple(Section(chapter.title, "\n\n".join(chapter.paragraphs)) for chapter in chapters)
    return Document(title, sections, author=_metadata(book, "creator"), cover=_cover(book))


def read_chapters(data: bytes, name: str, options: EpubOptions | None = None) -> tuple[Any, list[Chapter]]:
    """The book (ebooklib's) and the chapters that become a Document's sections, in order, with their sources."""
    options = options or EpubOptions()
    try:
        from ebooklib import ITEM_DOCUMENT, epub

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = epub.read_epub(io.BytesIO(data), {"ignore_ncx": False})
    except (zipfile.BadZipFile, KeyError, IndexError, AttributeError, ValueError) as exc:
        raise InputError(f"{name}: not a readable EPUB ({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # ebooklib raises its own EpubException and assorted lxml errors for broken books
        raise InputError(f"{name}: not a readable EPUB ({type(exc).__name__})") from None
    starts = _toc_starts(book)
    chapters: list[Chapter] = []
    front = Chapter("Front matter")
    current: Chapter | None = None
    for idref, _linear in book.spine:
        item = book.get_item_with_id(idref)
        if item is None or item.get_type() != ITEM_DOCUMENT or isinstance(item, epub.EpubNav):
            continue
        file_name = item.get_name()
        for number, (text, ids) in enumerate(_blocks(_markup(item))):
            for key in [(file_name, None), *((file_name, i) for i in ids)]:
                if key in starts and starts[key] is not None:
                    current = Chapter(starts[key] or "")
                    chapters.append(current)
                    starts[key] = None  # each entry starts one chapter, at its first block
            (current or front).add(text, (file_name, number))
        if not starts and current is None:  # no navigation at all: one chapter per spine document
            current = None
    if not chapters:
        chapters = _chapters_by_file(book, ITEM_DOCUMENT, epub)
    kept = []
    if options.include_front_matter and front.paragraphs:
        kept.append(front)
    for chapter in chapters:
        if not options.include_notes and NOTES_TITLES.match(chapter.title):
            continue
        if not options.include_front_matter and FRONT_MATTER_TITLES.match(chapter.title):
            continue
        if chapter.paragraphs:
            chapter.title = chapter.title or chapter.paragraphs[0][:60]
            kept.append(chapter)
    if not kept:
        raise InputError(f"{name}: the EPUB has no speakable text")
    return book, kept


def _metadata(book: Any, key: str) -> str:
    values = book.get_metadata("DC", key)
    return str(values[0][0]).strip() if values else ""


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


def _blocks(content: bytes) -> list[tuple[str, set[str]]]:
    """Leaf text blocks in document order, each with the ids of the elements it is the first block of."""
    from bs4 import BeautifulSoup, Tag

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        soup = BeautifulSoup(content, "html.parser")
    for tag in soup.find_all(["script", "style", "nav", "head"]):
        tag.decompose()
    for tag in soup.find_all(True):
        if isinstance(tag, Tag) and not getattr(tag, "decomposed", False) and _is_note(tag):
            tag.decompose()
    body = soup.body or soup
    blocks: list[tuple[str, set[str]]] = []
    pending: set[str] = set()

    def visit(node: Any) -> None:
        if not isinstance(node, Tag):
            return
        if node.get("id"):
            pending.add(str(node["id"]))
        is_leaf = node.name in LEAF_BLOCKS or (node.name in BLOCKS and not node.find(list(BLOCKS)))
        if is_leaf:
            text = " ".join(node.get_text(" ").split())
            inner = {str(t["id"]) for t in node.find_all(id=True)}
            if text:
                blocks.append((text, pending | inner))
                pending.clear()
            else:
                pending.update(inner)
            return
        for child in node.children:
            visit(child)

    visit(body)
    return blocks


def _is_note(tag: Any) -> bool:
    types = set(str(tag.get("epub:type", "")).split())
    roles = set(str(tag.get("role", "")).split())
    if types & NOTE_TYPES or roles & NOTE_ROLES:
        return True
    if tag.name == "sup" and NOTE_MARK.match(tag.get_text()):
        return True  # a superscript number or mark: a note reference, never worth reading aloud
    # [1], (2), * linking to a note
    return bool(tag.name == "a" and "#" in str(tag.get("href", "")) and NOTE_MARK.match(tag.get_text()))


def _chapters_by_file(book: Any, document_type: int, epub: Any) -> list[Chapter]:
    chapters = []
    for idref, _ in book.spine:
        item = book.get_item_with_id(idref)
        if item is None or item.get_type() != document_type or isinstance(item, epub.EpubNav):
            continue
        paragraphs = [text for text, _ in _blocks(_markup(item))]
        if paragraphs:
            sources = [(item.get_name(), number) for number in range(len(paragraphs))]
            chapters.append(Chapter(paragraphs[0][:80], paragraphs, sources))
    return chapters


def _cover(book: Any) -> bytes | None:
    from ebooklib import ITEM_COVER, ITEM_IMAGE

    for item in book.get_items_of_type(ITEM_COVER):
        return bytes(item.get_content())
    for item in book.get_items_of_type(ITEM_IMAGE):
        if "cover" in item.get_name().lower() or "cover" in str(item.get_id()).lower():
            return bytes(item.get_content())
    return None
