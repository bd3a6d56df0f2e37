"""Plain-text books: Project Gutenberg's header and licence set aside, chapter headings found the way books write them.

Conservative on purpose: a heading is a block of its own (blank lines around it, at most one title line under it),
it must look like `CHAPTER I`, `Chapter 12`, `CHAPTER THE FIRST`, a Roman numeral in sequence, or `VOLUME II` /
`BOOK THREE` / `PART 4` (a level above), and a book needs two chapter headings before any is believed. The heading
stays in the text: nothing is dropped, the text is only cut into chapters.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

_UNITS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred"
).split()
_ORDINALS = ("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
             "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth thirtieth fortieth "
             "fiftieth last").split()  # fmt: skip
_WORD = "(?:" + "|".join(sorted(_UNITS + _ORDINALS, key=len, reverse=True)) + ")"
_NUMBER = rf"(?:\d{{1,3}}|[IVXLCDM]{{1,7}}|(?i:(?:the\s+)?{_WORD}(?:[-\s]{_WORD})?))"
_AFTER = r"(?:\s*[.:—–-]\s*|\s+|$)(?P<rest>.*)$"
CHAPTER = re.compile(rf"^(?:CHAPTER|Chapter|CHAP\.|Chap\.)\s+{_NUMBER}\b\.?{_AFTER}")
LEVEL_ABOVE = re.compile(rf"^(?:VOLUME|Volume|BOOK|Book|PART|Part)\s+{_NUMBER}\b\.?{_AFTER}")
BARE_NUMERAL = re.compile(r"^(?P<num>[IVXLC]{1,7}|\d{1,3})\.?(?:\s+(?P<rest>[^a-z]{2,60}))?$")
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
MAX_HEADING = 80

GUTENBERG_START = re.compile(r"^\s*\*{3}\s*START OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK[^\n]*$", re.I | re.M)
GUTENBERG_END = re.compile(r"^\s*\*{3}\s*END OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK[^\n]*$", re.I | re.M)
GUTENBERG_END_LINE = re.compile(r"^\s*End of (?:the )?Project Gutenberg'?s?\b[^\n]*$", re.I | re.M)


@dataclass(frozen=True, slots=True)
class Gutenberg:
    """A Project Gutenberg file split into the book and what is not the book."""

    body: str
    title: str
    author: str
    set_aside: str  # the header, the footer and the licence, never read aloud


def strip_gutenberg(text: str) -> Gutenberg | None:
    """The book between `*** START OF THE PROJECT GUTENBERG EBOOK ... ***` and `*** END ...`, or None if absent."""
    start = GUTENBERG_START.search(text)
    if start is None:
        return None
    end = GUTENBERG_END.search(text, start.end())
    stop = end.start() if end else len(text)
    body = text[start.end() : stop]
    old_footer = GUTENBERG_END_LINE.search(body)  # "End of the Project Gutenberg EBook of ...", before the marker
    if old_footer and len(body) - old_footer.start() < 2000:
        stop, body = start.end() + old_footer.start(), body[: old_footer.start()]
    header = text[: start.end()]
    return Gutenberg(body, _field(header, "Title"), _field(header, "Author"), header + text[stop:])


def _field(header: str, name: str) -> str:
    match = re.search(rf"^{name}:[ \t]*(.+(?:\n[ \t]+\S.*)*)", header, re.M)
    return " ".join(match.group(1).split()) if match else ""


@dataclass(frozen=True, slots=True)
class _Heading:
    block: int  # index of the heading's block
    title: str
    level: int  # 0 a level above (volume, book, part), 1 a chapter
    numeral: int | None = None  # a bare numeral's value, which must run in sequence


def split_chapters(paragraphs: list[str], lines: list[list[str]], fallback: str) -> list[tuple[str, list[str]]]:
    """Paragraphs (one per block of lines) cut into titled chapters; one untitled part when no headings are found."""
    headings = _headings(lines)
    if sum(1 for h in headings if h.level == 1) < 2:
        return [(fallback, paragraphs)]
    chapters: list[tuple[str, list[str]]] = []
    starts = {h.block: h for h in headings}
    part = ""
    current: list[str] = []
    title = fallback
    for index, paragraph in enumerate(paragraphs):
        heading = starts.get(index)
        if heading is not None:
            if current:
                chapters.append((title, current))
            current = []
            if heading.level == 0:
                part, title = heading.title, heading.title
            else:
                title = f"{part}, {heading.title}" if part else heading.title
        current.append(paragraph)
    if current:
        chapters.append((title, current))
    return _merge_part_headings(chapters)


def _merge_part_headings(chapters: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    """A part heading with nothing under it before its first chapter opens that chapter instead of being one."""
    merged: list[tuple[str, list[str]]] = []
    carry: list[str] = []
    for title, paragraphs in chapters:
        if len(paragraphs) == 1 and LEVEL_ABOVE.match(paragraphs[0]):
            carry += paragraphs
            continue
        merged.append((title, carry + paragraphs))
        carry = []
    if carry:
        merged.append((chapters[-1][0], carry))
    return merged


def _headings(lines: list[list[str]]) -> list[_Heading]:
    found: list[_Heading] = []
    for index, block in enumerate(lines):
        heading = _heading(block, index)
        if heading is not None:
            found.append(heading)
    # A contents page lists the headings one after another: a heading followed straight by another of its kind is
    # an entry of the contents, not a chapter.
    listed = {a.block for a, b in itertools.pairwise(found) if b.block == a.block + 1 and a.level >= b.level}
    found = [h for h in found if h.block not in listed]
    numerals = [h for h in found if h.numeral is not None]
    if numerals and (len(numerals) < 2 or not _in_sequence([h.numeral or 0 for h in numerals])):
        found = [h for h in found if h.numeral is None]
    starts = {h.block for h in found}
    return [_with_subtitle(h, lines[h.block + 1]) if h.block + 1 < len(lines) and h.block + 1 not in starts
            else h for h in found]  # fmt: skip


def _with_subtitle(heading: _Heading, block: list[str]) -> _Heading:
    """`CHAPTER I`, a blank line, then `Down the Rabbit-Hole` on a line of its own: that line names the chapter."""
    line = block[0].strip() if len(block) == 1 else ""
    if " " in heading.title or not line or len(line) > 60 or line[-1] in ".,;:!?\"'”’)":
        return heading
    return _Heading(heading.block, f"{heading.title}: {line}", heading.level, heading.numeral)


def _heading(block: list[str], index: int) -> _Heading | None:
    if not 1 <= len(block) <= 2 or any(len(line) > MAX_HEADING for line in block):
        return None
    first = block[0].strip()
    subtitle = block[1].strip() if len(block) == 2 else ""
    if subtitle and (subtitle[-1] in ",;" or len(subtitle) > 60):
        return None
    title = f"{first} {subtitle}".strip() if subtitle else first
    for pattern, level in ((CHAPTER, 1), (LEVEL_ABOVE, 0)):
        match = pattern.match(first)
        rest = match.group("rest").strip() if match else ""
        if match and not rest.endswith((",", ";")) and len(rest) <= 60 and not rest[:1].islower():
            return _Heading(index, _clean(title), level)
    match = BARE_NUMERAL.match(first)
    if match:
        value = _value(match.group("num"))
        if value:
            return _Heading(index, _clean(title), 1, value)
    return None


def _clean(title: str) -> str:
    return " ".join(title.split()).rstrip(".:")


def _value(numeral: str) -> int:
    if numeral.isdigit():
        return int(numeral)
    total = 0
    for char, following in zip(numeral, [*numeral[1:], ""], strict=True):
        value = _ROMAN[char]
        total += -value if following and _ROMAN[following] > value else value
    return total


def _in_sequence(values: list[int]) -> bool:
    """1, 2, 3, ... (starting again at 1 is allowed: a new book or part)."""
    return values[0] == 1 and all(b == a + 1 or b == 1 for a, b in itertools.pairwise(values))
