"""The emulator's /health follows its real state; dormant, sick, cold and streaming endpoints behave as the cloud's."""

from __future__ import annotations

import array
import asyncio
import base64
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.audio_helpers import decode_mono, dominant_frequency
from tui_tts.audio.ffmpeg import Ffmpeg
from tui_tts.emulator import EmulatorConfig, running_emulator
from tui_tts.emulator.workers import tone_frequency
from tui_tts.engines.base import BadOutputError
from tui_tts.engines.health import warm_up
from tui_tts.engines.runpod import RunpodEngine, RunpodSettings
from tui_tts.models import Chunk


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


# ----- the engine against those states -----


def _engine(url: str, **settings: Any) -> RunpodEngine:
    values: dict[str, Any] = {"endpoint_url": url, "poll_initial": 0.02, "poll_max": 0.1, **settings}
    return RunpodEngine(RunpodSettings(**values), concurrency=4)


class _Jobs:
    async def job_submitted(self, chunk: Chunk, job_id: str) -> None:
        pass


@pytest.mark.parametrize(("shape", "mode"), [("base64", "run"), ("pcm", "stream"), ("pcm", "run")])
async def test_a_streaming_workers_pieces_become_the_chunks_audio(shape: str, mode: str) -> None:
    config = EmulatorConfig(latency=0.05, workers=2, stream=shape, stream_pieces=5)  # type: ignore[arg-type]
    text = "The pieces of this sentence arrive one by one."
    async with running_emulator(config) as (url, _):
        engine = _engine(url, mode=mode)
        try:
            audio = await engine.synthesize(Chunk(0, 0, 0, len(text), text), _Jobs())
        finally:
            await engine.aclose()
    assert engine.streamed == 1
    assert audio.facts.sample_rate == 24_000 and audio.facts.duration == pytest.approx(len(text) * 0.06, abs=0.01)
    pcm = array.array("h", audio.data[44:])
    assert dominant_frequency(pcm, 24_000) == pytest.approx(tone_frequency(text), rel=0.03)


async def test_a_job_without_output_and_without_stream_is_still_bad_output() -> None:
    async with running_emulator(EmulatorConfig(latency=0.01, lost_output_rate=1.0)) as (url, _):
        engine = _engine(url)
        try:
            with pytest.raises(BadOutputError, match="without output"):
                await engine.synthesize(Chunk(0, 0, 0, 5, "Hello"), _Jobs())
        finally:
            await engine.aclose()


async def test_engine_health_reads_every_worker_state() -> None:
    config = EmulatorConfig(latency=0.01, workers=4, unhealthy_workers=1, throttled_workers=1)
    async with running_emulator(config) as (url, _):
        engine = _engine(url)
        try:
            health = await engine.health()
        finally:
            await engine.aclose()
    assert health is not None and health.usable == 2 and health.problem() is None
    assert health.summary() == "workers 0 run 2 idle 1 throttled 1 unhealthy · queue 0"


async def test_health_problems_name_what_to_check() -> None:
    for config, words in [
        (EmulatorConfig(dormant=True), "max workers"),
        (EmulatorConfig(workers=2, unhealthy_workers=2), "unhealthy"),
        (EmulatorConfig(workers=2, throttled_workers=2), "throttled"),
        (EmulatorConfig(workers=2, unhealthy_workers=1, throttled_workers=1), "1 unhealthy, 1 throttled"),
    ]:
        async with running_emulator(config) as (url, _):
            engine = _engine(url)
            try:
                health = await engine.health()
            finally:
                await engine.aclose()
        assert health is not None
        problem = health.problem()
        assert problem is not None and words in problem and "RunPod's console" in problem


async def test_warm_up_reports_a_cold_start_whose_boot_is_metered_on_the_workers_first_job() -> None:
    async with running_emulator(EmulatorConfig(latency=0.05, jitter=0, workers=1, cold_start=2.0)) as (url, _):
        engine = _engine(url, cost_per_second=1.0)
        try:
            cold = await warm_up(engine)
            second = await engine.synthesize(Chunk(1, 0, 0, 6, "Second"), _Jobs())
            warm = await warm_up(engine)
        finally:
            await engine.aclose()
    assert "delayTime 2.0 s (a cold start)" in cold and "about $2.0" in cold  # its boot and its execution
    assert second.job_facts["cost"] == pytest.approx(second.job_facts["execution_ms"] / 1000)  # type: ignore[operator]
    assert "(warm)" in warm


@pytest.mark.slow
@pytest.mark.parametrize("shape", ["base64", "pcm"])
async def test_a_streaming_workers_chunks_stitch_in_order(tmp_path: Path, ffmpeg: Ffmpeg, shape: str) -> None:
    from tests.test_remote_runs import STORY
    from tui_tts.run.request import RunRequest
    from tui_tts.run.session import open_session

    config = EmulatorConfig(workers=4, latency=0.05, stream=shape, stream_pieces=3)  # type: ignore[arg-type]
    source = tmp_path / "story.txt"
    source.write_text(STORY[:1500], encoding="utf-8")
    async with running_emulator(config) as (url, emulator):
        overrides = {"engine": "runpod", "output": {"format": "wav"}, "run": {"max_chars": 120},
                     "runpod": {"endpoint_url": url, "poll_initial": 0.02, "poll_max": 0.05}}  # fmt: skip
        request = RunRequest(input=source, output=tmp_path / "out.wav", data_dir=str(tmp_path / "d"),
                             overrides=overrides, yes=True)  # fmt: skip
        async with open_session(request) as session:
            outcome = await session.controller.execute()
            records = await session.controller.store.chunks.load(session.plan.run.id)
        requests = emulator.stats()["requests"]
    assert outcome.output is not None and len(records) > 8 and requests["stream"] >= len(records)
    samples = decode_mono(ffmpeg, outcome.output.path, 24_000)
    for record, position in zip(records, outcome.output.starts, strict=True):  # each chunk's pitch, in book order
        assert record.facts is not None
        start = int((position + record.facts.duration * 0.3) * 24_000)
        end = int((position + record.facts.duration * 0.7) * 24_000)
        heard = dominant_frequency(samples[start:end], 24_000)
        assert heard == pytest.approx(tone_frequency(record.chunk.text), rel=0.03), record.chunk.index
