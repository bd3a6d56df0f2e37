"""Load an input file (txt, Markdown, EPUB or PDF) into a Document of titled sections."""

from __future__ import annotations

import re
from pathlib import Path

from tui_tts.errors import InputError
from tui_tts.models import Document, Section, TextCoverage
from tui_tts.text.decoding import decode_text
from tui_tts.text.html_text import visible_chars
from tui_tts.text.markdown import markdown_sections
from tui_tts.text.plain import split_chapters, strip_gutenberg

MARKDOWN_SUFFIXES = {".md", ".markdown", ".mdown", ".mkd"}
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\f\v\r]*\n")
_NOTHING_LEFT_OUT: tuple[tuple[str, int], ...] = ()


def read_input_bytes(path: Path) -> bytes:
    """Read the input file, turning every OS problem into a one-line InputError."""
    if not path.exists():
        raise InputError(f"input file not found: {path}")
    if path.is_dir():
        raise InputError(f"input is a directory, not a file: {path}")
    try:
        return path.read_bytes()
    except PermissionError:
        raise InputError(f"cannot read input file (permission denied): {path}") from None
    except OSError as exc:
        raise InputError(f"cannot read input file {path}: {exc.strerror}") from None


def load_document(
    path: Path, data: bytes | None = None, include_front_matter: bool = False, detect_chapters: bool = True
) -> Document:
    """Load txt, Markdown, EPUB or PDF. Raises InputError for anything a person must fix."""
    raw = read_input_bytes(path) if data is None else data
    if not raw.strip():
        raise InputError(f"input file is empty: {path}")
    if path.suffix.lower() == ".epub":
        from tui_tts.text.epub import EpubOptions, load_epub

        options = EpubOptions(include_front_matter=include_front_matter, include_notes=include_front_matter)
        return load_epub(raw, str(path), options)
    if path.suffix.lower() == ".pdf":
        from tui_tts.text.pdf import load_pdf

        return load_pdf(raw, str(path), detect_chapters)
    text, _encoding = decode_text(raw, str(path))
    title, author, coverage = path.stem, "", None
    if path.suffix.lower() in MARKDOWN_SUFFIXES:
        sections = markdown_sections(text, title)
    else:
        total, left_out = visible_chars(text), _NOTHING_LEFT_OUT
        book = strip_gutenberg(text)
        if book is not None:
            text, title, author = book.body, book.title or title, book.author
            left_out = (("Project Gutenberg header and licence", visible_chars(book.set_aside)),)
        sections = plain_sections(text, title, detect_chapters)
        read = sum(visible_chars(section.text) for section in sections if is_speakable(section.text))
        coverage = TextCoverage(total, read, left_out)
    sections = [section for section in sections if is_speakable(section.text)]
    if not sections:
        raise InputError(f"input file has no speakable text (no letters or digits): {path}")
    return Document(title=title, sections=tuple(sections), author=author, coverage=coverage)


def plain_sections(text: str, title: str, detect_chapters: bool = True) -> list[Section]:
    """Paragraphs at blank lines, cut into chapters at the headings found (unless detection is off)."""
    blocks = _PARAGRAPH_BREAK.split(text.replace("\r\n", "\n").replace("\r", "\n"))
    kept = [(" ".join(block.split()), [line for line in block.split("\n") if line.strip()]) for block in blocks]
    kept = [(paragraph, lines) for paragraph, lines in kept if paragraph]
    paragraphs = [paragraph for paragraph, _ in kept]
    if not detect_chapters:
        return [Section(title, "\n\n".join(paragraphs))]
    chapters = split_chapters(paragraphs, [lines for _, lines in kept], title)
    return [Section(name, "\n\n".join(parts)) for name, parts in chapters]


def is_speakable(text: str) -> bool:
    """Text with at least one letter or digit, in any script; punctuation, symbols and emoji alone are not read."""
    return any(char.isalnum() for char in text)


def select_chapters(document: Document, selection: str) -> Document:
    """Keep the chapters named by a selection such as '3-7', '1,4,9-10' (1-based, in document order)."""
    wanted: set[int] = set()
    count = len(document.sections)
    for part in [p.strip() for p in selection.split(",") if p.strip()]:
        first, _, last = part.partition("-")
        try:
            start, end = int(first), int(last or first)
        except ValueError:
            raise InputError(f"--chapters {selection!r}: use numbers and ranges like 3-7 or 1,4,9-10") from None
        if start > end:
            raise InputError(f"--chapters {selection!r}: the range {part} is reversed; write it {end}-{start}")
        if not 1 <= start <= end <= count:
            raise InputError(f"--chapters {selection!r}: the book has chapters 1 to {count}")
        wanted.update(range(start, end + 1))
    sections = tuple(section for number, section in enumerate(document.sections, 1) if number in wanted)
    return Document(document.title, sections, document.author, document.cover, document.coverage)


def normalize_paragraphs(text: str) -> str:
    """Paragraphs split at blank lines, whitespace inside each folded to single spaces, joined by a blank line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = (" ".join(part.split()) for part in _PARAGRAPH_BREAK.split(text))
    return "\n\n".join(p for p in paragraphs if p)
