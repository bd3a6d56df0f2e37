"""No silence while stalled: while nothing progresses, say why at least every 30 s; end an outage past its patience.

Runs beside the scheduler's workers and speaks through the event bus (LogEmitted), so the headless output, the
dashboard and the run's event log all show the same lines.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from tui_tts.engines.breaker import EndpointBreaker
from tui_tts.events import ChunkFailed, ChunkSucceeded, Event, EventBus, LogEmitted

STALL_INTERVAL = 30.0  # seconds without progress before the first word, and between words after it


class StallWatch:
    """Subscribe-free: the scheduler starts `run`; progress is read from the bus it is given."""

    def __init__(
        self,
        bus: EventBus,
        breaker: EndpointBreaker,
        explain: Callable[[], str | None] | None,
        fallback: Callable[[], str],
        *,
        interval: float = STALL_INTERVAL,
        tick: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bus = bus
        self._breaker = breaker
        self._explain = explain
        self._fallback = fallback  # what the scheduler knows, when the engine has nothing to say
        self._interval = interval
        self._tick = tick
        self._clock = clock
        self._last_progress = clock()
        self._last_word = clock()
        bus.subscribe(self._on_event)
        breaker.changes.append(self._on_breaker)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, ChunkSucceeded | ChunkFailed):
            self._last_progress = self._clock()

    def _on_breaker(self, is_open: bool) -> None:
        if is_open:
            self._last_word = self._clock()
            self._bus.emit(LogEmitted("warning", self._breaker.describe()))
        else:
            self._bus.emit(LogEmitted("warning", "endpoint reachable again; dispatch goes on"))

    async def run(self, stop_run: Callable[[str], None]) -> None:
        """Until cancelled: a line every `interval` s without progress, and the outage patience enforced."""
        while True:
            await asyncio.sleep(self._tick)
            now = self._clock()
            breaker = self._breaker
            if breaker.patience_exhausted:
                since = breaker.describe().split(",")[0]
                stop_run(f"{since}, longer than run.outage_patience ({breaker.patience:g} s); "
                         "stopped with all progress kept: run the same command to go on")  # fmt: skip
                return
            quiet = now - max(self._last_progress, self._last_word)
            if quiet < self._interval:
                continue
            self._last_word = now
            if breaker.is_open:
                self._bus.emit(LogEmitted("warning", breaker.describe()))
                continue
            reason = self._explain() if self._explain else None
            reason = reason or self._fallback()
            stalled = now - self._last_progress
            self._bus.emit(LogEmitted("warning", f"no progress for {stalled:.0f} s: {reason}"))
