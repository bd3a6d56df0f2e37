"""Seams between chunks: where each chunk's speech starts and ends, and the pause each kind of boundary gets.

Engines pad their audio with silence of their own choosing (often different from chunk to chunk), so the pause a
listener hears at a seam is trailing silence + leading silence. To make pauses even, each chunk keeps at most `edge`
seconds of its own silence at either end, and the silence inserted makes the whole gap exactly the configured pause.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Pauses:
    """Silence, in seconds, at each kind of boundary, and how chunk edges are trimmed."""

    sentence: float = 0.35  # between chunks inside a paragraph
    paragraph: float = 0.8  # after a chunk that ends a paragraph
    chapter: float = 2.0  # after a chapter's last chunk
    start: float = 0.5  # before the first chunk
    end: float = 1.0  # after the last chunk
    edge: float = 0.03  # at most this much of a chunk's own leading/trailing silence is kept
    threshold_db: float = -50.0  # quieter than this (dBFS) counts as silence


@dataclass(frozen=True, slots=True)
class SeamPlan:
    """What the seam-aware join needs: the pause after each chunk, the lead-in, and how to trim edges."""

    after: tuple[float, ...]
    start: float
    edge: float
    threshold_db: float
    level_db: float | None = None  # bring every chunk's speech to this level (dBFS), for even loudness


def plan_seams(sections: Sequence[int], ends_paragraph: Sequence[bool], pauses: Pauses) -> SeamPlan:
    """The pause after each chunk: `end` after the last, `chapter` before a new section, then paragraph or sentence."""
    after: list[float] = []
    for number, (section, paragraph_end) in enumerate(zip(sections, ends_paragraph, strict=True)):
        if number == len(sections) - 1:
            after.append(pauses.end)
        elif sections[number + 1] != section:
            after.append(pauses.chapter)
        else:
            after.append(pauses.paragraph if paragraph_end else pauses.sentence)
    return SeamPlan(tuple(after), pauses.start, pauses.edge, pauses.threshold_db)


def amplitude(threshold_db: float) -> int:
    """A dBFS level as a 16-bit sample magnitude."""
    return max(1, round(32768 * 10 ** (threshold_db / 20)))


def trim_bounds(span: tuple[int, int], frames: int, edge_frames: int) -> tuple[int, int]:
    """The frames of a chunk to keep: its speech plus at most `edge_frames` of its own silence on each side."""
    first, end = span
    if first == end:  # nothing above the threshold: the chunk is silence, and the pauses stand in for it
        return 0, 0
    return max(0, first - edge_frames), min(frames, end + edge_frames)
