"""The scheduler: live limit changes, pause, retries with backoff, failures isolated, rate-limit cooldowns."""

from __future__ import annotations

import asyncio
import random

import pytest

from tests.waiting import eventually
from tui_tts.engines.base import ChunkRejectedError, FatalError, RateLimitedError, RetryableError
from tui_tts.events import (
    ChunkFailed,
    ChunkRetryScheduled,
    ChunkSucceeded,
    Event,
    EventBus,
    LimitChanged,
    RunAbortRequested,
)
from tui_tts.models import AudioFacts, Chunk
from tui_tts.run.limits import ConcurrencyLimit, full_jitter_delay
from tui_tts.run.scheduler import ChunkOutcome, Scheduler

FACTS = AudioFacts("pcm_s16le", "wav", 22050, 1, 1.0)


def make_chunks(n: int) -> list[Chunk]:
    return [Chunk(i, 0, 0, 1, f"chunk {i}") for i in range(n)]


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type) -> list:  # type: ignore[type-arg]
        return [e for e in self.events if isinstance(e, kind)]


class Work:
    """A processing function that tracks how many chunks are in flight at once, and at what limit."""

    def __init__(self, scheduler_ref: list[Scheduler], delay: float = 0.01) -> None:
        self.delay = delay
        self.in_flight = 0
        self.violations: list[tuple[int, int]] = []
        self.scheduler_ref = scheduler_ref
        self.settled_after: float | None = None
        self.calls: list[int] = []

    async def __call__(self, chunk: Chunk, attempt: int) -> ChunkOutcome:
        self.in_flight += 1
        self.calls.append(chunk.index)
        limit = self.scheduler_ref[0].limit.effective
        loop = asyncio.get_running_loop()
        if self.settled_after is not None and loop.time() > self.settled_after and self.in_flight > limit:
            self.violations.append((self.in_flight, limit))
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        return ChunkOutcome(f"/tmp/{chunk.index}.wav", FACTS)


@pytest.fixture
def heard() -> Recorder:
    """Every event of the test's bus (`bus` fixture), in order."""
    return Recorder()


@pytest.fixture
def bus(heard: Recorder) -> EventBus:
    bus = EventBus()
    bus.subscribe(heard)
    return bus


def scheduler_for(process, bus: EventBus, limit: int = 4, parallel: bool = True, max_attempts: int = 3) -> Scheduler:  # type: ignore[no-untyped-def]
    return Scheduler(process, bus, limit=ConcurrencyLimit(limit, parallel), max_attempts=max_attempts,
                     retry_base_delay=0.01, retry_max_delay=0.05, rng=random.Random(7))  # fmt: skip


async def test_limit_change_mid_run_is_respected_after_it_settles(bus: EventBus, heard: Recorder) -> None:
    ref: list[Scheduler] = []
    work = Work(ref, delay=0.02)
    scheduler = scheduler_for(work, bus, limit=8)
    ref.append(scheduler)

    def succeeded() -> int:
        return len(heard.of(ChunkSucceeded))

    async def steer() -> None:
        await eventually(lambda: scheduler.in_flight == 8 and succeeded() >= 16)
        scheduler.set_concurrency(2)
        # Work already in flight finishes (never cancelled); after one task time, at most 2 run at once.
        work.settled_after = asyncio.get_running_loop().time() + 0.03
        goal = succeeded() + 8 + 10  # the 8 in flight, then 10 at the new limit (5 task times, past the settling)
        await eventually(lambda: succeeded() >= goal)
        work.settled_after = None
        scheduler.toggle_parallel()  # sequential
        work.settled_after = asyncio.get_running_loop().time() + 0.03
        goal = succeeded() + 2 + 5
        await eventually(lambda: succeeded() >= goal)
        work.settled_after = None
        scheduler.toggle_parallel()  # parallel again, at 2
        scheduler.set_concurrency(16)  # raising starts work at once
        await eventually(lambda: scheduler.in_flight > 2, seconds=0.5)

    await asyncio.gather(scheduler.run(make_chunks(400)), steer())
    assert work.violations == []
    assert succeeded() == 400
    assert scheduler.peak_in_flight == 16
    reasons = [e.reason for e in heard.of(LimitChanged)]
    assert reasons == ["set by user", "sequential", "parallel", "set by user"]


async def test_sequential_runs_one_at_a_time_in_document_order(bus: EventBus) -> None:
    ref: list[Scheduler] = []
    work = Work(ref, delay=0.001)
    scheduler = scheduler_for(work, bus, limit=8, parallel=False)
    ref.append(scheduler)
    await scheduler.run(make_chunks(30))
    assert scheduler.peak_in_flight == 1
    assert work.calls == list(range(30))


async def test_pause_stops_dispatch_and_resume_continues(bus: EventBus, heard: Recorder) -> None:
    ref: list[Scheduler] = []
    work = Work(ref, delay=0.01)
    scheduler = scheduler_for(work, bus, limit=2)
    ref.append(scheduler)

    async def steer() -> None:
        await eventually(lambda: len(heard.of(ChunkSucceeded)) >= 4)
        scheduler.pause()
        await eventually(lambda: scheduler.in_flight == 0)  # the two in flight finish
        frozen = len(heard.events)
        await asyncio.sleep(0.1)  # a window of ten task times in which nothing may start: not a wait
        assert len(heard.events) == frozen and scheduler.in_flight == 0
        scheduler.resume()

    await asyncio.gather(scheduler.run(make_chunks(40)), steer())
    assert len(heard.of(ChunkSucceeded)) == 40


