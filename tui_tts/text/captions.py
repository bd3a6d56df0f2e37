"""Captions (SRT, WebVTT): one cue per sentence, timed from where each chunk's speech lies in the output.

A chunk's edges are exact (counted in samples by the join); inside a chunk, its sentences share its time in
proportion to their length, which is an estimate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tui_tts.text.chunking import sentence_spans

CaptionFormat = Literal["srt", "vtt"]


@dataclass(frozen=True, slots=True)
class Cue:
    start: float  # seconds
    end: float
    text: str


def split_by_length(start: float, end: float, weights: Sequence[int]) -> list[tuple[float, float]]:
    """Cut [start, end] into consecutive spans in proportion to weights; the first starts at start, the last ends
    at end exactly."""
    total = sum(max(weight, 1) for weight in weights)
    spans: list[tuple[float, float]] = []
    done = 0
    for number, weight in enumerate(weights):
        first = start + (end - start) * done / total
        done += max(weight, 1)
        last = end if number == len(weights) - 1 else start + (end - start) * done / total
        spans.append((first, last))
    return spans


def sentences(text: str) -> list[str]:
    """A chunk's sentences (the chunker's own rules); a chunk without one is one cue."""
    found = [text[first:last] for first, last in sentence_spans(text, 0, len(text))]
    return found or [text]


def chunk_cues(texts: Sequence[str], speech: Sequence[tuple[float, float]]) -> list[Cue]:
    """One cue per sentence of every chunk; chunks without speech (silence) get none."""
    cues: list[Cue] = []
    for text, (start, end) in zip(texts, speech, strict=True):
        if end <= start or not text.strip():
            continue
        parts = sentences(text)
        for part, (first, last) in zip(parts, split_by_length(start, end, [len(p) for p in parts]), strict=True):
            cues.append(Cue(first, last, part))
    return cues


def _clock(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def render(cues: Sequence[Cue], kind: CaptionFormat) -> str:
    """SRT (numbered cues, comma before the milliseconds) or WebVTT (a header, a dot)."""
    separator = "," if kind == "srt" else "."
    blocks = [] if kind == "srt" else ["WEBVTT"]
    for number, cue in enumerate(cues, start=1):
        text = " ".join(cue.text.split())
        if kind == "vtt":  # a cue's text must not hold "-->", and & and < are markup there
            text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        timing = f"{_clock(cue.start, separator)} --> {_clock(max(cue.end, cue.start + 0.001), separator)}"
        blocks.append(f"{number}\n{timing}\n{text}")
    return "\n\n".join(blocks) + "\n"


def caption_path(audio: Path, kind: CaptionFormat) -> Path:
    """The sidecar beside an audio file: `Book - Part 1.m4b` -> `Book - Part 1.srt`."""
    return audio.with_suffix(f".{kind}")


def write_captions(path: Path, cues: Sequence[Cue], kind: CaptionFormat) -> None:
    """Write the sidecar through a temp file renamed into place."""
    partial = path.with_name(f".{path.name}.part")
    partial.write_text(render(cues, kind), encoding="utf-8", newline="\n")
    partial.replace(path)
