"""Load an input file (txt or Markdown) into a Document of titled sections."""

from __future__ import annotations

import re
from pathlib import Path

from tui_tts.errors import InputError
from tui_tts.models import Document, Section
from tui_tts.text.decoding import decode_text
from tui_tts.text.markdown import markdown_sections

MARKDOWN_SUFFIXES = {".md", ".markdown", ".mdown", ".mkd"}
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\f\v\r]*\n")


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


def load_document(path: Path, data: bytes | None = None) -> Document:
    """Load txt or Markdown. Raises InputError for anything a person must fix."""
    raw = read_input_bytes(path) if data is None else data
    if not raw.strip():
        raise InputError(f"input file is empty: {path}")
    text, _encoding = decode_text(raw, str(path))
    title = path.stem
    if path.suffix.lower() in MARKDOWN_SUFFIXES:
        sections = markdown_sections(text, title)
    else:
        sections = [Section(title=title, text=normalize_paragraphs(text))]
    sections = [section for section in sections if section.text.strip()]
    if not sections:
        raise InputError(f"input file has no speakable text: {path}")
    return Document(title=title, sections=tuple(sections))


def normalize_paragraphs(text: str) -> str:
    """Paragraphs split at blank lines, whitespace inside each folded to single spaces, joined by a blank line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = (" ".join(part.split()) for part in _PARAGRAPH_BREAK.split(text))
    return "\n\n".join(p for p in paragraphs if p)
