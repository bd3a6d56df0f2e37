"""Text PDFs to a Document: pages in order, running headers, footers and page numbers removed, hyphenated line ends
joined, paragraphs rebuilt, chapters from the outline (bookmarks) or else from heading-like lines."""

from __future__ import annotations

import io
import itertools
import logging
import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from tui_tts.errors import InputError
from tui_tts.models import Document, Section, TextCoverage
from tui_tts.text.html_text import visible_chars
from tui_tts.text.plain import CHAPTER, LEVEL_ABOVE, split_chapters

MARGIN = 0.12  # headers and footers live in the top and bottom 12% of a page
PAGE_NUMBER = re.compile(r"^(?:page\s+)?[-–—\s]*(?:\d{1,4}|[ivxlcdm]{1,7})[-–—\s]*(?:(?:of|/)\s*\d{1,4})?$", re.I)
_PAGE_AT_END = re.compile(r"(?:^|\s)(\d{1,4})$")
_PAGE_AT_START = re.compile(r"^(\d{1,4})\s")
_SENTENCE_END = tuple(".!?:\"'”’)»")


@dataclass
class _Line:
    text: str
    y: float
    x: float
    size: float
    page: int


@dataclass
class _Paragraph:
    lines: list[_Line] = field(default_factory=list)
    heading: bool = False

    @property
    def text(self) -> str:
        joined = ""
        for line in self.lines:
            text = " ".join(line.text.split())
            if not joined:
                joined = text
            elif joined.endswith("\u00ad"):
                joined = joined[:-1] + text
            elif re.search(r"\w-$", joined) and text[:1].islower():
                joined = joined[:-1] + text  # "end-" + "ing": one word again
            else:
                joined = f"{joined} {text}"
        return joined


def load_pdf(data: bytes, name: str, detect_chapters: bool = True) -> Document:
    """Parse PDF bytes. Raises InputError for a broken, encrypted or scanned (text-less) PDF."""
    reader = _reader(data, name)
    pages = [_page_lines(page, number) for number, page in enumerate(reader.pages)]
    total = sum(visible_chars(line.text) for lines in pages for line in lines)
    if total == 0:
        raise InputError(f"{name}: this PDF has no text layer (a scan?); tui-tts reads text PDFs: run it through "
                         "OCR first (e.g. ocrmypdf)")  # fmt: skip
    blank = sum(1 for lines in pages if not lines)  # scanned or picture pages: nothing to read on them
    heights = [float(page.mediabox.height) for page in reader.pages]
    bottoms = [float(page.mediabox.bottom) for page in reader.pages]
    removed = _remove_running_lines(pages, heights, bottoms)
    paragraphs = _paragraphs([line for lines in pages for line in lines])
    kept = sum(visible_chars(line.text) for lines in pages for line in lines)
    joined = kept - sum(visible_chars(paragraph.text) for paragraph in paragraphs)  # the hyphens of split words
    meta = reader.metadata or {}
    title = " ".join(str(meta.get("/Title") or "").split()) or PurePosixPath(name).stem
    author = " ".join(str(meta.get("/Author") or "").split())
    chapters = _outline_chapters(reader, paragraphs, title) if detect_chapters else []
    if not chapters:
        texts = [p.text for p in paragraphs]
        chapters = split_chapters(texts, [[t] for t in texts], title) if detect_chapters else [(title, texts)]
        if len(chapters) == 1 and detect_chapters:
            chapters = _big_headings(paragraphs, title) or chapters
    sections = tuple(Section(heading, "\n\n".join(texts)) for heading, texts in chapters if texts)
    read = sum(visible_chars(section.text) for section in sections)
    parts = [("running headers, footers and page numbers", removed), ("hyphens of words split at line ends", joined)]
    left_out = tuple((reason, size) for reason, size in parts if size)
    return Document(title, sections, author=author, coverage=TextCoverage(total, read, left_out, blank))


def _reader(data: bytes, name: str) -> Any:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # pypdf warns about every small flaw of a real file
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputError(f"{name}: this PDF is encrypted with a password; save an unlocked copy first")
        _ = len(reader.pages)
    except InputError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise InputError(f"{name}: not a readable PDF ({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # pypdf raises assorted errors on damaged files; never a traceback
        raise InputError(f"{name}: not a readable PDF ({type(exc).__name__})") from None
    return reader


def _page_lines(page: Any, number: int) -> list[_Line]:
    """The page's lines in content order, each with where it starts (the visitor sees pypdf's own text output)."""
    lines: list[_Line] = []
    buffer: list[str] = []
    where: list[float] = []

    def visit(text: str, cm: list[float], tm: list[float], _font: Any, size: float) -> None:
        for n, piece in enumerate(text.split("\n")):
            if n:
                flush()
            if piece and not where and piece.strip():
                scale = math.hypot(tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3]) or 1.0
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                where.extend((x, y, float(size or 0) * scale))
            buffer.append(piece)

    def flush() -> None:
        text = "".join(buffer)
        if text.strip() and where:
            lines.append(_Line(text.strip(), where[1], where[0], where[2], number))
        buffer.clear()
        where.clear()

    try:
        page.extract_text(visitor_text=visit)
    except Exception:  # a page pypdf cannot read loses only itself; coverage shows the rest
        return lines
    flush()
    return lines


