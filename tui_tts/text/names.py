"""Words an engine is likely to say wrong: proper nouns and odd-looking words, with counts and a sample sentence.

A proper noun here is a word written with a capital in the middle of sentences and (almost) never in lower case; an
odd-looking word is one that English spelling rules would not produce (letters with diacritics in a mostly ASCII
text, no vowel at all, a q without u, three of one letter in a row). Both are guesses meant to start a lexicon.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from tui_tts.models import Document
from tui_tts.text.chunking import sentence_spans

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_OPENERS = "\"“‘'«(„[—:"
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)
# Capitalised by convention, and said right by any engine.
_COMMON_CAPITALS = frozenset(
    """
    i i'm i'll i've i'd o oh ok mr mrs ms dr sir miss madam lord lady god
    monday tuesday wednesday thursday friday saturday sunday january february march april may june july august
    september october november december english
    """.split()
)
_VOWELS = frozenset("aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýÿœ")
_ODD_SPELLING = re.compile(r"q(?!u)|(.)\1\1", re.IGNORECASE)


@dataclass
class WordStats:
    """What was seen of one word (keyed by its lower-case form)."""

    spelling: str  # the form to show: the most frequent capitalised one for names
    count: int = 0
    capital_inside: int = 0  # capitalised, not at a sentence start
    lower: int = 0
    sample: str = ""
    capital_sample: str = ""  # a sentence where it is written with a capital inside
    spellings: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of `tui-tts names`: the word, why it is listed, how often it occurs, and where."""

    word: str
    kind: str  # "name" or "rare"
    count: int
    sample: str


def find_names(document: Document, min_count: int = 1) -> list[Finding]:
    """Likely proper nouns and odd-looking words, most frequent first."""
    stats: dict[str, WordStats] = {}
    ascii_letters = total_letters = 0
    for sentence in _sentences(document):
        for position, match in enumerate(_WORD.finditer(sentence)):
            word = _POSSESSIVE.sub("", match.group())
            key = word.casefold()
            entry = stats.get(key)
            if entry is None:
                entry = stats[key] = WordStats(word, sample=_sample(sentence, match.start(), match.end()))
            entry.count += 1
            entry.spellings[word] = entry.spellings.get(word, 0) + 1
            total_letters += len(word)
            ascii_letters += sum(1 for char in word if char.isascii())
            if word.isupper() and len(word) > 1:
                pass  # SHOUTED or an acronym: neither a name's capital nor a lower-case use
            elif word[0].isupper():
                if position > 0 and sentence[: match.start()].rstrip()[-1:] not in _OPENERS:
                    entry.capital_inside += 1
                    entry.capital_sample = entry.capital_sample or _sample(sentence, match.start(), match.end())
            elif word[0].islower():
                entry.lower += 1
    mostly_ascii = total_letters > 0 and ascii_letters / total_letters > 0.9
    findings: list[Finding] = []
    for key, entry in stats.items():
        if entry.count < min_count:
            continue
        kind = _kind(key, entry, mostly_ascii)
        if kind:
            spelling = max(entry.spellings.items(), key=lambda item: (item[0][0].isupper(), item[1]))[0]
            sample = entry.capital_sample if kind == "name" else entry.sample
            findings.append(Finding(spelling, kind, entry.count, sample))
    findings.sort(key=lambda finding: (-finding.count, finding.word.casefold()))
    return findings


def _kind(key: str, entry: WordStats, mostly_ascii: bool) -> str:
    if key in _COMMON_CAPITALS or len(key) < 2:
        return ""
    inside = entry.capital_inside
    if inside and entry.lower * 4 <= inside and (inside > 1 or not entry.lower):
        return "name"
    letters = [char for char in key if char.isalpha()]
    if mostly_ascii and any(not char.isascii() for char in letters):
        return "rare"
    if all(char.isascii() for char in letters) and (not _VOWELS & set(letters) or _ODD_SPELLING.search(key)):
        return "rare"
    return ""


def _sentences(document: Document) -> Iterator[str]:
    for section in document.sections:
        text = section.text
        for start, end in sentence_spans(text, 0, len(text)):
            for line in text[start:end].split("\n"):  # a sentence never runs across a paragraph
                if line.strip():
                    yield " ".join(line.split())


def _sample(sentence: str, start: int, end: int, width: int = 90) -> str:
    """The sentence, or the part of it around the word when it is long."""
    if len(sentence) <= width:
        return sentence
    left = max(0, min(start - width // 3, len(sentence) - width))
    piece = sentence[left : left + width]
    return ("…" if left else "") + piece + ("…" if left + width < len(sentence) else "")


def lexicon_starter(findings: list[Finding]) -> str:
    """A TSV lexicon to edit: each word mapped to itself, with its count and sample as a comment above it."""
    lines = ["# tui-tts lexicon: word<TAB>what the engine should read; 're:PATTERN<TAB>replacement' for a regex", ""]
    for finding in findings:
        lines.append(f"# {finding.kind}, {finding.count}x: {finding.sample}")
        lines.append(f"{finding.word}\t{finding.word}")
    return "\n".join(lines) + "\n"
