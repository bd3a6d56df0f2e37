"""The RunPod engine against `tui-tts emulate` over real HTTP on 127.0.0.1: every documented failure."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web

from tui_tts.audio.wav import pcm_to_wav
from tui_tts.emulator import Emulator, EmulatorConfig, running_emulator
from tui_tts.engines.base import BadOutputError, FatalError, RateLimitedError, RetryableError
from tui_tts.engines.http import audio_from_value, dig, retry_after_seconds
from tui_tts.engines.runpod import JobLostError, RunpodEngine, RunpodSettings, fill_template
from tui_tts.models import Chunk

CHUNK = Chunk(0, 0, 0, 40, "The rabbit looked at its watch and ran.")


class Jobs:
    """A JobListener that remembers the ids, and when they were announced."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    async def job_submitted(self, chunk: Chunk, job_id: str) -> None:
        self.ids.append(job_id)


@asynccontextmanager
async def engine_and_emulator(
    config: EmulatorConfig | None = None, **settings: Any
) -> AsyncIterator[tuple[RunpodEngine, Emulator]]:
    async with running_emulator(config or EmulatorConfig(latency=0.05, workers=4)) as (url, emulator):
        values: dict[str, Any] = {"endpoint_url": url, "poll_initial": 0.02, "poll_max": 0.1, **settings}
        engine = RunpodEngine(RunpodSettings(**values), concurrency=4)
        try:
            yield engine, emulator
        finally:
            await engine.aclose()


async def test_run_then_status_gives_valid_audio_and_job_facts() -> None:
    async with engine_and_emulator(cost_per_second=0.5) as (engine, emulator):
        jobs = Jobs()
        audio = await engine.synthesize(CHUNK, jobs)
    assert audio.facts.codec == "pcm_s16le" and audio.facts.sample_rate == 24_000
    assert audio.facts.duration == pytest.approx(len(CHUNK.text) * 0.06, abs=0.01)
    assert len(jobs.ids) == 1 and audio.job_facts["job_id"] == jobs.ids[0]
    assert audio.job_facts["worker_id"] == "emu-worker-0"
    assert isinstance(audio.job_facts["execution_ms"], int) and audio.job_facts["execution_ms"] >= 40
    assert audio.job_facts["cost"] == pytest.approx(0.5 * int(audio.job_facts["execution_ms"]) / 1000)
    assert emulator.stats()["submitted"] == 1


async def test_runsync_completes_in_one_request() -> None:
    async with engine_and_emulator(mode="runsync") as (engine, emulator):
        for n in range(5):
            await engine.synthesize(Chunk(n, 0, 0, 1, f"Sentence {n}."), Jobs())
        assert emulator.stats()["requests"] == {"runsync": 5}


async def test_runsync_that_is_not_done_in_time_continues_by_polling() -> None:
    config = EmulatorConfig(latency=1.3, jitter=0, workers=1)
    async with engine_and_emulator(config, mode="runsync", runsync_wait_ms=1000) as (engine, emulator):
        jobs = Jobs()
        audio = await engine.synthesize(CHUNK, jobs)
        assert audio.facts.duration > 0
        assert len(jobs.ids) == 1  # the id from the IN_QUEUE/IN_PROGRESS answer was handed over to be persisted
        requests = emulator.stats()["requests"]
        assert requests["runsync"] == 1 and requests["status"] >= 1


async def test_wrong_key_is_fatal_and_never_echoed() -> None:
    secret = "rk_live_wrong_key_1234567890"
    config = EmulatorConfig(latency=0.01, api_key="the-right-key")
    async with running_emulator(config) as (url, emulator):
        for key in (secret, None):
            engine = RunpodEngine(RunpodSettings(endpoint_url=url, api_key_env="TEST_RP_KEY"), 4)
            if key is not None:
                engine._client.headers["Authorization"] = f"Bearer {key}"
            said = "refused the API key \\(HTTP 401\\)" if key else "wants an API key \\(HTTP 401\\).*none was sent"
            with pytest.raises(FatalError, match=said) as caught:
                await engine.synthesize(CHUNK, Jobs())
            assert secret not in str(caught.value)
            await engine.aclose()
        assert emulator.stats()["unauthorized"] == 2


