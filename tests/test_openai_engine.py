"""The OpenAI-compatible engine against a small OpenAI-style server on 127.0.0.1 (real HTTP)."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web

from tests.audio_helpers import tone_pcm
from tui_tts.audio.ffmpeg import Ffmpeg
from tui_tts.audio.wav import pcm_to_wav
from tui_tts.engines.base import BadOutputError, ChunkRejectedError, FatalError, RateLimitedError, RetryableError
from tui_tts.engines.openai import OpenAIEngine, OpenAISettings
from tui_tts.models import Chunk

CHUNK = Chunk(0, 0, 0, 10, "Hello from the speech server.")


class NoJobs:
    async def job_submitted(self, chunk: Chunk, job_id: str) -> None:
        raise AssertionError("no remote jobs here")


@asynccontextmanager
async def speech_server(answer: Any) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    async def speech(request: web.Request) -> web.StreamResponse:
        seen.append({"body": await request.json(), "auth": request.headers.get("Authorization")})
        result: web.StreamResponse = answer(seen[-1]["body"])
        return result

    app = web.Application()
    app.router.add_post("/v1/audio/speech", speech)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/v1", seen
    finally:
        await runner.cleanup()


def mp3_bytes(ffmpeg: Ffmpeg) -> bytes:
    wav = pcm_to_wav(tone_pcm(0.5, 24000), 24000)
    return subprocess.run([ffmpeg.path, "-v", "error", "-i", "-", "-f", "mp3", "-"], input=wav,
                          capture_output=True, check=True).stdout  # fmt: skip


async def test_speech_request_and_formats(ffmpeg: Ffmpeg, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    mp3 = mp3_bytes(ffmpeg)
    pcm = tone_pcm(1.0, 24000)

    def answer(body: dict[str, Any]) -> web.Response:
        return web.Response(body=pcm if body["response_format"] == "pcm" else mp3)

    async with speech_server(answer) as (url, seen):
        for response_format, codec, duration in (("mp3", "mp3", 0.5), ("pcm", "pcm_s16le", 1.0)):
            settings = OpenAISettings(base_url=url, voice="nova", response_format=response_format, speed=1.25)
            engine = OpenAIEngine(settings, 4)
            audio = await engine.synthesize(CHUNK, NoJobs())
            await engine.aclose()
            assert audio.facts.codec == codec
            assert audio.facts.duration == pytest.approx(duration, abs=0.06)
        assert seen[0]["body"] == {"model": "tts-1", "input": CHUNK.text, "voice": "nova", "response_format": "mp3",
                                   "speed": 1.25}  # fmt: skip
        assert seen[0]["auth"] == "Bearer sk-test"


@pytest.mark.parametrize(
    ("status", "body", "headers", "error", "text"),
    [
        (401, {"error": {"message": "bad key"}}, {}, FatalError, "API key \\(HTTP 401\\)"),  # none sent: "wants"
        (429, {"error": {"code": "insufficient_quota", "message": "quota"}}, {}, FatalError, "no quota left"),
        (429, {"error": {"code": "rate_limit_exceeded"}}, {"Retry-After": "2"}, RateLimitedError, "429"),
        (503, {"error": "overloaded"}, {}, RetryableError, "HTTP 503"),
        (400, {"error": {"message": "input too long"}}, {}, ChunkRejectedError, "input too long"),
        (404, {"error": "no such route"}, {}, FatalError, "not found"),
        (200, None, {}, BadOutputError, "no audio"),
        (200, b"<html>not audio</html>", {}, BadOutputError, "unusable audio"),
    ],
)
async def test_errors_map_onto_the_taxonomy(status: int, body: Any, headers: dict[str, str], error: type,
                                            text: str) -> None:  # fmt: skip
    def answer(_: dict[str, Any]) -> web.Response:
        if isinstance(body, bytes) or body is None:
            return web.Response(status=status, body=body or b"", headers=headers)
        return web.json_response(body, status=status, headers=headers)

    async with speech_server(answer) as (url, _):
        engine = OpenAIEngine(OpenAISettings(base_url=url), 2)
        with pytest.raises(error, match=text) as caught:
            await engine.synthesize(CHUNK, NoJobs())
        await engine.aclose()
    if isinstance(caught.value, RateLimitedError):
        assert caught.value.retry_after == 2.0


def test_remote_server_needs_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(FatalError, match="OPENAI_API_KEY"):
        OpenAIEngine(OpenAISettings(), 2)
