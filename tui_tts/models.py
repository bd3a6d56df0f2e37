"""Plain data shared by every layer: documents, chunks, chunk states, audio facts and a chunk's stored details."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


def money(amount: float) -> str:
    """Cents when they say it all ($2.00, $0.05), else four places: a job's cost is often a fraction of a cent."""
    return f"${amount:.2f}" if amount >= 1 or abs(amount - round(amount, 2)) < 1e-9 else f"${amount:.4f}"


@dataclass(frozen=True, slots=True)
class Section:
    """A titled part of a document (a chapter, or the whole text of a plain file).

    `text` holds paragraphs separated by a blank line; whitespace inside a paragraph is a single space.
    """

    title: str
    text: str


@dataclass(frozen=True, slots=True)
class TextCoverage:
    """How much of a book's own text is read, in characters not counting whitespace, and what is left out and why.

    `left_out` names each reason (front matter, notes, navigation, ...) with its size; `pictures` counts the
    documents that are images without text. Whatever is neither read nor explained is `unexplained`.
    """

    total: int
    read: int
    left_out: tuple[tuple[str, int], ...] = ()
    pictures: int = 0

    @property
    def unexplained(self) -> int:
        return max(0, self.total - self.read - sum(size for _, size in self.left_out))


@dataclass(frozen=True, slots=True)
class Document:
    """An ordered list of sections, as loaded from a txt, Markdown, EPUB or PDF file."""

    title: str
    sections: tuple[Section, ...]
    author: str = ""
    cover: bytes | None = field(default=None, repr=False)
    coverage: TextCoverage | None = field(default=None, repr=False)

    @property
    def char_count(self) -> int:
        return sum(len(section.text) for section in self.sections)


@dataclass(frozen=True, slots=True)
class Chunk:
    """One piece of text sent to an engine in one request.

    `start`/`end` are offsets into the section's text; `text` is that span with whitespace folded.
    """

    index: int
    section: int
    start: int
    end: int
    text: str
    ends_paragraph: bool = False


class ChunkState(enum.StrEnum):
    """Where a chunk is in its life. `retry` means it failed and waits to be tried again."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """A notable event the store logged for a chunk (a retry, a failure)."""

    at: float  # seconds since the epoch
    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class ChunkDetails:
    """Everything the store knows of one chunk: its state, tries, remote job, timings, audio and logged events."""

    index: int
    section: int
    state: ChunkState
    attempts: int
    text: str
    last_error: str | None = None
    job_id: str | None = None
    submissions: int = 0
    worker_id: str | None = None
    elapsed: float | None = None  # seconds the last try took
    delay_ms: int | None = None  # the remote backend's queue wait
    execution_ms: int | None = None
    cost: float | None = None
    duration: float | None = None  # seconds of audio
    events: tuple[LoggedEvent, ...] = ()  # oldest first
    audio_path: str | None = None
    edited: str | None = None  # the person's edit of the text, read instead of it


@dataclass(frozen=True, slots=True)
class AudioFacts:
    """What a stitcher needs to know about one audio file."""

    codec: str  # e.g. "pcm_s16le", "mp3", "opus", "flac", "aac"
    container: str  # e.g. "wav", "mp3", "ogg", "flac", "mp4"
    sample_rate: int
    channels: int
    duration: float  # seconds

    @property
    def stream_key(self) -> tuple[str, int, int]:
        """Chunks that share this key can be joined by stream copy."""
        return (self.codec, self.sample_rate, self.channels)


@dataclass(frozen=True, slots=True)
class SynthesizedAudio:
    """The audio an engine returned for one chunk, plus provenance for the store."""

    data: bytes
    facts: AudioFacts
    job_facts: dict[str, object] = field(default_factory=dict)