def test_cloud_endpoint_needs_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNPOD_API_KEY", raising=False)
    with pytest.raises(FatalError, match="set the environment variable RUNPOD_API_KEY"):
        RunpodEngine(RunpodSettings(endpoint_id="abc123"), 4)
    monkeypatch.setenv("RUNPOD_API_KEY", "x")
    engine = RunpodEngine(RunpodSettings(endpoint_id="abc123"), 4)
    assert engine.base_url == "https://api.runpod.ai/v2/abc123"
    assert engine._client.headers["Authorization"] == "Bearer x"


async def test_missing_endpoint_is_fatal() -> None:
    async with running_emulator(EmulatorConfig(latency=0.01)) as (url, _):
        engine = RunpodEngine(RunpodSettings(endpoint_url=url.replace("/emulator", "/nope")), 4)
        with pytest.raises(FatalError, match="HTTP 404 not found"):
            await engine.synthesize(CHUNK, Jobs())
        await engine.aclose()


async def test_429_is_rate_limited_with_retry_after() -> None:
    config = EmulatorConfig(latency=0.01, rate_limit=1, retry_after=7)
    async with engine_and_emulator(config, mode="runsync") as (engine, _):
        await engine.synthesize(CHUNK, Jobs())  # one request; the next one in the same second is over 1/s
        with pytest.raises(RateLimitedError) as caught:
            await engine.synthesize(CHUNK, Jobs())
        assert caught.value.retry_after == 7.0


@pytest.mark.parametrize(
    ("config", "error", "text"),
    [
        (EmulatorConfig(latency=0.01, http_error_rate=1.0), RetryableError, "HTTP 500"),
        (EmulatorConfig(latency=0.01, reset_rate=1.0), RetryableError, "RemoteProtocolError"),
        (EmulatorConfig(latency=0.01, fail_rate=1.0), RetryableError, "FAILED: handler raised"),
        (EmulatorConfig(latency=0.01, timeout_rate=1.0), RetryableError, "TIMED_OUT"),
        (EmulatorConfig(latency=0.01, lost_output_rate=1.0), BadOutputError, "COMPLETED without output.audio_base64"),
        (EmulatorConfig(latency=0.01, bad_audio_rate=1.0), BadOutputError, "unusable audio"),
        (EmulatorConfig(latency=0.01, lose_job_rate=1.0), JobLostError, "HTTP 404: expired or lost"),
    ],
)
async def test_each_failure_maps_onto_the_taxonomy(config: EmulatorConfig, error: type, text: str) -> None:
    async with engine_and_emulator(config) as (engine, _):
        with pytest.raises(error, match=text):
            await engine.synthesize(CHUNK, Jobs())


async def test_overload_errors_are_marked_as_such() -> None:
    async with engine_and_emulator(EmulatorConfig(latency=0.01, http_error_rate=1.0)) as (engine, _):
        with pytest.raises(RetryableError) as caught:
            await engine.synthesize(CHUNK, Jobs())
        assert caught.value.overload
    async with engine_and_emulator(EmulatorConfig(latency=0.01, fail_rate=1.0)) as (engine, _):
        with pytest.raises(RetryableError) as caught:
            await engine.synthesize(CHUNK, Jobs())
        assert not caught.value.overload


async def test_progress_updates_are_not_completion() -> None:
    config = EmulatorConfig(latency=0.3, jitter=0, progress_updates=True)
    async with engine_and_emulator(config) as (engine, emulator):
        audio = await engine.synthesize(CHUNK, Jobs())
        assert audio.facts.duration > 0
        assert emulator.stats()["requests"]["status"] >= 2  # it saw IN_PROGRESS-with-output and kept polling


async def test_a_stuck_job_is_cancelled_then_reported() -> None:
    async with engine_and_emulator(EmulatorConfig(latency=0.01, stuck_rate=1.0), job_deadline=0.3) as (engine, emu):
        with pytest.raises(RetryableError, match="still IN_QUEUE after 0 s; cancelled"):
            await engine.synthesize(CHUNK, Jobs())
        assert emu.stats()["cancelled"] == 1 and engine.cancels == 1


async def test_errors_while_polling_never_resubmit() -> None:
    config = EmulatorConfig(latency=0.2, http_error_rate=0.5, reset_rate=0.1, seed=11)
    async with engine_and_emulator(config) as (engine, emulator):
        done = 0
        for n in range(12):
            try:
                await engine.synthesize(Chunk(n, 0, 0, 1, f"Chunk number {n}."), Jobs())
                done += 1
            except RetryableError:
                pass  # /run itself failed: no job was created, nothing was paid for
        stats = emulator.stats()
        assert done >= 3
        assert stats["executed"] == stats["submitted"] == done  # one paid job per chunk that succeeded
        assert stats["http_errors"] > 0