async def test_retries_then_success_and_a_permanent_failure_does_not_stop_the_others(
    bus: EventBus, heard: Recorder
) -> None:
    tries: dict[int, int] = {}

    async def flaky(chunk: Chunk, attempt: int) -> ChunkOutcome:
        tries[chunk.index] = attempt
        await asyncio.sleep(0)
        if chunk.index == 3:
            raise RetryableError("HTTP 503 from the server")
        if chunk.index == 5 and attempt < 3:
            raise RetryableError("connection reset")
        if chunk.index == 7:
            raise ChunkRejectedError("text refused by the backend")
        return ChunkOutcome("/x.wav", FACTS)

    scheduler = scheduler_for(flaky, bus, limit=4, max_attempts=3)
    await scheduler.run(make_chunks(20))
    failed = {e.index: e for e in heard.of(ChunkFailed)}
    assert set(failed) == {3, 7}
    assert failed[3].attempt == 3 and "503" in failed[3].error
    assert failed[7].attempt == 1  # a rejected chunk is not retried
    assert tries[5] == 3
    assert len(heard.of(ChunkSucceeded)) == 18
    assert len([e for e in heard.of(ChunkRetryScheduled) if e.index == 5]) == 2


async def test_rate_limit_sets_a_shared_cooldown_and_lowers_the_limit(bus: EventBus, heard: Recorder) -> None:
    starts: list[float] = []
    limited = {"left": 1}

    async def limited_once(chunk: Chunk, attempt: int) -> ChunkOutcome:
        starts.append(asyncio.get_running_loop().time())
        await asyncio.sleep(0.001)
        if limited["left"] > 0:
            limited["left"] -= 1
            raise RateLimitedError("HTTP 429", retry_after=0.2)
        return ChunkOutcome("/x.wav", FACTS)

    scheduler = scheduler_for(limited_once, bus, limit=8, max_attempts=1)
    started = asyncio.get_running_loop().time()
    await scheduler.run(make_chunks(40))
    assert len(heard.of(ChunkSucceeded)) == 40  # a 429 did not use up the only attempt
    changes = heard.of(LimitChanged)
    assert changes[0].old == 8 and changes[0].new == 4 and "429" in changes[0].reason
    # Nothing new was dispatched during the 0.2 s cooldown after the 429.
    first = starts[0]
    assert not [t for t in starts if first + 0.01 < t < first + 0.19]
    assert asyncio.get_running_loop().time() - started >= 0.2


async def test_fatal_error_stops_the_run_without_failing_chunks(bus: EventBus, heard: Recorder) -> None:

    async def unauthorized(chunk: Chunk, attempt: int) -> ChunkOutcome:
        await asyncio.sleep(0.001)
        raise FatalError("the API key was refused (HTTP 401)")

    scheduler = scheduler_for(unauthorized, bus, limit=4)
    await asyncio.wait_for(scheduler.run(make_chunks(100)), 5)
    assert scheduler.abort_reason == "the API key was refused (HTTP 401)"
    assert len(heard.of(RunAbortRequested)) == 1
    assert heard.of(ChunkFailed) == []
    assert len(heard.events) < 20  # no retry storm


async def test_stop_cancels_in_flight_and_returns(bus: EventBus) -> None:
    async def slow(chunk: Chunk, attempt: int) -> ChunkOutcome:
        await asyncio.sleep(30)
        return ChunkOutcome("/x.wav", FACTS)

    scheduler = scheduler_for(slow, bus, limit=4)
    task = asyncio.create_task(scheduler.run(make_chunks(10)))
    await eventually(lambda: scheduler.in_flight == 4, seconds=2)
    scheduler.stop()
    await asyncio.wait_for(task, 2)
    assert scheduler.in_flight == 0


async def test_requeue_failed_chunks_gives_them_a_fresh_budget(bus: EventBus, heard: Recorder) -> None:
    broken = {"on": True}

    async def work(chunk: Chunk, attempt: int) -> ChunkOutcome:
        await asyncio.sleep(0)
        if broken["on"] and chunk.index % 2:
            raise RetryableError("boom")
        return ChunkOutcome("/x.wav", FACTS)

    scheduler = scheduler_for(work, bus, limit=3, max_attempts=2)
    chunks = make_chunks(10)
    await scheduler.run(chunks)
    assert len(heard.of(ChunkFailed)) == 5
    broken["on"] = False
    scheduler.requeue([chunks[i] for i in (1, 3, 5, 7, 9)])
    await scheduler.run([])
    assert len(heard.of(ChunkSucceeded)) == 10


def test_adaptive_limit_cuts_once_per_wave_and_recovers() -> None:
    limit = ConcurrencyLimit(16)
    assert limit.record_overload(request_started_at=0.0)
    assert limit.effective == 8
    assert not limit.record_overload(request_started_at=0.0)  # same wave: no second cut
    for _ in range(3):
        limit.record_success()
    assert limit.effective == 11
    for _ in range(10):
        limit.record_success()
    assert limit.effective == 16  # never above the user's limit
    limit.set_user(4)
    assert limit.effective == 4
    limit.parallel = False
    assert limit.effective == 1


def test_full_jitter_is_bounded_and_grows() -> None:
    rng = random.Random(1)
    draws = [full_jitter_delay(attempt, 1.0, 30.0, rng) for attempt in range(1, 12) for _ in range(50)]
    assert all(0 <= d <= 30 for d in draws)
    assert max(full_jitter_delay(1, 1.0, 30.0, rng) for _ in range(100)) <= 1.0


def test_run_stats_freeze_when_the_run_ends() -> None:
    from tui_tts.run.progress import RunStats

    now = iter([0.0, 10.0, 20.0, 30.0])
    stats = RunStats(5, clock=lambda: next(now))
    assert stats.elapsed == 10.0
    stats.stop()
    assert stats.elapsed == 20.0 and stats.elapsed == 20.0  # no longer moves
