"""Endpoint health before and during a RunPod run, against the emulator: dormant and sick endpoints are refused before
any /run, a silent one fails fast, and a run says what its endpoint does (workers, queue, cold starts)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.test_remote_runs import STORY
from tui_tts.commands.headless import run_headless
from tui_tts.emulator import EmulatorConfig, running_emulator
from tui_tts.engines.health import EndpointHealth
from tui_tts.errors import UserError
from tui_tts.events import EventBus, LimitChanged, LogEmitted
from tui_tts.run.endpoint_watch import EndpointWatch
from tui_tts.run.request import RunRequest
from tui_tts.run.session import open_session
from tui_tts.store import Store


def _request(tmp_path: Path, url: str, chars: int = 600, **run: Any) -> RunRequest:
    source = tmp_path / "story.txt"
    source.write_text(STORY[:chars], encoding="utf-8")
    overrides = {
        "engine": "runpod", "output": {"format": "wav"},
        "run": {"concurrency": 4, "max_chars": 100, "retry_base_delay": 0.01, **run},
        "runpod": {"endpoint_url": url, "poll_initial": 0.02, "poll_max": 0.1},
    }  # fmt: skip
    return RunRequest(input=source, output=tmp_path / "out.wav", data_dir=str(tmp_path / "data"),
                      overrides=overrides, yes=True)  # fmt: skip


@pytest.mark.parametrize(
    ("config", "words"),
    [
        (EmulatorConfig(dormant=True), "dormant or max workers is 0"),
        (EmulatorConfig(workers=3, unhealthy_workers=3), "all 3 workers are unhealthy"),
        (EmulatorConfig(workers=2, throttled_workers=2), "throttled"),
    ],
)
async def test_an_unusable_endpoint_is_refused_before_any_run(tmp_path: Path, config: EmulatorConfig,
                                                               words: str) -> None:  # fmt: skip
    async with running_emulator(config) as (url, emulator):
        with pytest.raises(UserError) as refused:
            await run_headless(_request(tmp_path, url))
        stats = emulator.stats()
    message = refused.value.message
    assert words in message and "RunPod's console" in message and "nothing was submitted" in message
    assert "\n" not in message and stats["requests"] == {"health": 1} and stats.get("submitted", 0) == 0


async def test_an_endpoint_that_does_not_answer_fails_fast(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async with running_emulator(EmulatorConfig()) as (url, _):
        pass  # the port is free again: nothing answers there
    started = asyncio.get_running_loop().time()
    with pytest.raises(UserError) as refused:
        await run_headless(_request(tmp_path, url, outage_patience=1.0))
    waited = asyncio.get_running_loop().time() - started
    assert 0.9 < waited < 5 and "does not answer" in refused.value.message
    assert "endpoint_url" in refused.value.message and "outage_patience" in refused.value.message
    assert "endpoint unreachable since" in capsys.readouterr().err
    async with Store(tmp_path / "data" / "tui-tts.db") as store:
        [(run, counts)] = await store.runs.listing()
    assert run.state == "stopped" and not counts.get("done")  # kept, and resumable


@pytest.mark.slow
async def test_a_run_shows_the_endpoint_and_its_cold_start(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = EmulatorConfig(workers=2, latency=0.05, cold_start=2.2, seconds_per_char=0.01)
    async with running_emulator(config) as (url, emulator):
        assert await run_headless(_request(tmp_path, url, chars=300)) == 0
        assert emulator.stats()["requests"]["health"] >= 2  # the preflight, then the watch during the run
    err = capsys.readouterr().err
    assert "cold start: 2 s (the first jobs waited for workers to boot)" in err
    assert "queue" not in err.splitlines()[-2]  # the last reading is stale by the end: the final line leaves it out


def _health(running: int = 0, idle: int = 0, init: int = 0, unhealthy: int = 0, queued: int = 0) -> EndpointHealth:
    body = {"workers": {"running": running, "idle": idle, "initializing": init, "unhealthy": unhealthy},
            "jobs": {"inQueue": queued}}  # fmt: skip
    parsed = EndpointHealth.parse(body)
    assert parsed is not None
    return parsed


def test_the_watch_explains_sick_workers_and_stops_a_stuck_queue() -> None:
    bus = EventBus()
    said: list[str] = []
    bus.subscribe(lambda event: said.append(event.message) if isinstance(event, LogEmitted) else None)
    caps: list[int | None] = []
    stopped: list[str] = []

    async def read() -> EndpointHealth | None:
        return None

    watch = EndpointWatch(read, bus, set_cap=caps.append, stop_run=stopped.append, job_deadline=600,
                          execution_seconds=lambda: 60.0, stuck_patience=100)  # fmt: skip
    watch.observe(_health(running=3, queued=40), now=0)
    assert caps == [3 * (1 + 5)]  # each worker's job, plus 5 more it can finish within half the 600 s deadline
    watch.observe(_health(running=1, unhealthy=2, queued=40), now=10)
    assert "2 more worker(s) unhealthy" in said[-1] and "worker logs" in said[-1]
    watch.observe(_health(unhealthy=3, queued=40), now=20)
    assert said[-1].startswith("jobs are stuck in RunPod's queue: all 3 workers are unhealthy")
    watch.observe(_health(unhealthy=3, queued=40), now=90)
    assert not stopped
    watch.observe(_health(unhealthy=3, queued=40), now=125)
    assert stopped and "stuck in RunPod's queue for 105 s" in stopped[0]


@pytest.mark.slow
async def test_concurrency_follows_what_the_workers_can_finish_within_the_deadline(tmp_path: Path) -> None:
    config = EmulatorConfig(workers=2, latency=0.3, jitter=0, seconds_per_char=0.01)
    async with running_emulator(config) as (url, emulator):
        request = _request(tmp_path, url, chars=2000, concurrency=16)
        request.overrides["runpod"]["job_deadline"] = 1.5  # type: ignore[index]
        async with open_session(request) as session:
            changes: list[LimitChanged] = []
            session.bus.subscribe(lambda event: changes.append(event) if isinstance(event, LimitChanged) else None)
            outcome = await session.controller.execute()
            limit = session.controller.scheduler.limit
        stats = emulator.stats()
    assert outcome.failed == [] and outcome.output is not None
    # 0.3 s a job, half of the 1.5 s deadline: 2 more per worker beside the one it runs, 2 workers: 6 at a time.
    assert any(change.reason == "endpoint capacity 6" and change.new == 6 for change in changes), changes
    assert limit.endpoint_cap == 6 and limit.effective == 6
    assert stats["requests"]["health"] >= 3  # the preflight, the first reading, and one once jobs were timed


@pytest.mark.slow
async def test_workers_turning_unhealthy_mid_run_are_explained(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    # Long enough (about 15 jobs on the one worker left) that the watch, reading every 0.5 s, sees the change.
    config = EmulatorConfig(workers=3, latency=0.2, unhealthy_workers=2, sick_after=0.8, seconds_per_char=0.01)
    async with running_emulator(config) as (url, _):
        request = _request(tmp_path, url, chars=3000)
        request.overrides["runpod"]["health_interval"] = 0.5  # type: ignore[index]
        assert await run_headless(request) == 0  # the one worker left finishes the book
    err = capsys.readouterr().err
    assert "warning: 2 more worker(s) unhealthy (2 now, 1 usable)" in err and "worker logs" in err


async def test_an_endpoint_reported_unusable_is_only_warned_about_when_the_user_says_so() -> None:
    from tui_tts.run.endpoint_watch import preflight

    zeros = EndpointHealth.parse({"workers": {"idle": 0, "running": 0}, "jobs": {"inQueue": 0}})

    async def read() -> EndpointHealth | None:
        return zeros

    said: list[str] = []
    with pytest.raises(UserError) as refused:
        await preflight(read, "endpoint", 1.0, said.append)
    assert "runpod.refuse_unusable = false" in refused.value.message and not said
    await preflight(read, "endpoint", 1.0, said.append, refuse=False)  # goes on
    assert len(said) == 1 and "dormant" in said[0] and "going on" in said[0]