async def test_resume_reattaches_to_a_finished_job_instead_of_paying_again() -> None:
    async with engine_and_emulator() as (engine, emulator):
        jobs = Jobs()
        first = await engine.synthesize(CHUNK, jobs)
        again = await engine.synthesize(CHUNK, Jobs(), resume_job_id=jobs.ids[0])
        assert again.data == first.data
        assert emulator.stats()["submitted"] == 1 and engine.reattached == 1


@pytest.mark.parametrize(
    "faults",
    [{"status_rate_limit": 4.0, "retry_after": 0.1}, {"http_error_rate": 0.4}, {"reset_rate": 0.4}],
    ids=["429", "500", "reset"],
)
@pytest.mark.slow
async def test_resume_keeps_good_jobs_through_transient_status_errors(faults: dict[str, float]) -> None:
    """Issue 12 item 2: a 429, 5xx or reset on a re-attached job's /status is retried; the job is never paid again."""
    texts = [Chunk(n, 0, 0, 1, f"Sentence number {n} of the book.") for n in range(16)]
    async with engine_and_emulator(EmulatorConfig(latency=0.02, workers=16, seed=7)) as (engine, emulator):
        jobs = Jobs()
        await asyncio.gather(*(engine.synthesize(chunk, jobs) for chunk in texts))
        assert emulator.stats()["submitted"] == 16
        emulator.config = dataclasses.replace(emulator.config, **faults)  # the restart meets a struggling endpoint
        again = await asyncio.gather(*(engine.synthesize(chunk, Jobs(), resume_job_id=job_id)
                                       for chunk, job_id in zip(texts, jobs.ids, strict=True)))  # fmt: skip
        stats = emulator.stats()
    assert all(audio.facts.duration > 0 for audio in again)
    assert stats["submitted"] == 16 and engine.reattached == 16
    assert stats.get("rate_limited", 0) + stats.get("http_errors", 0) + stats.get("resets", 0) > 0


async def test_resume_drops_a_job_that_failed() -> None:
    async with engine_and_emulator(EmulatorConfig(latency=0.01, fail_rate=1.0)) as (engine, emulator):
        jobs = Jobs()
        with pytest.raises(RetryableError, match="FAILED"):
            await engine.synthesize(CHUNK, jobs)
        emulator.config = dataclasses.replace(emulator.config, fail_rate=0.0)
        second = Jobs()
        audio = await engine.synthesize(CHUNK, second, resume_job_id=jobs.ids[0])
    assert audio.facts.duration > 0 and second.ids and second.ids[0] != jobs.ids[0]


async def test_resume_of_an_expired_job_submits_again() -> None:
    config = EmulatorConfig(latency=0.01, result_ttl=0.0)
    async with engine_and_emulator(config) as (engine, emulator):
        jobs = Jobs()
        try:
            await engine.synthesize(CHUNK, jobs)
        except JobLostError:
            pass  # with a zero TTL the result may already be gone on the first poll
        second = Jobs()
        with pytest.raises(JobLostError):
            await engine.synthesize(CHUNK, second, resume_job_id=jobs.ids[0])
        assert len(second.ids) == 1 and second.ids[0] != jobs.ids[0]  # the old job was gone: a new one was made
        assert emulator.stats()["submitted"] == 2


async def test_status_405_falls_back_to_post() -> None:
    """The runpod SDK's local server answers GET /status with 405; POST works."""
    wav = base64.b64encode(pcm_to_wav(b"\x00\x01" * 800, 16000)).decode()

    async def run(_: web.Request) -> web.Response:
        return web.json_response({"id": "test-1", "status": "IN_PROGRESS"})

    async def status(request: web.Request) -> web.Response:
        if request.method == "GET":
            return web.Response(status=405)
        return web.json_response({"id": "test-1", "status": "COMPLETED", "output": {"audio_base64": wav}})

    app = web.Application()
    app.router.add_post("/run", run)
    app.router.add_route("*", "/status/{id}", status)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    engine = RunpodEngine(RunpodSettings(endpoint_url=url, poll_initial=0.01), 2)
    try:
        # Several at once: every poll that got a 405 must fall back, not only the first to notice.
        results = await asyncio.gather(*(engine.synthesize(CHUNK, Jobs()) for _ in range(6)))
        assert all(audio.facts.duration == pytest.approx(800 / 16000) for audio in results)
        assert engine._status_method == "POST"
    finally:
        await engine.aclose()
        await runner.cleanup()


