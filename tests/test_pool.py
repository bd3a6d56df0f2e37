"""A pool of endpoints against several emulators: faster than one, and a dead endpoint drained without paying twice."""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.test_remote_runs import free_port, start_server, wait_for_port
from tui_tts.emulator import Emulator, EmulatorConfig, running_emulator
from tui_tts.engines.base import FatalError, RetryableError
from tui_tts.engines.pool import Member, PoolEngine
from tui_tts.engines.runpod import RunpodEngine, RunpodSettings
from tui_tts.models import Chunk, SynthesizedAudio

CHUNKS = [Chunk(n, 0, 0, 30, f"Sentence number {n} of the book.") for n in range(24)]


class Jobs:
    def __init__(self) -> None:
        self.ids: dict[int, str] = {}  # each chunk's last job
        self.all: dict[int, list[str]] = {}

    async def job_submitted(self, chunk: Chunk, job_id: str) -> None:
        self.ids[chunk.index] = job_id
        self.all.setdefault(chunk.index, []).append(job_id)


def _member(name: str, url: str, limit: int, **settings: Any) -> Member:
    values: dict[str, Any] = {"endpoint_url": url, "poll_initial": 0.02, "poll_max": 0.05, **settings}
    return Member(name, RunpodEngine(RunpodSettings(**values), concurrency=limit), limit)


@asynccontextmanager
async def emulators(count: int, config: EmulatorConfig) -> AsyncIterator[list[tuple[str, Emulator]]]:
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(running_emulator(config)) for _ in range(count)]


async def _book(pool: PoolEngine, jobs: Jobs, chunks: list[Chunk] = CHUNKS) -> list[SynthesizedAudio]:
    try:
        return await asyncio.gather(*(pool.synthesize(chunk, jobs) for chunk in chunks))
    finally:
        await pool.aclose()


@pytest.mark.slow
async def test_two_equal_endpoints_take_at_most_six_tenths_of_the_time_of_one(tmp_path: Path) -> None:
    # Endpoints are other machines: each emulator runs in a process of its own, as a real endpoint would.
    ports = [free_port(), free_port()]
    servers = [start_server([sys.executable, "-m", "tui_tts", "emulate", "--port", str(port), "--workers", "2",
                             "--latency", "1.0", "--jitter", "0", "--seconds-per-char", "0.01"],
                            tmp_path / f"emulator-{port}.log") for port in ports]  # fmt: skip
    urls = [f"http://127.0.0.1:{port}/v2/emulator" for port in ports]
    book = CHUNKS[:8]  # four rounds of two on one endpoint, two rounds on two
    try:
        for port, server in zip(ports, servers, strict=True):
            wait_for_port(port, server, tmp_path / f"emulator-{port}.log")
        started = time.monotonic()
        await _book(PoolEngine([_member("a", urls[0], 2, poll_max=0.2)]), Jobs(), book)
        one = time.monotonic() - started
        started = time.monotonic()
        pool = PoolEngine([_member(n, url, 2, poll_max=0.2) for n, url in zip("ab", urls, strict=True)])
        audio = await _book(pool, Jobs(), book)
        two = time.monotonic() - started
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
    assert two <= 0.6 * one, (one, two)
    assert Counter(a.job_facts["endpoint"] for a in audio) == {"a": 4, "b": 4}


@pytest.mark.slow
async def test_killing_one_of_three_endpoints_mid_run_finishes_the_book_without_paying_twice() -> None:
    config = EmulatorConfig(workers=2, latency=0.3, jitter=0, seconds_per_char=0.01)
    async with AsyncExitStack() as stack:
        started = [await stack.enter_async_context(running_emulator(config)) for _ in range(2)]
        doomed = running_emulator(config)
        doomed_url, doomed_emulator = await doomed.__aenter__()
        endpoints = [*started, (doomed_url, doomed_emulator)]
        pool = PoolEngine([_member(n, url, 2) for n, (url, _) in zip("abc", endpoints, strict=True)])
        jobs = Jobs()
        book = asyncio.ensure_future(_book(pool, jobs))
        await asyncio.sleep(0.7)  # c has finished some chunks and runs two more
        await doomed.__aexit__(None, None, None)
        audio = await asyncio.wait_for(book, 30)
    assert len(audio) == len(CHUNKS) and all(a.facts.duration > 0 for a in audio)
    assert pool.members[2].drained and "does not answer" in pool.members[2].drained
    paid: Counter[str] = Counter()
    for _, emulator in endpoints:
        paid.update(job.text for job in emulator.jobs.values() if job.status == "COMPLETED")
    # A job c finished in the moment before it died, unread, is done again elsewhere: at most the jobs c had in
    # flight (its limit, 2). Every other chunk was paid once.
    moved_from_c = {CHUNKS[n].text for n, ids in jobs.all.items() if any(i.endswith("@c") for i in ids[:-1])}
    twice = {text for text, count in paid.items() if count > 1}
    assert twice <= moved_from_c and len(moved_from_c) <= 2, (twice, moved_from_c)
    assert paid.total() <= len(CHUNKS) + 2
    finished_on_c = sum(a.job_facts["endpoint"] == "c" for a in audio)
    moved = [n for n, tagged in jobs.ids.items() if not tagged.endswith("@c")]
    assert 0 < finished_on_c < len(CHUNKS) - len(CHUNKS) // 3  # c did its share until it died, the rest moved
    assert len(moved) == len(CHUNKS) - finished_on_c  # each chunk's last job is on the endpoint that delivered it


