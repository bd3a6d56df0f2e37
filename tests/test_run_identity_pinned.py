"""Run identity is what resume finds a run by: these hashes were computed before the engine registry existed."""

from __future__ import annotations

import pytest

from tui_tts.engines.registry import load_settings
from tui_tts.run.runner import audio_settings, run_identity

PINNED = [
    ({}, None, "52c3ad81187c36022c2a0210bae04864117539748521d3a6d3d7c0444be1bcd8"),
    ({"engine": "local", "local": {"voice": "en-gb", "rate": 200, "backend": "binary"},
      "run": {"max_chars": 800, "concurrency": 9}}, None,
     "b04d9325a4611c30f0bf3e582fcb3fd841810a582775326ef68d70c35a0a36c1"),
    ({"engine": "runpod", "runpod": {"endpoint_id": "abc", "input": {"text": "{text}", "voice": "af"},
      "policy": {"ttl": 5}, "cost_per_second": 0.001, "mode": "runsync", "poll_max": 3.0}}, None,
     "9383cfa77635b03864901284cce5c45c2ff92cc9742806530a3924b586b3339a"),
    ({"engine": "openai", "openai": {"base_url": "http://x/v1", "voice": "nova", "speed": 1.25,
      "response_format": "pcm", "cost_per_million_characters": 15.0, "api_key_env": "K"}}, {"chapters": "1-3"},
     "aaa5a95ce9e5d67ce7c9a72a62c0b834bd5666aff07d1618ab1f2b66d380cc2a"),
]  # fmt: skip


@pytest.mark.parametrize(("overrides", "variant", "run_key"), PINNED)
def test_run_identity_is_unchanged(overrides: dict[str, object], variant: dict[str, object] | None,
                                   run_key: str) -> None:  # fmt: skip
    settings = load_settings(None, overrides)
    assert run_identity(b"hello world", settings, variant)[1] == run_key


def test_only_audio_settings_are_stored() -> None:
    settings = load_settings(None, {"engine": "runpod", "runpod": {"endpoint_id": "abc", "mode": "runsync",
                                                                   "request_timeout": 9.0}})  # fmt: skip
    assert audio_settings(settings) == {
        "engine": "runpod", "max_chars": 400,
        "runpod": {"endpoint_id": "abc", "endpoint_url": "", "input": {"text": "{text}"},
                   "audio_field": "audio_base64", "policy": {}},
    }  # fmt: skip
