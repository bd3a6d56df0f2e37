"""Any OpenAI-compatible /v1/audio/speech server: OpenAI, Kokoro-FastAPI, openedai-speech."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Literal

import httpx
from pydantic import Field

from tui_tts.audio.wav import pcm_to_wav
from tui_tts.config import HTTP_ADDRESS, SAME_AUDIO, EngineSettings
from tui_tts.engines.base import BadOutputError, Check, Engine, EngineSpec, FatalError, JobListener
from tui_tts.engines.breaker import EndpointBreaker
from tui_tts.engines.http import (
    api_key_from,
    classify_status,
    key_check,
    make_client,
    probe,
    raise_for_transport,
    validated_audio,
)
from tui_tts.models import Chunk, SynthesizedAudio

PCM_SAMPLE_RATE = 24_000  # OpenAI's raw "pcm" format: 24 kHz, 16-bit signed little-endian, mono


class OpenAISettings(EngineSettings):
    """An OpenAI-compatible /v1/audio/speech server."""

    base_url: Annotated[str, HTTP_ADDRESS] = "https://api.openai.com/v1"
    api_key_env: Annotated[str, Field(min_length=1), SAME_AUDIO] = "OPENAI_API_KEY"
    model: str = "tts-1"
    voice: str = "alloy"
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] = "mp3"
    speed: Annotated[float, Field(ge=0.25, le=4.0)] = 1.0
    request_timeout: Annotated[float, Field(gt=0), SAME_AUDIO] = 120.0
    cost_per_million_characters: Annotated[float, Field(ge=0), SAME_AUDIO] = 0.0
    voices: Annotated[list[str], SAME_AUDIO] = Field(default_factory=list)  # for `tui-tts voices`, over the server's


class OpenAIEngine(Engine):
    """POST {base_url}/audio/speech; the answer's body is the audio."""

    name = "openai"

    def __init__(self, settings: OpenAISettings, concurrency: int, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")
        key = api_key_from(settings.api_key_env, self.base_url, "the OpenAI-compatible server")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = client or make_client(self.base_url, headers, settings.request_timeout)
        self.requests = 0
        self.breaker: EndpointBreaker | None = None  # told of every answered and unanswered request

    def describe(self) -> str:
        return f"openai-compatible {self.base_url} (model {self.settings.model}, voice {self.settings.voice})"

    async def aclose(self) -> None:
        await self._client.aclose()

    def counters(self) -> dict[str, object]:
        return {"requests": self.requests}

    async def synthesize(
        self, chunk: Chunk, listener: JobListener, resume_job_id: str | None = None
    ) -> SynthesizedAudio:
        payload = {
            "model": self.settings.model,
            "input": chunk.text,
            "voice": self.settings.voice,
            "response_format": self.settings.response_format,
            "speed": self.settings.speed,
        }
        self.requests += 1
        try:
            response = await self._client.post("/audio/speech", json=payload)
        except httpx.TransportError as exc:
            if self.breaker is not None:
                self.breaker.record_unanswered()
            raise_for_transport(exc, "POST /audio/speech")
        if self.breaker is not None:
            if response.status_code >= 500:
                self.breaker.record_unanswered()
            else:
                self.breaker.record_answered()
        if response.status_code == 429 and _error_code(response) == "insufficient_quota":
            raise FatalError("the OpenAI-compatible server says the account has no quota left (insufficient_quota)")
        classify_status(response, "POST /audio/speech", "the OpenAI-compatible server")
        data = response.content
        if not data:
            raise BadOutputError("POST /audio/speech answered with no audio")
        if self.settings.response_format == "pcm":
            data = pcm_to_wav(data[: len(data) - len(data) % 2], PCM_SAMPLE_RATE)
        audio, facts = validated_audio(data, "the OpenAI-compatible server")
        return SynthesizedAudio(audio, facts)


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("code") or error.get("type") or "")
    return ""


def _cost(settings: OpenAISettings, characters: int, audio_seconds: float) -> float:
    """Paid by the character."""
    return characters * settings.cost_per_million_characters / 1_000_000


async def _checks(settings: OpenAISettings, engine: Engine) -> AsyncIterator[Check]:
    assert isinstance(engine, OpenAIEngine)
    yield key_check(settings.api_key_env)
    # Many OpenAI-compatible servers have no /models: a 404 there is no problem.
    yield await probe(engine.base_url + "/models", "server", settings.api_key_env, missing_route_ok=True)


SPEC = EngineSpec("openai", OpenAISettings, OpenAIEngine, cost=_cost, checks=_checks)