async def test_resume_reattaches_a_job_on_the_endpoint_that_holds_it() -> None:
    config = EmulatorConfig(workers=2, latency=0.05, jitter=0)
    async with emulators(2, config) as endpoints:
        first = PoolEngine([_member(n, url, 2) for n, (url, _) in zip("ab", endpoints, strict=True)])
        jobs = Jobs()
        audio = await first.synthesize(CHUNKS[0], jobs)
        await first.aclose()
        tagged = jobs.ids[0]
        job_id, _, name = tagged.rpartition("@")
        assert name == audio.job_facts["endpoint"] and job_id == audio.job_facts["job_id"]
        again = PoolEngine([_member(n, url, 2) for n, (url, _) in zip("ab", endpoints, strict=True)])
        resumed = await again.synthesize(CHUNKS[0], Jobs(), resume_job_id=tagged)
        await again.aclose()
        submitted = sum(emulator.stats().get("submitted", 0) for _, emulator in endpoints)
    assert resumed.job_facts["job_id"] == job_id and resumed.job_facts["endpoint"] == name
    assert submitted == 1  # re-attached where it was, nothing submitted again


async def test_a_dormant_endpoint_is_drained_at_the_preflight_and_all_drained_is_fatal() -> None:
    async with running_emulator(EmulatorConfig(latency=0.02)) as (good, _), \
            running_emulator(EmulatorConfig(dormant=True)) as (dormant, dormant_emulator):  # fmt: skip
        pool = PoolEngine([_member("good", good, 2), _member("dormant", dormant, 2)])
        health = await pool.health()
        assert health is not None and health.problem() is None
        assert pool.members[1].drained and "max workers" in pool.members[1].drained
        await _book(pool, Jobs())
        assert dormant_emulator.stats().get("submitted", 0) == 0
        alone = PoolEngine([_member("dormant", dormant, 2)])
        with pytest.raises(FatalError, match="no endpoint of the pool can run jobs: dormant: "):
            await alone.health()
        await alone.aclose()


async def test_a_book_runs_on_a_pool_from_the_config_and_resumes_on_it(tmp_path: Path) -> None:
    from tests.test_remote_runs import STORY
    from tui_tts.commands.headless import run_headless
    from tui_tts.run.request import RunRequest

    config = EmulatorConfig(workers=2, latency=0.05, seconds_per_char=0.01)
    async with emulators(2, config) as endpoints:
        source = tmp_path / "story.txt"
        source.write_text(STORY[:1200], encoding="utf-8")
        overrides = {"engine": "runpod", "output": {"format": "wav"}, "run": {"concurrency": 4, "max_chars": 100},
                     "runpod": {"poll_initial": 0.02, "poll_max": 0.05, "endpoints": [
                         {"name": "left", "endpoint_url": endpoints[0][0], "concurrency": 2},
                         {"name": "right", "endpoint_url": endpoints[1][0], "concurrency": 2}]}}  # fmt: skip
        request = RunRequest(input=source, output=tmp_path / "out.wav", data_dir=str(tmp_path / "d"),
                             overrides=overrides, yes=True)  # fmt: skip
        assert await run_headless(request) == 0
        shares = [emulator.stats()["executed"] for _, emulator in endpoints]
    assert all(share > 0 for share in shares) and (tmp_path / "out.wav").stat().st_size > 0