async def test_audio_at_a_nested_dot_path() -> None:
    config = EmulatorConfig(latency=0.01, audio_field="result.audio.data")
    async with engine_and_emulator(config, audio_field="result.audio.data") as (engine, _):
        assert (await engine.synthesize(CHUNK, Jobs())).facts.duration > 0


def test_template_fills_text_and_passes_the_rest_through() -> None:
    template = {"text": "{text}", "voice": "af_heart", "speed": 1.1, "nested": {"prompt": "Say: {text}"}, "n": [1]}
    assert fill_template(template, "Hi.") == {
        "text": "Hi.",
        "voice": "af_heart",
        "speed": 1.1,
        "nested": {"prompt": "Say: Hi."},
        "n": [1],
    }


def test_dig_follows_dot_paths() -> None:
    output = {"result": {"audio": {"data": "x"}}, "items": [{"a": 1}]}
    assert dig(output, "result.audio.data") == "x"
    assert dig(output, "items.0.a") == 1
    assert dig(output, "result.missing") is None
    assert dig("plain", "") == "plain"


def test_retry_after_forms() -> None:
    import httpx

    assert retry_after_seconds(httpx.Headers({"retry-after": "3"})) == 3.0
    assert retry_after_seconds(httpx.Headers({"retry-after-ms": "1500"})) == 1.5
    assert retry_after_seconds(httpx.Headers({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
    assert retry_after_seconds(httpx.Headers({})) is None


async def test_audio_values_base64_data_uri_and_url() -> None:
    import httpx

    wav = pcm_to_wav(b"\x00\x01" * 100, 8000)
    encoded = base64.b64encode(wav).decode()

    async def serve(_: web.Request) -> web.Response:
        return web.Response(body=wav)

    app = web.Application()
    app.router.add_get("/a.wav", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    async with httpx.AsyncClient() as client:
        assert await audio_from_value(encoded, client) == wav
        assert await audio_from_value("data:audio/wav;base64," + encoded, client) == wav
        assert await audio_from_value(f"http://127.0.0.1:{runner.addresses[0][1]}/a.wav", client) == wav
        for bad in ("not base64 !!", 42, "", {"a": 1}):
            with pytest.raises(BadOutputError):
                await audio_from_value(bad, client)
    await runner.cleanup()


async def test_a_truncated_wav_output_is_bad_output() -> None:
    """The emulator's truncated output: a WAV whose header says more samples than arrived is not accepted."""
    async with engine_and_emulator(EmulatorConfig(latency=0.01, truncate_rate=1.0)) as (engine, emulator):
        with pytest.raises(BadOutputError, match="truncated"):
            await engine.synthesize(CHUNK, Jobs())
        assert emulator.stats()["truncated"] == 1


async def test_resume_keeps_a_job_through_garbage_status_answers() -> None:
    """A /status answer without a known status says nothing about the job: poll again, never pay again."""
    wav = base64.b64encode(pcm_to_wav(b"\x00\x01" * 800, 16000)).decode()
    answers = [{"error": "upstream hiccup"}, {"id": "job-7", "status": None}]
    runs: list[int] = []

    async def run(_: web.Request) -> web.Response:
        runs.append(1)
        return web.json_response({"id": "job-new", "status": "IN_QUEUE"})

    async def status(_: web.Request) -> web.Response:
        if answers:
            return web.json_response(answers.pop(0))
        return web.json_response({"id": "job-7", "status": "COMPLETED", "output": {"audio_base64": wav}})

    app = web.Application()
    app.router.add_post("/run", run)
    app.router.add_get("/status/{id}", status)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    engine = RunpodEngine(RunpodSettings(endpoint_url=f"http://127.0.0.1:{runner.addresses[0][1]}",
                                         poll_initial=0.01, poll_max=0.02), 2)  # fmt: skip
    try:
        audio = await engine.synthesize(CHUNK, Jobs(), resume_job_id="job-7")
    finally:
        await engine.aclose()
        await runner.cleanup()
    assert audio.job_facts["job_id"] == "job-7" and runs == [] and answers == []
