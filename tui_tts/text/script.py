"""Which writing system a text is in, and which one a voice reads: enough to catch Chinese read by an English voice."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from tui_tts.models import Document

# (first, last, script) for the scripts a voice choice depends on; anything else alphabetic counts as "other".
_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x024F, "latin"), (0x1E00, 0x1EFF, "latin"),
    (0x0370, 0x03FF, "greek"), (0x1F00, 0x1FFF, "greek"),
    (0x0400, 0x052F, "cyrillic"),
    (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"), (0x0750, 0x077F, "arabic"),
    (0x0900, 0x097F, "devanagari"),
    (0x0E00, 0x0E7F, "thai"),
    (0x1100, 0x11FF, "hangul"), (0x3130, 0x318F, "hangul"), (0xAC00, 0xD7AF, "hangul"),
    (0x3040, 0x30FF, "kana"), (0x31F0, 0x31FF, "kana"), (0xFF66, 0xFF9F, "kana"),
    (0x3400, 0x4DBF, "han"), (0x4E00, 0x9FFF, "han"), (0xF900, 0xFAFF, "han"), (0x20000, 0x2FA1F, "han"),
)  # fmt: skip

# The language a text in each script most likely is, with the espeak-ng voice for it.
SCRIPT_LANGUAGE: dict[str, tuple[str, str]] = {
    "han": ("Chinese", "cmn"),
    "japanese": ("Japanese", "ja"),
    "hangul": ("Korean", "ko"),
    "cyrillic": ("Russian", "ru"),
    "greek": ("Greek", "el"),
    "arabic": ("Arabic", "ar"),
    "hebrew": ("Hebrew", "he"),
    "devanagari": ("Hindi", "hi"),
    "thai": ("Thai", "th"),
}

# Language tags (as in espeak-ng voices or BCP 47) to the script their voices read; unlisted ones read Latin.
_LANGUAGE_SCRIPT: dict[str, str] = {
    **dict.fromkeys(("cmn", "zh", "yue", "hak", "nan", "wuu"), "han"),
    "ja": "japanese",
    "ko": "hangul",
    **dict.fromkeys(("ru", "uk", "be", "bg", "mk", "kk", "ky", "tt", "ba", "cv", "sr", "nog"), "cyrillic"),
    **dict.fromkeys(("el", "grc"), "greek"),
    **dict.fromkeys(("ar", "fa", "ur", "sd", "ug", "ps"), "arabic"),
    "he": "hebrew",
    **dict.fromkeys(("hi", "mr", "ne", "kok", "sa"), "devanagari"),
    "th": "thai",
}
# Languages that espeak-ng or common servers read in another script than Latin but that are not listed above.
_OTHER_SCRIPT = frozenset(
    "am as bn bpy gu hy ka kn ml my or pa si ta te ti dv km lo bo chr shn".split()
)  # fmt: skip
# Kokoro's voice names start with a letter for the language: af_heart is American English, zf_xiaobei Mandarin.
_KOKORO = re.compile(r"^([abefhijpz])[fm]_[a-z]+$")
_KOKORO_LANGUAGE = {"a": "en", "b": "en", "e": "es", "f": "fr", "h": "hi", "i": "it", "j": "ja", "p": "pt", "z": "zh"}
# OpenAI's own voices speak whatever language the text is in.
_MULTILINGUAL = frozenset("alloy ash ballad coral echo fable onyx nova sage shimmer verse".split())
_LANGUAGE_TAG = re.compile(r"^([a-z]{2,3})(?:[-_][A-Za-z0-9]{2,8})*$")
_SAMPLE_CHARS = 200_000


@dataclass(frozen=True, slots=True)
class ScriptGuess:
    """The main writing system of a text ("latin", "han", "japanese", ...) and its share of the letters."""

    script: str
    share: float
    letters: int

    @property
    def language(self) -> str:
        """The language to name in a message ("Chinese"), or the script ("in Latin script")."""
        if self.script in SCRIPT_LANGUAGE:
            return SCRIPT_LANGUAGE[self.script][0]
        return f"in {self.script.capitalize()} script"


def script_of(char: str) -> str:
    code = ord(char)
    for first, last, script in _RANGES:
        if first <= code <= last:
            return script
    return "other"


def guess_script(document: Document) -> ScriptGuess | None:
    """The script most of the letters are in (kana anywhere among Han makes it Japanese); None with no letters."""
    counts: Counter[str] = Counter()
    budget = _SAMPLE_CHARS
    per_section = max(2_000, _SAMPLE_CHARS // max(1, len(document.sections)))
    for section in document.sections:  # a sample from every chapter, so a long English preface cannot hide the rest
        piece = section.text[: min(per_section, budget)]
        budget -= len(piece)
        counts.update(script_of(char) for char in piece if char.isalpha())
        if budget <= 0:
            break
    letters = sum(counts.values())
    if not letters:
        return None
    if counts["kana"] and counts["kana"] + counts["han"] >= letters / 2 and counts["kana"] >= letters * 0.05:
        return ScriptGuess("japanese", (counts["kana"] + counts["han"]) / letters, letters)
    counts.pop("kana", None)
    script, count = counts.most_common(1)[0] if counts else ("kana", letters)
    return ScriptGuess("japanese" if script == "kana" else script, count / letters, letters)


def voice_script(voice: str, language: str | None = None) -> str | None:
    """The script a voice reads, from its language tag or its name; None when that cannot be told."""
    tag = (language or "").lower()
    if not tag and voice.lower() in _MULTILINGUAL:
        return None
    if not tag:
        kokoro = _KOKORO.match(voice)
        if kokoro:
            tag = _KOKORO_LANGUAGE[kokoro.group(1)]
        elif _LANGUAGE_TAG.match(voice):
            tag = voice.lower()
    if not tag:
        return None
    base = re.split(r"[-_]", tag)[0]
    if base in _LANGUAGE_SCRIPT:
        return _LANGUAGE_SCRIPT[base]
    if base in _OTHER_SCRIPT:
        return "other"
    return "latin"


def fits(text_script: str, reads: str) -> bool:
    """Whether a voice that reads `reads` can read text in `text_script` (a Japanese voice reads kanji, too)."""
    if text_script == reads:
        return True
    return text_script == "han" and reads == "japanese"
