"""The asyncio worker pool: a live-resizable concurrency limit, pause, retries with backoff, one event stream.

Workers read one priority queue (document order). Raising the limit spawns workers at once; lowering it lets
workers retire after their current chunk, so work in flight is never cancelled by a limit change.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import random
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any

from tui_tts.engines.base import ChunkRejectedError, FatalError, RateLimitedError, RetryableError
from tui_tts.engines.breaker import EndpointBreaker
from tui_tts.events import (
    ChunkCancelled,
    ChunkFailed,
    ChunkRetryScheduled,
    ChunksRequeued,
    ChunkStarted,
    ChunkSucceeded,
    DispatchPaused,
    DispatchResumed,
    EventBus,
    LimitChanged,
    RunAbortRequested,
)
from tui_tts.models import AudioFacts, Chunk
from tui_tts.run.budget import BudgetGate
from tui_tts.run.limits import ConcurrencyLimit, full_jitter_delay
from tui_tts.run.stall import StallWatch
from tui_tts.store import StoreError


@dataclass(frozen=True, slots=True)
class ChunkOutcome:
    """What processing one chunk produced: its audio file, its facts, and the remote job's provenance."""

    audio_path: str
    facts: AudioFacts
    job_facts: dict[str, object] = field(default_factory=dict)


ProcessChunk = Callable[[Chunk, int], Awaitable[ChunkOutcome]]

# A rate limit is the backend's problem, not the chunk's: it gets a budget of its own, far larger.
RATE_LIMIT_ATTEMPTS_FACTOR = 20


