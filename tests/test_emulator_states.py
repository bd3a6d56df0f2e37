"""The emulator's /health follows its real state; dormant, sick, cold and streaming endpoints behave as the cloud's."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx

from tui_tts.emulator import EmulatorConfig, running_emulator


async def _run(client: httpx.AsyncClient, url: str, text: str = "Hello there.") -> str:
    answer = (await client.post(f"{url}/run", json={"input": {"text": text}})).json()
    return str(answer["id"])


async def _health(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get(f"{url}/health")).json()
    return body


async def test_health_counts_follow_jobs_and_workers() -> None:
    config = EmulatorConfig(latency=0.4, jitter=0, workers=2)
    async with running_emulator(config) as (url, _), httpx.AsyncClient() as client:
        ids = [await _run(client, url, f"Sentence {n}.") for n in range(5)]
        await asyncio.sleep(0.1)
        health = await _health(client, url)
        assert health["jobs"]["inProgress"] == 2 and health["jobs"]["inQueue"] == 3
        assert health["workers"]["running"] == 2 and health["workers"]["idle"] == 0
        await asyncio.sleep(1.3)
        health = await _health(client, url)
        assert health["jobs"] == {"completed": 5, "failed": 0, "inProgress": 0, "inQueue": 0, "retried": 0}
        assert health["workers"]["idle"] == 2 and health["workers"]["running"] == 0
        assert len(ids) == 5


async def test_a_dormant_endpoint_has_no_workers_and_keeps_jobs_queued() -> None:
    async with running_emulator(EmulatorConfig(latency=0.01, dormant=True)) as (url, _), httpx.AsyncClient() as c:
        job = await _run(c, url)
        await asyncio.sleep(0.2)
        assert (await c.get(f"{url}/status/{job}")).json()["status"] == "IN_QUEUE"
        health = await _health(c, url)
        assert set(health["workers"].values()) == {0} and health["jobs"]["inQueue"] == 1


async def test_unhealthy_and_throttled_workers_take_no_jobs() -> None:
    config = EmulatorConfig(latency=0.01, workers=3, unhealthy_workers=2, throttled_workers=1)
    async with running_emulator(config) as (url, _), httpx.AsyncClient() as client:
        job = await _run(client, url)
        await asyncio.sleep(0.3)
        assert (await client.get(f"{url}/status/{job}")).json()["status"] == "IN_QUEUE"
        workers = (await _health(client, url))["workers"]
        assert workers["unhealthy"] == 2 and workers["throttled"] == 1 and workers["idle"] == 0


async def test_workers_turn_unhealthy_after_a_while() -> None:
    config = EmulatorConfig(latency=0.01, workers=3, unhealthy_workers=2, sick_after=0.3)
    async with running_emulator(config) as (url, _), httpx.AsyncClient() as client:
        assert (await _health(client, url))["workers"]["unhealthy"] == 0
        await asyncio.sleep(0.4)
        workers = (await _health(client, url))["workers"]
        assert workers["unhealthy"] == 2 and workers["idle"] == 1


async def test_a_cold_start_shows_as_initializing_and_in_delay_time() -> None:
    config = EmulatorConfig(latency=0.05, jitter=0, workers=1, cold_start=0.4)
    async with running_emulator(config) as (url, _), httpx.AsyncClient() as client:
        first = await _run(client, url)
        await asyncio.sleep(0.15)
        health = await _health(client, url)
        assert health["workers"]["initializing"] == 1 and health["jobs"]["inQueue"] == 1
        await asyncio.sleep(0.5)
        body = (await client.get(f"{url}/status/{first}")).json()
        assert body["status"] == "COMPLETED" and body["delayTime"] >= 380
        second = await _run(client, url)  # the worker is warm now
        await asyncio.sleep(0.15)
        assert (await client.get(f"{url}/status/{second}")).json()["delayTime"] < 100


async def test_a_streaming_worker_puts_its_audio_only_on_stream() -> None:
    config = EmulatorConfig(latency=0.2, jitter=0, workers=1, stream="pcm", stream_pieces=3)
    async with running_emulator(config) as (url, _), httpx.AsyncClient() as client:
        job = await _run(client, url, "A streamed sentence.")
        pieces: list[dict[str, Any]] = []
        status = "IN_QUEUE"
        while status != "COMPLETED":
            await asyncio.sleep(0.05)
            answer = (await client.get(f"{url}/stream/{job}")).json()
            status = answer["status"]
            pieces += [item["output"] for item in answer["stream"]]
        body = (await client.get(f"{url}/status/{job}")).json()
        assert body["status"] == "COMPLETED" and "output" not in body
        assert len(pieces) == 3 and all(piece["sample_rate"] == 24_000 for piece in pieces)
        pcm = b"".join(base64.b64decode(piece["audio_base64"]) for piece in pieces)
        assert len(pcm) == int(len("A streamed sentence.") * 0.06 * 24_000) * 2
        assert (await client.get(f"{url}/stream/{job}")).json()["stream"] == []  # each piece is read once