def test_pool_entries_are_checked_in_one_line() -> None:
    from tui_tts.engines.registry import build_engine, load_settings
    from tui_tts.errors import ConfigError

    for entry, words in [
        ({"name": "x", "concurrency": 0, "endpoint_id": "a"}, "concurrency must be a whole number"),
        ({"name": "x", "kind": "grpc"}, 'kind must be "runpod" or "openai"'),
        ({"name": "x", "endpoint_id": "a", "mode": "fast"}, "runpod.endpoints[1] (x): key 'mode'"),
    ]:
        settings = load_settings(None, {"engine": "runpod", "runpod": {"endpoints": [entry]}})
        with pytest.raises(ConfigError, match="cannot start the runpod engine: ") as refused:
            build_engine(settings)
        assert words in refused.value.message and "\n" not in refused.value.message


@pytest.mark.slow
async def test_a_pool_run_stopped_mid_way_resumes_each_job_on_its_endpoint_without_paying_twice(tmp_path: Path) -> None:
    from tests.test_remote_runs import STORY
    from tui_tts.events import ChunkJobSubmitted
    from tui_tts.run.request import RunRequest
    from tui_tts.run.session import open_session

    config = EmulatorConfig(workers=2, latency=0.6, jitter=0, seconds_per_char=0.01)
    async with emulators(2, config) as endpoints:
        source = tmp_path / "story.txt"
        source.write_text(STORY[:1500], encoding="utf-8")
        overrides = {"engine": "runpod", "output": {"format": "wav"}, "run": {"concurrency": 4, "max_chars": 100},
                     "runpod": {"poll_initial": 0.02, "poll_max": 0.05, "endpoints": [
                         {"name": "left", "endpoint_url": endpoints[0][0], "concurrency": 2},
                         {"name": "right", "endpoint_url": endpoints[1][0], "concurrency": 2}]}}  # fmt: skip
        request = RunRequest(input=source, output=tmp_path / "out.wav", data_dir=str(tmp_path / "d"),
                             overrides=overrides, yes=True)  # fmt: skip
        async with open_session(request) as session:
            submitted: list[str] = []
            session.bus.subscribe(lambda e: submitted.append(e.job_id) if isinstance(e, ChunkJobSubmitted) else None)
            run = asyncio.ensure_future(session.controller.execute())
            while len(submitted) < 6:  # the first four jobs, and two more once a round is done
                await asyncio.sleep(0.02)
            session.controller.interrupt()  # stop with four jobs in flight, two on each endpoint
            assert (await run).interrupted
        async with open_session(request) as session:
            assert sorted({job.rpartition("@")[2] for job in session.plan.resume_jobs.values()}) == ["left", "right"]
            outcome = await session.controller.execute()
            reattached = len(session.plan.resume_jobs)
        submissions = [emulator.stats()["submitted"] for _, emulator in endpoints]
        repeats = [emulator.stats()["repeat_submissions"] for _, emulator in endpoints]
    assert outcome.output is not None and reattached >= 2
    assert sum(submissions) == len(session.plan.chunks) and repeats == [0, 0]  # every chunk's job was paid once


async def test_an_endpoint_silent_at_the_start_is_drained_and_said_once() -> None:
    async with running_emulator(EmulatorConfig(latency=0.02)) as (dead, _):
        pass  # nothing listens there any more
    async with running_emulator(EmulatorConfig(latency=0.02)) as (good, _):
        pool = PoolEngine([_member("good", good, 2), _member("dead", dead, 2)])
        assert (await pool.health()) is not None and pool.members[1].drained
        [notice] = pool.notices()
        assert notice.startswith("endpoint dead: does not answer") and "drained" in notice and pool.notices() == []
        await pool.aclose()
    alone = PoolEngine([_member("dead", dead, 2)])
    with pytest.raises(RetryableError):  # none answers yet: the preflight waits, as for one endpoint
        await alone.health()
    await alone.aclose()


async def test_an_endpoint_shows_figures_once_used_and_a_fraction_of_a_cent_keeps_its_digits() -> None:
    member = _member("a100", "http://127.0.0.1:9/v2/x", 2)
    assert PoolEngine([member]).describe() == "pool: a100"  # the run's first line: no "0 err $0.00" yet
    member.first_used, member.spend = time.monotonic() - 60, 0.0123
    assert member.describe() == "a100 0/min 0 err $0.0123"
    await member.engine.aclose()
