"""What a paid run should cost, before it starts: characters -> expected audio seconds -> dollars."""

from __future__ import annotations

from dataclasses import dataclass

from tui_tts.config import Settings
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
    """RunPod: audio seconds x realtime_factor x cost_per_second. OpenAI-compatible: the price per character."""
    audio = characters / CHARACTERS_PER_SECOND
    dollars = 0.0
    if settings.engine == "runpod":
        dollars = audio * settings.runpod.realtime_factor * settings.runpod.cost_per_second
    elif settings.engine == "openai":
        dollars = characters * settings.openai.cost_per_million_characters / 1_000_000
    return CostEstimate(characters, audio, dollars)
