"""What a paid run should cost, before it starts: characters -> expected audio seconds -> dollars."""

from __future__ import annotations

from dataclasses import dataclass

from tui_tts.config import Settings
from tui_tts.engines.registry import engine_cost
from tui_tts.run.progress import format_duration

# About 175 words a minute at ~5.7 characters a word (with the space): speech runs near 16 characters a second.
CHARACTERS_PER_SECOND = 16.0


@dataclass(frozen=True)
class CostEstimate:
    characters: int
    audio_seconds: float
    dollars: float

    @property
    def paid(self) -> bool:
        return self.dollars > 0

    def describe(self) -> str:
        return (f"{self.characters:,} characters, about {format_duration(self.audio_seconds)} of audio, "
                f"about ${self.dollars:.2f}")  # fmt: skip


def estimate_cost(settings: Settings, characters: int) -> CostEstimate:
    """The engine's price (its registry entry's `cost`) for the characters and the audio they should make."""
    audio = characters / CHARACTERS_PER_SECOND
    return CostEstimate(characters, audio, engine_cost(settings, characters, audio))
