"""What one chunk's samples say about its speech: where it starts and ends, how loud it is, and the gain that evens it.

Engines return chunks at levels that wander by several dB (a whispered line, a different worker, a different model
warm-up). Matching every chunk's active speech level before the one final encode removes the jumps at seams; the
encode's loudnorm then sets the book's overall loudness and true peak. One chunk is in memory at a time.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

WINDOW_SECONDS = 0.02
MAX_GAIN_DB = 12.0  # never lift noise or a deliberately quiet chunk by more than this
CEILING_DBFS = -1.0  # a gain never pushes a sample above this

Samples = np.ndarray[Any, np.dtype[np.int16]]


def to_samples(pcm: bytes) -> Samples:
    """16-bit little-endian PCM as signed samples (a view, no copy)."""
    return np.frombuffer(pcm, dtype="<i2", count=len(pcm) // 2)


def speech_span(samples: Samples, channels: int, threshold: int) -> tuple[int, int]:
    """(first, end) frame of the audio louder than `threshold`; (0, 0) when it is all quieter."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > threshold)
    if loud.size == 0:
        return 0, 0
    return int(loud[0]) // channels, int(loud[-1]) // channels + 1


def speech_level_db(samples: Samples, channels: int, rate: int, threshold: int) -> float | None:
    """Active speech level in dBFS: the mean power of the 20 ms windows louder than `threshold` (None: all quiet)."""
    window = max(1, round(rate * WINDOW_SECONDS)) * channels
    usable = len(samples) // window * window
    if usable == 0:
        return None
    power = np.square(samples[:usable].astype(np.float64)).reshape(-1, window).mean(axis=1)
    active = power[power > float(threshold) ** 2]
    if active.size == 0:
        return None
    return 10 * math.log10(float(active.mean()) / 32768.0**2)


def matching_gain_db(level_db: float | None, peak: int, target_db: float) -> float:
    """The gain that brings a chunk to the target level, bounded so that it never clips nor lifts noise too far."""
    if level_db is None or peak <= 0:
        return 0.0
    headroom = CEILING_DBFS - 20 * math.log10(peak / 32768.0)
    return min(max(target_db - level_db, -MAX_GAIN_DB), MAX_GAIN_DB, headroom)


def level_matched(pcm: bytes, channels: int, rate: int, threshold: int, target_db: float) -> tuple[bytes, float]:
    """The chunk's PCM brought to the target speech level, and the gain applied in dB."""
    samples = to_samples(pcm)
    if samples.size == 0:
        return pcm, 0.0
    peak = int(np.abs(samples.astype(np.int32)).max())
    gain = matching_gain_db(speech_level_db(samples, channels, rate, threshold), peak, target_db)
    if abs(gain) < 0.05:
        return pcm, 0.0
    scaled = np.rint(samples.astype(np.float64) * 10 ** (gain / 20)).clip(-32768, 32767).astype("<i2")
    return scaled.tobytes(), gain
