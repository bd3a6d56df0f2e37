"""The embedded espeak-ng engine: real speech, WAV out, concurrent calls safe, bad voices refused clearly."""

from __future__ import annotations

import array
import asyncio
import shutil

import pytest

from tui_tts.audio.probe import inspect_audio
from tui_tts.engines.base import FatalError
from tui_tts.engines.local import LocalEngine, LocalSettings
from tui_tts.models import Chunk


class NoJobs:
    async def job_submitted(self, chunk: Chunk, job_id: str) -> None:
        raise AssertionError("the local engine has no remote jobs")


def rms(wav: bytes) -> float:
    samples = array.array("h")
    samples.frombytes(wav[44:])
    return (sum(s * s for s in samples) / max(1, len(samples))) ** 0.5


async def test_library_backend_speaks() -> None:
    engine = LocalEngine(LocalSettings(backend="library"))
    short = await engine.synthesize(Chunk(0, 0, 0, 5, "Hello."), NoJobs())
    long = await engine.synthesize(Chunk(1, 0, 0, 80, "Hello there. " * 8), NoJobs())
    assert short.facts.codec == "pcm_s16le" and short.facts.sample_rate == 22050 and short.facts.channels == 1
    assert 0.3 < short.facts.duration < 2.0
    assert long.facts.duration > 4 * short.facts.duration  # more text, more speech
    assert rms(long.data) > 500  # not silence
    assert inspect_audio(long.data)[1] == long.facts


async def test_concurrent_calls_do_not_mix_audio() -> None:
    engine = LocalEngine(LocalSettings(backend="library"))
    texts = [f"Sentence number {n} is spoken here." for n in range(12)]
    together = await asyncio.gather(*(engine.synthesize(Chunk(n, 0, 0, 1, t), NoJobs()) for n, t in enumerate(texts)))
    alone = [await engine.synthesize(Chunk(n, 0, 0, 1, t), NoJobs()) for n, t in enumerate(texts)]
    # espeak-ng varies by a few samples from call to call, so compare lengths: mixed or lost audio would differ a lot.
    for concurrent, sequential in zip(together, alone, strict=True):
        assert concurrent.facts.duration == pytest.approx(sequential.facts.duration, rel=0.01)
    assert len({round(a.facts.duration, 1) for a in together}) > 1


async def test_rate_changes_the_speed() -> None:
    slow = await LocalEngine(LocalSettings(rate=100, backend="library")).synthesize(
        Chunk(0, 0, 0, 1, "The same words at two speeds."), NoJobs())  # fmt: skip
    fast = await LocalEngine(LocalSettings(rate=300, backend="library")).synthesize(
        Chunk(0, 0, 0, 1, "The same words at two speeds."), NoJobs())  # fmt: skip
    assert slow.facts.duration > 1.8 * fast.facts.duration


def test_unknown_voice_is_refused_when_the_engine_starts() -> None:
    with pytest.raises(FatalError, match="xx-nonexistent"):
        LocalEngine(LocalSettings(voice="xx-nonexistent", backend="library"))


@pytest.mark.skipif(shutil.which("espeak-ng") is not None, reason="an espeak-ng binary is installed here")
def test_binary_backend_without_a_binary_is_a_clear_error() -> None:
    with pytest.raises(FatalError, match="no espeak-ng on PATH"):
        LocalEngine(LocalSettings(backend="binary"))