class Scheduler:
    """Runs chunks through `process` with a concurrency limit the user can change while it runs."""

    def __init__(
        self,
        process: ProcessChunk,
        bus: EventBus,
        *,
        limit: ConcurrencyLimit,
        max_attempts: int,
        retry_base_delay: float = 1.0,
        retry_max_delay: float = 60.0,
        rng: random.Random | None = None,
        breaker: EndpointBreaker | None = None,
        explain_wait: Callable[[], str | None] | None = None,
    ) -> None:
        self._process_chunk = process
        self._bus = bus
        self.limit = limit
        self.max_attempts = max_attempts
        self._retry_base = retry_base_delay
        self._retry_cap = retry_max_delay
        self._rng = rng or random.Random()
        self._queue: asyncio.PriorityQueue[tuple[int, Chunk]] = asyncio.PriorityQueue()
        self._workers: set[asyncio.Task[None]] = set()
        self._idle: set[asyncio.Task[None]] = set()  # workers waiting on an empty queue
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._attempts: dict[int, int] = {}
        self._rate_limited: dict[int, int] = {}
        self._unanswered: dict[int, int] = {}  # last tries given back because nothing answered at all
        self._running = asyncio.Event()
        self._running.set()
        self._finished = asyncio.Event()
        self._cooldown_until = 0.0
        self._remaining = 0
        self._stopping = False
        self.in_flight = 0
        self.peak_in_flight = 0
        self.abort_reason: str | None = None
        self.budget: BudgetGate | None = None  # the spend cap (run.budget / --budget), bound by attach_budget
        self.companions: list[
            Callable[[], Coroutine[Any, Any, None]]
        ] = []  # run beside the workers (the endpoint's watch)
        # An outage of the whole endpoint pauses dispatch instead of failing chunks (tui_tts.engines.breaker).
        self.breaker = breaker or EndpointBreaker(patience=float("inf"))
        self._stall_watch = StallWatch(bus, self.breaker, explain_wait, lambda: (
            "dispatch paused" if self.paused else
            f"{self.in_flight} chunk(s) in flight, {len(self._timers)} waiting to retry"))  # fmt: skip

    # ----- control, callable from the UI or the CLI at any time -----

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def remaining(self) -> int:
        return self._remaining

    def set_concurrency(self, value: int) -> None:
        """Set the user's parallel limit (+/- keys, --concurrency)."""
        self._change_limit(lambda: self.limit.set_user(value), "set by user")

    def set_parallel(self, parallel: bool) -> None:
        """Switch between parallel N and sequential 1."""
        self._change_limit(lambda: setattr(self.limit, "parallel", parallel),
                           "parallel" if parallel else "sequential")  # fmt: skip

    def set_endpoint_cap(self, cap: int | None) -> None:
        """What the endpoint's workers can take (from its /health); None lifts the cap."""
        if cap != self.limit.endpoint_cap:
            self._change_limit(lambda: setattr(self.limit, "endpoint_cap", cap), f"endpoint capacity {cap}")

    def stop_for_budget(self, reason: str) -> None:
        """The spend cap is reached and nothing is in flight (headless): stop; resume goes on."""
        self._abort(reason)

    def stop_for_endpoint(self, reason: str) -> None:
        """The endpoint cannot run jobs (dormant, every worker sick): stop, jobs in flight kept for resume."""
        self._abort(reason, cancel=True)

    def toggle_parallel(self) -> None:
        self.set_parallel(not self.limit.parallel)

    def pause(self) -> None:
        if self._running.is_set():
            self._running.clear()
            self._bus.emit(DispatchPaused())

    def resume(self) -> None:
        if self.budget is not None:
            self.budget.person_resumed()  # at the cap, space means go on past it
        if not self._running.is_set():
            self._running.set()
            self._bus.emit(DispatchResumed())

    def stop(self, cancel_in_flight: bool = True) -> None:
        """Stop dispatching; cancel work in flight, or let it finish. `run` returns once workers are gone."""
        self._stopping = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._running.set()  # wake paused workers so they can leave
        for worker in list(self._workers):
            if cancel_in_flight:
                worker.cancel()
        self._finished.set()
        for worker in list(self._idle):
            worker.cancel()

    def requeue(self, chunks: Iterable[Chunk]) -> None:
        """Put chunks (e.g. failed ones) back in the queue with a fresh attempt budget."""
        indexes = []
        for chunk in chunks:
            self._attempts[chunk.index] = 0
            self._rate_limited[chunk.index] = 0
            self._unanswered[chunk.index] = 0
            self._remaining += 1
            self._queue.put_nowait((chunk.index, chunk))
            indexes.append(chunk.index)
        if indexes:
            self._finished.clear()
            self._bus.emit(ChunksRequeued(tuple(indexes)))
            self._spawn_workers()

    # ----- running -----

    async def run(self, chunks: Iterable[Chunk], attempts: dict[int, int] | None = None) -> None:
        """Process chunks until each one is done or failed for good, or until stop()."""
        for chunk in chunks:
            self._attempts[chunk.index] = (attempts or {}).get(chunk.index, 0)
            self._remaining += 1
            self._queue.put_nowait((chunk.index, chunk))
        if self._remaining == 0:
            return
        self._finished.clear()
        self._stopping = False
        self._spawn_workers()
        loop = asyncio.get_running_loop()
        watches = [loop.create_task(self._stall_watch.run(self._stop_for_outage))]
        watches += [loop.create_task(companion()) for companion in self.companions]
        try:
            await self._finished.wait()
        finally:
            for watch in watches:
                watch.cancel()
        if not self._stopping:
            for worker in list(self._workers):
                worker.cancel()  # every chunk is settled: the workers left are idle
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers.clear()

    def _change_limit(self, change: Callable[[], object], reason: str) -> None:
        old = self.limit.effective
        change()
        new = self.limit.effective
        if new != old:
            self._bus.emit(LimitChanged(old, new, reason))
        self._spawn_workers()

    def _spawn_workers(self) -> None:
        if self._stopping:
            return
        while len(self._workers) < self.limit.effective:
            task = asyncio.get_running_loop().create_task(self._worker())
            self._workers.add(task)

    def _over_limit(self, me: asyncio.Task[None]) -> bool:
        """Retire this worker when there are more workers than the limit (atomic: no await in between)."""
        if len(self._workers) > self.limit.effective:
            self._workers.discard(me)
            return True
        return False

    async def _worker(self) -> None:
        me = asyncio.current_task()
        assert me is not None
        try:
            while not self._stopping:
                if self._over_limit(me):
                    return
                self._idle.add(me)
                try:
                    item = await self._queue.get()
                finally:
                    self._idle.discard(me)
                ready = await self._wait_until_dispatchable(me, item[1])
                if not ready:
                    self._queue.put_nowait(item)
                    return
                try:
                    await self._process(item[1])
                except Exception as exc:  # a failure outside the chunk (the store, a subscriber): end the run
                    self._abort(str(exc) if isinstance(exc, StoreError) else f"internal error: {exc!r}", cancel=True)
                    return
        finally:
            self._workers.discard(me)
            self._idle.discard(me)

    async def _wait_until_dispatchable(self, me: asyncio.Task[None], chunk: Chunk) -> bool:
        """Hold a taken chunk until dispatch is allowed; False means this worker should give it back and leave."""
        loop = asyncio.get_running_loop()
        while True:
            if self._stopping or self._over_limit(me):
                return False
            if not self._running.is_set():
                await self._running.wait()
                continue
            wait = self._cooldown_until - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            hold = self.breaker.dispatch_hold()  # the endpoint is down: one probe at a time, with backoff
            if hold > 0:
                await asyncio.sleep(min(hold, 1.0))
                continue
            if self.budget is not None and not self.budget.check(chunk, self.in_flight):  # paused at the cap
                continue
            return True

    async def _process(self, chunk: Chunk) -> None:
        attempt = self._attempts.get(chunk.index, 0) + 1
        self._attempts[chunk.index] = attempt
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        started = time.monotonic()
        try:
            self._bus.emit(ChunkStarted(chunk.index, attempt))
            outcome = await self._process_chunk(chunk, attempt)
        except asyncio.CancelledError:
            self._attempts[chunk.index] = attempt - 1
            with contextlib.suppress(Exception):  # the store may be what failed; cancelling must go on
                self._bus.emit(ChunkCancelled(chunk.index))
            raise
        except StoreError as exc:  # the state cannot be saved: retrying would pay for work nobody records
            self._attempts[chunk.index] = attempt - 1
            self._abort(str(exc), cancel=True)
        except RateLimitedError as exc:
            self._attempts[chunk.index] = attempt - 1  # a 429 is not the chunk's fault
            self._rate_limited[chunk.index] = self._rate_limited.get(chunk.index, 0) + 1
            self._on_rate_limited(exc, started)
            if self._rate_limited[chunk.index] > self.max_attempts * RATE_LIMIT_ATTEMPTS_FACTOR:
                self._fail(chunk, attempt, f"rate limited {self._rate_limited[chunk.index]} times: {exc}")
            else:
                self._retry_later(chunk, attempt, str(exc), max(exc.retry_after or 0.0, self._backoff(attempt)))
        except FatalError as exc:
            self._attempts[chunk.index] = attempt - 1
            self._abort(str(exc))
        except ChunkRejectedError as exc:
            self._fail(chunk, attempt, str(exc))
        except OSError as exc:
            if exc.errno in {errno.ENOSPC, errno.EDQUOT, errno.EROFS}:
                self._attempts[chunk.index] = attempt - 1
                self._abort(f"cannot write chunk audio: {exc.strerror} ({exc.filename or 'data dir'})")
            else:
                self._retry_or_fail(chunk, attempt, f"{type(exc).__name__}: {exc}")
        except RetryableError as exc:
            # The endpoint's outage is not the chunk's fault: while the breaker is open, or while the last requests
            # all went unanswered (an outage may be starting), a chunk's last try is given back, not spent.
            # A request that got no HTTP answer at all (refused, reset, timed out) is the endpoint's trouble too:
            # like a rate limit it has a budget of its own, far larger, so concurrent answers that reset the
            # breaker's streak as an outage begins cannot use up a chunk's tries before the breaker opens.
            going_down = attempt >= self.max_attempts and (self.breaker.streak >= 2 or self._spare_try(chunk, exc))
            if exc.unreachable and (self.breaker.is_open or going_down):
                self._attempts[chunk.index] = attempt - 1
                self._retry_later(chunk, attempt, str(exc), max(self.breaker.retry_in, self._backoff(attempt)))
                return
            old = self.limit.effective
            if exc.overload and self.limit.record_overload(started, factor=0.75):
                self._bus.emit(LimitChanged(old, self.limit.effective, f"after error: {exc}"))
            self._retry_or_fail(chunk, attempt, str(exc))
        except Exception as exc:  # a bug or an unexpected library error: retry, but say what it was
            self._retry_or_fail(chunk, attempt, f"{type(exc).__name__}: {exc}")
        else:
            self._remaining -= 1
            self._bus.emit(ChunkSucceeded(
                chunk.index, attempt, outcome.audio_path, outcome.facts.codec, outcome.facts.sample_rate,
                outcome.facts.channels, outcome.facts.duration, time.monotonic() - started, outcome.job_facts,
            ))  # fmt: skip
            old = self.limit.effective
            if self.limit.record_success():
                self._bus.emit(LimitChanged(old, self.limit.effective, "recovering"))
                self._spawn_workers()
            self._check_finished()
        finally:
            self.in_flight -= 1
            if self.budget is not None and self.in_flight == 0:
                self.budget.drained()

    def _spare_try(self, chunk: Chunk, exc: RetryableError) -> bool:
        """Give a chunk's last try back after a request nothing answered, within a budget of its own."""
        if not exc.no_answer:
            return False
        self._unanswered[chunk.index] = self._unanswered.get(chunk.index, 0) + 1
        return self._unanswered[chunk.index] <= self.max_attempts * RATE_LIMIT_ATTEMPTS_FACTOR

    def _on_rate_limited(self, exc: RateLimitedError, started: float) -> None:
        loop = asyncio.get_running_loop()
        pause = exc.retry_after if exc.retry_after is not None else self._backoff(2)
        self._cooldown_until = max(self._cooldown_until, loop.time() + pause)
        old = self.limit.effective
        if self.limit.record_overload(started):
            self._bus.emit(LimitChanged(old, self.limit.effective, "after 429"))

    def _backoff(self, attempt: int) -> float:
        return full_jitter_delay(attempt, self._retry_base, self._retry_cap, self._rng)

    def _retry_or_fail(self, chunk: Chunk, attempt: int, error: str) -> None:
        if attempt >= self.max_attempts:
            self._fail(chunk, attempt, error)
        else:
            self._retry_later(chunk, attempt, error, self._backoff(attempt))

    def _retry_later(self, chunk: Chunk, attempt: int, error: str, delay: float) -> None:
        self._bus.emit(ChunkRetryScheduled(chunk.index, attempt, error, delay))
        if self._stopping:
            return

        def requeue() -> None:
            self._timers.pop(chunk.index, None)
            self._queue.put_nowait((chunk.index, chunk))

        self._timers[chunk.index] = asyncio.get_running_loop().call_later(delay, requeue)

    def _fail(self, chunk: Chunk, attempt: int, error: str) -> None:
        self._remaining -= 1
        self._bus.emit(ChunkFailed(chunk.index, attempt, error))
        self._check_finished()

    def _abort(self, reason: str, cancel: bool = False) -> None:
        """End the run for a reason retrying cannot fix. Work in flight finishes, unless `cancel` (nothing could
        record it). The run stops even when telling the subscribers fails (a broken store)."""
        first = self.abort_reason is None
        if first:
            self.abort_reason = reason
        self.stop(cancel_in_flight=cancel)
        if first:
            with contextlib.suppress(Exception):  # one event; each consumer says it once, in its own words
                self._bus.emit(RunAbortRequested(reason))

    def _stop_for_outage(self, reason: str) -> None:
        """The endpoint stayed unreachable past run.outage_patience: stop, returning jobs in flight for resume."""
        self._abort(reason, cancel=True)

    def _check_finished(self) -> None:
        if self._remaining <= 0:
            self._finished.set()
