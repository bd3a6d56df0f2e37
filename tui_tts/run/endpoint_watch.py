"""The endpoint's own health, before and during a paid run: a dormant or unusable endpoint stops before any job is
submitted; during the run /health is read every ~10 s, shown, explained when it turns bad, and caps concurrency."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from tui_tts.engines.base import Engine, FatalError, RetryableError
from tui_tts.engines.health import EndpointHealth
from tui_tts.errors import UserError
from tui_tts.events import EndpointObserved, EventBus, LogEmitted
from tui_tts.run.scheduler import Scheduler

ReadHealth = Callable[[], Awaitable[EndpointHealth | None]]

PREFLIGHT_PATIENCE = 20.0  # at most this long for an endpoint that does not answer before a run (not 30 min)
HEALTH_INTERVAL = 10.0
STUCK_PATIENCE = 120.0  # jobs queued with no usable worker this long: the run stops (nothing ran, nothing paid)


async def preflight(
    read: ReadHealth, where: str, patience: float, say: Callable[[str], None], refuse: bool = True
) -> None:
    """Refuse, in one line, an endpoint that cannot run jobs; wait a little (not the run's outage patience) for one
    that does not answer. Returns when jobs can be submitted (or the server has no /health to ask)."""
    patience = min(patience, PREFLIGHT_PATIENCE)
    started = time.monotonic()
    since = datetime.now().strftime("%H:%M:%S")
    said = -math.inf
    while True:
        try:
            health = await read()
            break
        except FatalError as exc:
            raise UserError(f"{exc}; nothing was submitted") from None
        except RetryableError as exc:
            waited = time.monotonic() - started
            if waited >= patience:
                raise UserError(
                    f"{where} does not answer ({exc}) after {waited:.0f} s: check runpod.endpoint_url or endpoint_id "
                    f"and that the endpoint exists in RunPod's console; nothing was submitted (a run waits "
                    f"run.outage_patience, at most {PREFLIGHT_PATIENCE:.0f} s, for an endpoint to answer first)"
                ) from None
            if time.monotonic() - said >= 5.0:
                said = time.monotonic()
                say(f"endpoint unreachable since {since}, retrying in 1 s (giving up after {patience:.0f} s)")
            await asyncio.sleep(min(1.0, max(0.0, patience - waited)))
    problem = health.problem() if health is not None else None
    if problem and not refuse:  # the user knows better (runpod.refuse_unusable = false): say it, go on
        say(f"{where}: {problem}; going on (runpod.refuse_unusable = false)")
    elif problem:
        raise UserError(
            f"{where}: {problem}; nothing was submitted (runpod.refuse_unusable = false goes on regardless)"
        )


class EndpointWatch:
    """Reads /health every `interval` s while the run goes on; speaks through the bus."""

    def __init__(
        self,
        read: ReadHealth,
        bus: EventBus,
        *,
        set_cap: Callable[[int | None], None],
        stop_run: Callable[[str], None],
        job_deadline: float,
        execution_seconds: Callable[[], float | None],
        notices: Callable[[], list[str]] = list,
        interval: float = HEALTH_INTERVAL,
        stuck_patience: float = STUCK_PATIENCE,
    ) -> None:
        self._read = read
        self._bus = bus
        self._set_cap = set_cap
        self._stop_run = stop_run
        self._deadline = job_deadline
        self._execution = execution_seconds
        self._notices = notices
        self._interval = interval
        self._stuck_patience = stuck_patience
        self._last: EndpointHealth | None = None
        self._stuck_since: float | None = None
        self.readings = 0

    async def run(self) -> None:
        """Until cancelled (or the server turns out to have no /health). Reads at once, then every `interval` s,
        and once more as soon as the first job's execution time is known (the concurrency cap needs it)."""
        capped, reading = False, True
        while True:
            try:
                health = await self._read() if reading else None
            except (RetryableError, FatalError):
                pass  # an outage is the breaker's to handle; a refused key, the jobs' to report
            else:
                reading = health is not None  # no /health to read: only the engine's notices are left to tell
                if health is not None:
                    self.readings += 1
                    self.observe(health)
            waited, capped = 0.0, capped or bool(self._execution())
            while waited < self._interval and (capped or not self._execution()):
                for notice in self._notices():
                    self._bus.emit(LogEmitted("warning", notice))
                await asyncio.sleep(min(0.5, self._interval))
                waited += min(0.5, self._interval)

    def observe(self, health: EndpointHealth, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        last, self._last = self._last, health
        w = health.workers
        booting = w["initializing"] > 0 and w["running"] == 0
        self._bus.emit(EndpointObserved(health.summary(), booting))
        if last is not None and w["unhealthy"] > last.workers["unhealthy"]:
            risen = w["unhealthy"] - last.workers["unhealthy"]
            self._bus.emit(LogEmitted("warning", (
                f"{risen} more worker(s) unhealthy ({w['unhealthy']} now, {health.usable} usable): they crash-loop "
                "and RunPod may scale the endpoint down; check the worker logs in RunPod's console")))  # fmt: skip
        if last is not None and w["throttled"] > last.workers["throttled"]:
            self._bus.emit(LogEmitted("warning", (
                f"{w['throttled']} worker(s) throttled: no GPU of the endpoint's type is free; jobs wait until "
                "one is, or add GPU types in RunPod's console")))  # fmt: skip
        self._check_stuck(health, now)
        if health.usable:
            self._set_cap(self.cap_for(health.usable))

    def cap_for(self, workers: int) -> int | None:
        """Jobs worth keeping at RunPod: each worker's own, plus what it can still finish within half a deadline.
        None (no cap) until a job's execution time is known."""
        execution = self._execution()
        if not execution:
            return None
        return workers * (1 + max(1, math.floor(0.5 * self._deadline / execution)))

    def _check_stuck(self, health: EndpointHealth, now: float) -> None:
        problem = health.problem() if health.queued else None
        if problem is None:
            if self._stuck_since is not None:
                self._bus.emit(LogEmitted("info", f"the endpoint runs jobs again ({health.summary()})"))
            self._stuck_since = None
            return
        if self._stuck_since is None:
            self._stuck_since = now
            self._bus.emit(LogEmitted("warning", f"jobs are stuck in RunPod's queue: {problem}"))
        elif now - self._stuck_since >= self._stuck_patience:
            self._stop_run(f"jobs stuck in RunPod's queue for {now - self._stuck_since:.0f} s: {problem}; "
                           "stopped with all progress kept: run the same command to go on")  # fmt: skip


def attach_endpoint_watch(engine: Engine, scheduler: Scheduler, bus: EventBus) -> None:
    """Watch the endpoint beside the run (engines without health end the watch at its first reading)."""
    watch = EndpointWatch(engine.health, bus, set_cap=scheduler.set_endpoint_cap, stop_run=scheduler.stop_for_endpoint,
                          job_deadline=engine.job_deadline or 600.0,
                          execution_seconds=lambda: engine.execution_seconds, notices=engine.notices,
                          interval=engine.health_interval)  # fmt: skip
    scheduler.companions.append(watch.run)


async def check_endpoint(engine: Engine, patience: float, bus: EventBus) -> None:
    """The preflight of a run: engines without health pass."""
    say = lambda line: bus.emit(LogEmitted("warning", line))  # noqa: E731
    await preflight(engine.health, engine.describe(), patience, say, refuse=engine.refuses_unusable)
