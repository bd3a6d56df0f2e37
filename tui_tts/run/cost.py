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
    budget: float | None = None  # run.budget / --budget, when set
    spent: float = 0.0  # what earlier sessions of the run already paid

    @property
    def paid(self) -> bool:
        return self.dollars > 0

    @property
    def per_character(self) -> float:
        return self.dollars / self.characters if self.characters else 0.0

    def describe(self) -> str:
        text = (f"{self.characters:,} characters, about {format_duration(self.audio_seconds)} of audio, "
                f"about ${self.dollars:.2f}")  # fmt: skip
        if self.budget is None:
            return text
        left = max(0.0, self.budget - self.spent)
        spent = f", ${self.spent:.2f} of it already spent" if self.spent else ""
        if self.dollars <= left:
            return f"{text}, within the budget of ${self.budget:.2f}{spent}"
        share = 100 * left / self.dollars if self.dollars else 0.0
        return f"{text}, over the budget of ${self.budget:.2f}{spent}: it pauses after about {share:.0f}% of it"


def estimate_cost(settings: Settings, characters: int, spent: float = 0.0) -> CostEstimate:
    """The engine's price (its registry entry's `cost`) for the characters and the audio they should make, against
    the run's budget when it has one."""
    audio = characters / CHARACTERS_PER_SECOND
    return CostEstimate(characters, audio, engine_cost(settings, characters, audio), settings.run.budget, spent)
