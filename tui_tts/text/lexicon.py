"""A pronunciation lexicon: word -> replacement, applied to the text sent to the engine, never to the text shown.

Two file forms, picked by the extension:

- TOML (`.toml`): `[words]` maps a word to its replacement, `[regex]` maps a pattern to its replacement (`\\1` for
  groups);
- TSV (anything else): one `word<TAB>replacement` per line, `# comments`, and `re:PATTERN<TAB>replacement` for the
  regex form.

Words match whole words only. An entry written all in lower case matches the word in any case and the replacement
follows the case the text used ("hermione" turns "Hermione" into "Her-my-oh-nee" and "HERMIONE" into
"HER-MY-OH-NEE"); an entry with a capital matches only that exact spelling ("Nice" the city, not "nice").
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tui_tts.errors import ConfigError

_REGEX_PREFIX = "re:"


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the lexicon: a word (or a pattern, when `regex`) and what the engine should read instead."""

    source: str
    replacement: str
    regex: bool = False
    where: str = ""  # "line 4" or "[words] 'Hermione'", for error messages


class Lexicon:
    """A compiled lexicon. `apply` is cheap enough to run on every chunk of a book."""

    def __init__(self, entries: Iterable[Entry] = (), origin: str = "") -> None:
        self.entries = tuple(entries)
        self.origin = origin
        self._exact: dict[str, str] = {}
        self._folded: dict[str, str] = {}
        self._patterns: list[tuple[re.Pattern[str], str]] = []
        words: list[str] = []
        for entry in self.entries:
            if entry.regex:
                self._patterns.append((_compile(entry, origin), entry.replacement))
                continue
            if entry.source != entry.source.strip() or not entry.source:
                raise ConfigError(f"lexicon {origin}: {entry.where}: an empty word, or one with spaces around it")
            if entry.source == entry.source.lower():
                self._folded[entry.source.casefold()] = entry.replacement
            else:
                self._exact[entry.source] = entry.replacement
            words.append(entry.source)
        self._words: re.Pattern[str] | None = None
        if words:  # one alternation, longest first, so "New York" wins over "New"
            ordered = sorted(set(words), key=lambda word: (-len(word), word))
            self._words = re.compile("|".join(_whole_word(word) for word in ordered), re.IGNORECASE)

    def __bool__(self) -> bool:
        return bool(self.entries)

    @property
    def digest(self) -> str:
        """A short hash of what the lexicon does (not of its comments or layout)."""
        blob = "\0".join(f"{e.regex:d}{e.source}\x1f{e.replacement}" for e in self.entries)
        return hashlib.sha256(blob.encode()).hexdigest()[:16] if self.entries else ""

    @property
    def identity(self) -> str:
        """What a run records of its lexicon (empty without one): the digest, and how many entries it has."""
        count = len(self.entries)
        return f"{self.digest} ({count} entr{'y' if count == 1 else 'ies'})" if count else ""

    def apply(self, text: str) -> str:
        """The text as the engine should read it."""
        if self._words is not None:
            text = self._words.sub(self._replace_word, text)
        for pattern, replacement in self._patterns:
            text = pattern.sub(replacement, text)
        return text

    def _replace_word(self, match: re.Match[str]) -> str:
        found = match.group(0)
        exact = self._exact.get(found)
        if exact is not None:
            return exact
        folded = self._folded.get(found.casefold())
        if folded is None:  # a case-sensitive entry matched case-insensitively: not this spelling
            return found
        return _follow_case(found, folded)


def _whole_word(word: str) -> str:
    """The word as a pattern that matches only whole words (no boundary next to CJK, which has no spaces)."""
    head = r"(?<!\w)" if _needs_boundary(word[0]) else ""
    tail = r"(?!\w)" if _needs_boundary(word[-1]) else ""
    return f"{head}{re.escape(word)}{tail}"


def _needs_boundary(char: str) -> bool:
    return (char.isalnum() or char == "_") and not ("\u2e80" <= char <= "\u9fff" or "\uac00" <= char <= "\ud7af")


def _follow_case(found: str, replacement: str) -> str:
    if len(found) > 1 and found.isupper():
        return replacement.upper()
    if found[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def _compile(entry: Entry, origin: str) -> re.Pattern[str]:
    try:
        pattern = re.compile(entry.source)
        pattern.sub(entry.replacement, "")  # parses the replacement: a bad group reference is caught here
    except (re.error, IndexError) as exc:
        raise ConfigError(f"lexicon {origin}: {entry.where}: bad regular expression {entry.source!r} -> "
                          f"{entry.replacement!r}: {str(exc).strip(chr(39))}") from None  # fmt: skip
    if pattern.fullmatch(""):
        raise ConfigError(f"lexicon {origin}: {entry.where}: the pattern {entry.source!r} matches empty text")
    return pattern


def load_lexicon(path: Path) -> Lexicon:
    """Read a lexicon file. Raises ConfigError with one line naming the file and the line or key at fault."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"lexicon file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"the lexicon path is a directory, not a file: {path}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read the lexicon {path}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"lexicon {path}: the file is not UTF-8 text") from None
    entries = _toml_entries(text, path) if path.suffix.lower() == ".toml" else _tsv_entries(text, path)
    return Lexicon(entries, str(path))


def _toml_entries(text: str, path: Path) -> list[Entry]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"lexicon {path}: invalid TOML: {exc}") from None
    unknown = sorted(set(document) - {"words", "regex"})
    if unknown:
        raise ConfigError(f"lexicon {path}: unknown table or key {unknown[0]!r}; allowed: [words], [regex]")
    entries: list[Entry] = []
    for table in ("words", "regex"):
        section = document.get(table, {})
        if not isinstance(section, dict):
            raise ConfigError(f'lexicon {path}: [{table}] must be a table of "word" = "replacement"')
        for source, replacement in section.items():
            if not isinstance(replacement, str):
                raise ConfigError(f"lexicon {path}: [{table}] {source!r}: the replacement must be a string, "
                                  f"got {replacement!r}")  # fmt: skip
            entries.append(Entry(source, replacement, table == "regex", f"[{table}] {source!r}"))
    return entries


def _tsv_entries(text: str, path: Path) -> list[Entry]:
    entries: list[Entry] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        source, tab, replacement = line.partition("\t")
        if not tab:
            raise ConfigError(f"lexicon {path}: line {number}: expected 'word<TAB>replacement', got {line.strip()!r}")
        replacement = replacement.split("\t#", 1)[0].rstrip("\r")
        regex = source.startswith(_REGEX_PREFIX)
        source = source[len(_REGEX_PREFIX) :] if regex else source.strip()
        if not source:
            raise ConfigError(f"lexicon {path}: line {number}: the word before the tab is empty")
        entries.append(Entry(source, replacement.strip(), regex, f"line {number}"))
    return entries


def changed_entries(old: Lexicon, new: Lexicon) -> list[str]:
    """The sources whose entry was added, removed or changed between two lexicons (for messages)."""
    before = {(e.regex, e.source): e.replacement for e in old.entries}
    after = {(e.regex, e.source): e.replacement for e in new.entries}
    return sorted(source for key in set(before) | set(after) if before.get(key) != after.get(key)
                  for source in [key[1]])  # fmt: skip


def configured_lexicon(path_setting: str, config_file: Path | None) -> Lexicon:
    """The lexicon `lexicon.path` names (relative to the config file's folder), or an empty one."""
    if not path_setting:
        return Lexicon()
    path = Path(path_setting).expanduser()
    if not path.is_absolute() and config_file is not None:
        path = config_file.parent / path
    return load_lexicon(path)