def _remove_running_lines(pages: list[list[_Line]], heights: list[float], bottoms: list[float]) -> int:
    """Lines repeated across pages at the same place (digits aside), and page numbers, in the top or bottom margin."""
    if len(pages) < 2:
        return 0

    def key(line: _Line) -> tuple[int, str] | None:
        """Where the line is and what it says; a number in it that runs with the page (a header's page number) is
        no difference. Chapter headings are never running lines."""
        height, bottom = heights[line.page], bottoms[line.page]
        if bottom + height * MARGIN < line.y < bottom + height * (1 - MARGIN):
            return None
        text = " ".join(line.text.split())
        heading = CHAPTER.match(text) or LEVEL_ABOVE.match(text)
        if heading and not heading.group("rest"):
            return round(line.y / 4), text  # "Chapter 2" alone: its number is the chapter's, not the page's
        number = _PAGE_AT_END.search(text) or _PAGE_AT_START.search(text)
        if number:
            offset = int(number.group(1)) - line.page
            text = f"{text[: number.start(1)]}#{text[number.end(1) :]} {offset}"  # "#" marks a page number
        return round(line.y / 4), text.lower()

    seen = Counter(k for lines in pages for k in {key(line) for line in lines} if k is not None)
    needed = min(3, len(pages))  # a page number running with the pages needs only 2 (a chapter's own header)
    removed = 0
    for lines in pages:
        keep = []
        for line in lines:
            k = key(line)
            repeated = k is not None and seen[k] >= (2 if "#" in k[1] else needed)
            if repeated or (k is not None and PAGE_NUMBER.match(line.text.strip())):
                removed += visible_chars(line.text)
            else:
                keep.append(line)
        lines[:] = keep
    return removed


def _paragraphs(lines: list[_Line]) -> list[_Paragraph]:
    """Lines into paragraphs: a new one after a wider gap, an indent, a short line that ends a sentence, a heading."""
    if not lines:
        return []
    gaps = [a.y - b.y for a, b in itertools.pairwise(lines) if a.page == b.page and 0 < a.y - b.y < 100]
    gap = statistics.median(gaps) if gaps else 14.0
    size = statistics.median(line.size for line in lines) or 11.0
    left = statistics.median(line.x for line in lines)
    width = statistics.median(len(line.text) for line in lines)
    paragraphs: list[_Paragraph] = []
    previous: _Line | None = None
    for line in lines:
        heading = _heading_like(line, size)
        if previous is None or heading or paragraphs[-1].heading:
            starts = True
        else:
            ended = len(previous.text) < 0.8 * width and previous.text.endswith(_SENTENCE_END)
            same_page = previous.page == line.page
            wide = same_page and previous.y - line.y > 1.5 * gap
            indent = line.x > left + 8 and line.x < left + 60
            starts = ended or wide or indent
        if starts:
            paragraphs.append(_Paragraph(heading=heading))
        paragraphs[-1].lines.append(line)
        previous = line
    return paragraphs


def _heading_like(line: _Line, size: float) -> bool:
    text = line.text.strip()
    if len(text) > 80:
        return False
    return bool(CHAPTER.match(text) or LEVEL_ABOVE.match(text)) or line.size >= 1.25 * size


def _outline_chapters(reader: Any, paragraphs: list[_Paragraph], title: str) -> list[tuple[str, list[str]]]:
    """Chapters where the bookmarks point: each entry starts at the first paragraph at or below its place."""
    entries: list[tuple[str, int, float | None]] = []

    def walk(items: Any) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
                continue
            try:
                page = reader.get_destination_page_number(item)
            except Exception:
                continue
            top = item.get("/Top") if hasattr(item, "get") else None
            if page is not None and page >= 0:
                entries.append((" ".join(str(item.get("/Title", "")).split()), page, _number(top)))

    try:
        walk(reader.outline)
    except Exception:
        return []
    starts: dict[int, list[str]] = {}
    for name, page, top in entries:
        index = next((n for n, p in enumerate(paragraphs) if (p.lines[0].page, -p.lines[0].y) >= (page, -(top or 1e9))),
                     None)  # fmt: skip
        if index is not None:
            starts.setdefault(index, []).append(name)
    if not starts:
        return []
    chapters: list[tuple[str, list[str]]] = []
    for index, paragraph in enumerate(paragraphs):
        if index in starts or not chapters:
            chapters.append((", ".join(starts.get(index, [title])), []))
        chapters[-1][1].append(paragraph.text)
    return chapters


def _number(value: Any) -> float | None:
    try:
        return float(value) + 2 if value is not None else None  # a little slack above the first line's baseline
    except (TypeError, ValueError):
        return None


def _big_headings(paragraphs: list[_Paragraph], title: str) -> list[tuple[str, list[str]]]:
    """No outline and no `Chapter` lines: short lines set larger than the text, when there are at least two."""
    marks = [n for n, p in enumerate(paragraphs) if p.heading and len(p.lines) == 1]
    if len(marks) < 2:
        return []
    chapters: list[tuple[str, list[str]]] = []
    for index, paragraph in enumerate(paragraphs):
        if index in marks or not chapters:
            chapters.append((paragraph.text[:80] if index in marks else title, []))
        chapters[-1][1].append(paragraph.text)
    return chapters
