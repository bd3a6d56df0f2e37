"""The budget cap: no job is submitted once metered spend plus the expected cost of the jobs in flight would pass it.

Spend is metered from each finished job (RunPod: executionTime, plus a new worker's cold boot, times
cost_per_second). A job's expected cost is the preview's estimate per character until three jobs were metered, then
what they really cost per character.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tui_tts.events import (
    ChunkCancelled,
    ChunkFailed,
    ChunkRetryScheduled,
    ChunkSucceeded,
    Event,
    EventBus,
    LogEmitted,
)
from tui_tts.models import Chunk, money

if TYPE_CHECKING:
    from tui_tts.run.scheduler import Scheduler

LEARN_AFTER = 3  # metered jobs before their cost per character replaces the estimate


class BudgetGate:
    """Admits a chunk only when its expected cost still fits; told of every chunk's end through the event bus."""

    def __init__(self, budget: float | None, spent: float, estimate_per_char: float) -> None:
        self.budget = budget
        self.spent = spent  # metered, earlier sessions of the run included
        self._estimate = estimate_per_char
        self._reserved: dict[int, float] = {}  # chunk index -> expected cost, for the jobs in flight
        self._metered_cost = 0.0
        self._metered_chars = 0
        self._metered_jobs = 0
        self._lengths: dict[int, int] = {}
        self.held: float | None = None  # the expected cost of the chunk that did not fit, while one waits
        self.paused = False  # dispatch is paused at the cap
        self.stops = True  # headless: stop once the jobs in flight are done; the dashboard waits for a key
        self._bus: EventBus | None = None
        self._pause: Callable[[], None] = lambda: None
        self._resume: Callable[[], None] = lambda: None
        self._stop: Callable[[str], None] = lambda reason: None

    def bind(self, bus: EventBus, pause: Callable[[], None], resume: Callable[[], None],
             stop: Callable[[str], None]) -> None:  # fmt: skip
        """Hear every chunk's end on `bus`; steer dispatch with the scheduler's pause, resume and stop."""
        self._bus, self._pause, self._resume, self._stop = bus, pause, resume, stop
        bus.subscribe(self)

    @property
    def in_flight(self) -> float:
        return sum(self._reserved.values())

    def expected(self, chunk: Chunk) -> float:
        per_char = self._estimate
        if self._metered_chars:
            learnt = self._metered_cost / self._metered_chars
            per_char = learnt if self._metered_jobs >= LEARN_AFTER else max(per_char, learnt)
        return per_char * len(chunk.text)

    def admit(self, chunk: Chunk) -> bool:
        """Reserve the chunk's expected cost, or say no (and remember what it needed) when it would pass the cap."""
        cost = self.expected(chunk)
        if self.budget is not None and self.spent + self.in_flight + cost > self.budget:
            self.held = cost
            return False
        self.held = None
        self._reserved[chunk.index] = cost
        self._lengths[chunk.index] = len(chunk.text)
        return True

    def check(self, chunk: Chunk, in_flight: int) -> bool:
        """The scheduler's question before each dispatch: True sends the chunk; False has paused dispatch."""
        if self.admit(chunk):
            return True
        already_said = self.paused  # several workers reach the cap at once: it is said once
        self.paused = True
        self._pause()
        if in_flight == 0 and self.stops and not self.room_for_held():
            self.drained()  # nothing will free room: one line, the one the run stops with
            return False
        how = (
            ("waiting for the jobs in flight, then the run stops: run the same command with a larger --budget to go on")
            if self.stops
            else "press b to raise it by a quarter, or space to go on without it"
        )
        if not already_said:
            self._say("warning", self.hold_message(how))
        if in_flight == 0:
            self.drained()
        return False

    def drained(self) -> None:
        """Nothing is in flight: at the cap, go on if what finished left room, else stop (headless) or wait."""
        if not self.paused:
            return
        if self.room_for_held():
            self.paused = False
            self._resume()
        elif self.stops:
            self._stop(self.hold_message("stopped with all progress kept: run the same command with a larger "
                                         "--budget to go on"))  # fmt: skip

    def person_resumed(self) -> None:
        """Space at the cap: go on past it, for this session."""
        if self.paused:
            self.paused = False
            self.lift()
            self._say("warning", "budget lifted for this session: jobs are sent again")

    def raise_budget(self, fraction: float) -> None:
        """The dashboard's key: a quarter more, say; a run paused at the cap goes on."""
        if self.budget is None:
            return
        self.raise_by(fraction)
        self._say("info", f"budget raised to {money(self.budget or 0.0)}")
        if self.paused:
            self.paused = False
            self._resume()

    def _say(self, level: str, message: str) -> None:
        if self._bus is not None:
            self._bus.emit(LogEmitted(level, message))

    def room_for_held(self) -> bool:
        return self.held is None or self.budget is None or self.spent + self.in_flight + self.held <= self.budget

    def raise_by(self, fraction: float) -> None:
        if self.budget is not None:
            self.budget = max(round(self.budget * (1 + fraction), 2), round(self.budget + 0.01, 2))  # $0.01 rises too

    def lift(self) -> None:
        self.budget = None
        self.held = None

    def hold_message(self, how_to_go_on: str) -> str:
        budget = self.budget or 0.0
        if not self.spent and not self.in_flight:
            return (f"budget {money(budget)} is less than the next chunk's expected cost, about "
                    f"{money(self.held or 0.0)}; no job is sent: {how_to_go_on}")  # fmt: skip
        return (f"budget {money(budget)} reached: {money(self.spent)} spent, {money(self.in_flight)} expected in "
                f"flight, the next chunk about {money(self.held or 0.0)}; no new job is sent: "
                f"{how_to_go_on}")  # fmt: skip

    def __call__(self, event: Event) -> None:
        """The bus subscriber: metered spend in, reservations out."""
        match event:
            case ChunkSucceeded(index=index, job_facts=facts):
                self._reserved.pop(index, None)
                cost = facts.get("cost")
                if isinstance(cost, int | float):
                    self.spent += cost
                    self._metered_cost += cost
                    self._metered_chars += self._lengths.get(index, 0)
                    self._metered_jobs += 1
            case ChunkRetryScheduled(index=index) | ChunkFailed(index=index) | ChunkCancelled(index=index):
                self._reserved.pop(index, None)
            case _:
                pass


def attach_budget(scheduler: Scheduler, bus: EventBus, budget: float | None, spent: float,
                  estimate_per_char: float) -> BudgetGate:  # fmt: skip
    """Put a spend cap on the scheduler's dispatch (a gate without a budget only meters)."""
    gate = BudgetGate(budget, spent, estimate_per_char)
    gate.bind(bus, scheduler.pause, scheduler.resume, scheduler.stop_for_budget)
    scheduler.budget = gate
    return gate
