"""The voices of the embedded espeak-ng, read from the voice files in its data folder (no library call needed)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True, slots=True)
class EspeakVoice:
    """One espeak-ng voice: what to put in `local.voice`, its name, and its languages (first is the main one)."""

    identifier: str
    name: str
    languages: tuple[str, ...]

    @property
    def language(self) -> str:
        return self.languages[0] if self.languages else self.identifier


@cache
def espeak_voices() -> tuple[EspeakVoice, ...]:
    """Every voice in the bundled espeak-ng data, sorted by identifier."""
    import espeakng_loader

    return voices_in(Path(espeakng_loader.get_data_path()) / "lang")


def voices_in(folder: Path) -> tuple[EspeakVoice, ...]:
    voices: list[EspeakVoice] = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        name, languages, dictionary = path.name, [], path.name.split("-")[0].lower()
        for line in path.read_text(encoding="latin-1").splitlines():
            words = line.split()
            if len(words) >= 2 and words[0] == "name":
                name = line.split(None, 1)[1].strip()
            elif len(words) >= 2 and words[0] == "language":
                languages.append(words[1].lower())
            elif len(words) >= 2 and words[0] == "dictionary":
                dictionary = words[1]
        if not (folder.parent / f"{dictionary}_dict").is_file():
            continue  # listed by espeak-ng's sources but not built into this data folder
        voices.append(EspeakVoice(path.name.lower(), name, tuple(languages)))
    return tuple(sorted(voices, key=lambda voice: voice.identifier))


def find_voice(name: str) -> EspeakVoice | None:
    """The voice named by `local.voice` (its identifier, or one of its languages), if espeak-ng has it."""
    wanted = name.lower()
    for voice in espeak_voices():
        if voice.identifier == wanted:
            return voice
    for voice in espeak_voices():
        if wanted in voice.languages:
            return voice
    return None
