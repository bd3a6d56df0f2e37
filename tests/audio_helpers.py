"""Real audio for tests: tones written as WAV, decoded back through the real ffmpeg."""

from __future__ import annotations

import array
import itertools
import math
import subprocess
from pathlib import Path

from tui_tts.audio.ffmpeg import Ffmpeg
from tui_tts.audio.wav import pcm_to_wav


def tone_pcm(seconds: float, rate: int, frequency: float = 440.0, amplitude: int = 12000) -> bytes:
    samples = array.array("h", (int(amplitude * math.sin(2 * math.pi * frequency * n / rate))
                                for n in range(int(seconds * rate))))  # fmt: skip
    return samples.tobytes()


def write_tone(path: Path, seconds: float, rate: int, frequency: float = 440.0) -> Path:
    path.write_bytes(pcm_to_wav(tone_pcm(seconds, rate, frequency), rate))
    return path


def encode(ffmpeg: Ffmpeg, source: Path, target: Path, *args: str) -> Path:
    subprocess.run([ffmpeg.path, "-v", "error", "-y", "-i", str(source), *args, str(target)], check=True)
    return target


def decode_mono(ffmpeg: Ffmpeg, path: Path, rate: int) -> array.array[int]:
    """Decode any audio file to 16-bit mono PCM samples at the given rate."""
    raw = subprocess.run(
        [ffmpeg.path, "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", str(rate), "-"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    samples = array.array("h")
    samples.frombytes(raw)
    return samples


def dominant_frequency(samples: array.array[int], rate: int) -> float:
    """Estimate a pure tone's frequency from its zero crossings."""
    crossings = sum(1 for a, b in itertools.pairwise(samples) if (a < 0) != (b < 0))
    return crossings / 2 / (len(samples) / rate)


def silence_pcm(seconds: float, rate: int) -> bytes:
    return bytes(2 * round(seconds * rate))


def write_padded_tone(path: Path, lead: float, tone: float, trail: float, rate: int, frequency: float) -> Path:
    """A tone with silence of its own before and after it, like an engine's chunk."""
    pcm = silence_pcm(lead, rate) + tone_pcm(tone, rate, frequency) + silence_pcm(trail, rate)
    path.write_bytes(pcm_to_wav(pcm, rate))
    return path


def silent_runs(
    samples: array.array[int], rate: int, threshold: int = 104, shortest: float = 0.05
) -> list[tuple[float, float]]:
    """(start, length) in seconds of every stretch of at least `shortest` seconds quieter than `threshold`."""
    runs: list[tuple[float, float]] = []
    start: int | None = None
    for index, value in enumerate(itertools.chain(samples, [threshold + 1])):
        if abs(value) <= threshold:
            start = index if start is None else start
        elif start is not None:
            if index - start >= shortest * rate:
                runs.append((start / rate, (index - start) / rate))
            start = None
    return runs
