"""One chunk's speech: active speech level, bounded level-matching gains, no clipping."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.audio_helpers import tone_pcm
from tui_tts.audio.speech import MAX_GAIN_DB, level_matched, matching_gain_db, speech_level_db

RATE = 22050


def level_of(pcm: bytes) -> float | None:
    return speech_level_db(np.frombuffer(pcm, dtype="<i2"), 1, RATE, 104)


def test_active_level_ignores_the_pauses_inside_a_chunk() -> None:
    tone = tone_pcm(1.0, RATE, amplitude=3000)
    expected = 20 * math.log10(3000 / math.sqrt(2) / 32768)
    assert level_of(tone) == pytest.approx(expected, abs=0.1)
    with_pauses = bytes(2 * RATE) + tone + bytes(2 * RATE)
    assert level_of(with_pauses) == pytest.approx(expected, abs=0.3)
    assert level_of(bytes(2 * RATE)) is None


def test_gains_are_bounded_by_the_limit_and_by_the_headroom() -> None:
    assert matching_gain_db(-30.0, 1000, -18.0) == pytest.approx(12.0)
    assert matching_gain_db(-40.0, 1000, -18.0) == MAX_GAIN_DB
    assert matching_gain_db(-10.0, 20000, -18.0) == pytest.approx(-8.0)
    loud_peak = 26000  # -2 dBFS: only 1 dB of room below the -1 dBFS ceiling
    assert matching_gain_db(-25.0, loud_peak, -18.0) == pytest.approx(-1 - 20 * math.log10(loud_peak / 32768))
    assert matching_gain_db(None, 0, -18.0) == 0.0


def test_a_quiet_chunk_is_brought_to_the_target_without_clipping() -> None:
    quiet = bytes(RATE) + tone_pcm(1.0, RATE, amplitude=2500) + bytes(RATE)
    matched, gain = level_matched(quiet, 1, RATE, 104, -18.0)
    assert gain > 0 and level_of(matched) == pytest.approx(-18.0, abs=0.3)
    assert len(matched) == len(quiet)
    assert int(np.abs(np.frombuffer(matched, dtype="<i2").astype(np.int32)).max()) < 32767
    silent = bytes(4 * RATE)
    assert level_matched(silent, 1, RATE, 104, -18.0) == (silent, 0.0)
