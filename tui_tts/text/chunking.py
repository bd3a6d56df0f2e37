"""Sentence-aware chunking: whole sentences packed up to max_chars, with clause, space and hard-cut fallbacks.

Every chunk is a span of its section's text, so the chunks in order cover the text exactly: nothing lost, nothing
repeated. Chunks never cross sections; they may join short paragraphs, and remember whether they end one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from tui_tts.models import Chunk, Document

# Words that end in a period without ending a sentence. Lower case, without the final period.
_ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof st sr jr rev hon gen col lt sgt capt cmdr adm gov pres rep sen supt mt ft no nos vol
    vols fig figs pp p ch chap sec art ed eds approx dept est inc ltd co corp bros vs cf al e.g i.e a.m p.m
    viz ca jan feb mar apr jun jul aug sep sept oct nov dec
    """.split()
)
# "etc." ends a sentence when a capital follows; other abbreviations never do.
_SOFT_ABBREVIATIONS = frozenset({"etc"})

_CLOSERS = "\"'”’»)]}」』】）〕》"
_CJK_TERMINALS = "。！？"
_TERMINAL = re.compile(rf"(?:[.!?…]+|[{_CJK_TERMINALS}]+)[{re.escape(_CLOSERS)}]*")
_CLAUSE = re.compile(r"[,;:—–)、，；：]+")
_PARAGRAPH = re.compile(r"[^\n]+")


def chunk_document(document: Document, max_chars: int) -> list[Chunk]:
    """Split every section of a document into chunks of at most max_chars characters."""
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    chunks: list[Chunk] = []
    for section_index, section in enumerate(document.sections):
        for start, end, ends_paragraph in _pack(section.text, max_chars):
            chunks.append(
                Chunk(
                    index=len(chunks),
                    section=section_index,
                    start=start,
                    end=end,
                    text=" ".join(section.text[start:end].split()),
                    ends_paragraph=ends_paragraph,
                )
            )
    return chunks


def _pack(text: str, max_chars: int) -> Iterator[tuple[int, int, bool]]:
    """Greedily join sentence units into spans of at most max_chars."""
    current: tuple[int, int, bool] | None = None
    for start, end, ends_paragraph in _units(text, max_chars):
        if current is not None and end - current[0] <= max_chars and not _stands_alone(text, current):
            current = (current[0], end, ends_paragraph)
            continue
        if current is not None:
            yield current
        current = (start, end, ends_paragraph)
    if current is not None:
        yield current


def _stands_alone(text: str, span: tuple[int, int, bool]) -> bool:
    """A paragraph that ends in a word, with no punctuation (a heading, a list line, a line of verse). Joined to the
    next sentence, the voice would run straight on into it ("A Mad Tea-Party There was a table"); on its own it ends
    a chunk, and the join puts a paragraph's pause after it."""
    start, end, ends_paragraph = span
    last = text[start:end].rstrip().rstrip(_CLOSERS)[-1:]
    return ends_paragraph and last.isalnum()


def _units(text: str, max_chars: int) -> Iterator[tuple[int, int, bool]]:
    """Sentences (or pieces of over-long ones) as spans, each flagged if it ends its paragraph."""
    for paragraph in _PARAGRAPH.finditer(text):
        pieces: list[tuple[int, int]] = []
        for start, end in sentence_spans(text, paragraph.start(), paragraph.end()):
            pieces.extend(split_long(text, start, end, max_chars))
        for number, (start, end) in enumerate(pieces):
            yield start, end, number == len(pieces) - 1


def sentence_spans(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Sentences in text[start:end], as spans without surrounding whitespace."""
    sentence_start = _skip_space(text, start, end)
    for match in _TERMINAL.finditer(text, start, end):
        cut = match.end()
        if cut <= sentence_start or not _is_boundary(text, match, end):
            continue
        stripped_end = cut
        while stripped_end > sentence_start and text[stripped_end - 1].isspace():
            stripped_end -= 1
        yield sentence_start, stripped_end
        sentence_start = _skip_space(text, cut, end)
    while end > sentence_start and text[end - 1].isspace():
        end -= 1
    if end > sentence_start:
        yield sentence_start, end


def _is_boundary(text: str, match: re.Match[str], limit: int) -> bool:
    terminal = match.group()
    after = match.end()
    if terminal[0] in _CJK_TERMINALS:
        return True
    if after < limit and not text[after].isspace():
        return False  # "3.14", "U.S.A", "e.g.," : no space, no boundary
    following = text[_skip_space(text, after, limit) : limit][:2].lstrip(_CLOSERS + "\"'“‘«(")[:1]
    if following and following.islower():
        return False  # '"Oh!" said Alice' and "Mr. and" do not end sentences
    if terminal.rstrip(_CLOSERS) in {".", ""}:
        word = _word_before(text, match.start())
        lowered = word.lower()
        if lowered in _ABBREVIATIONS:
            return False
        if lowered in _SOFT_ABBREVIATIONS:
            return bool(following) and following.isupper()
        if len(word) == 1 and word.isupper():
            return False  # an initial, as in "J. R. R. Tolkien"
    if terminal.startswith(("...", "…")):
        return not following or following.isupper() or not following.isalpha()
    return True


def _word_before(text: str, index: int) -> str:
    start = index
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "."):
        start -= 1
    return text[start:index]


def _skip_space(text: str, index: int, limit: int) -> int:
    while index < limit and text[index].isspace():
        index += 1
    return index


def split_long(text: str, start: int, end: int, max_chars: int) -> Iterator[tuple[int, int]]:
    """Cut an over-long sentence at clause punctuation, else at a space, else hard, never leaving an empty piece."""
    while end - start > max_chars:
        cut, resume = _best_cut(text, start, max_chars)
        yield start, cut
        start = _skip_space(text, resume, end)
    if end > start:
        yield start, end


def _best_cut(text: str, start: int, max_chars: int) -> tuple[int, int]:
    """Where to end the piece that begins at start, and where the next one begins."""
    limit = start + max_chars
    window = text[start:limit]
    floor = max_chars // 3  # a clause cut that leaves a tiny piece is worse than a cut at a space
    clause_end = -1
    for match in _CLAUSE.finditer(window):
        after = match.end()
        followed_by_space = start + after >= len(text) or text[start + after].isspace()
        if after >= floor and (followed_by_space or _is_wide(window[match.start()])):
            clause_end = after
    if clause_end > 0:
        return start + clause_end, start + clause_end
    space = text.rfind(" ", start + 1, limit + 1)
    if space > start:
        return space, space + 1
    cut = limit
    while cut > start + 1 and unicodedata.combining(text[cut]):
        cut -= 1  # keep accents with their letters
    return cut, cut


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in {"W", "F"}
