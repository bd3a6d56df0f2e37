"""A RunPod endpoint's /health answer: its workers and queue, and what they say about whether jobs can run."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tui_tts.models import Chunk

if TYPE_CHECKING:  # the engine contract reads health; health's warm-up takes an engine
    from tui_tts.engines.base import Engine

WORKER_STATES = ("idle", "ready", "running", "initializing", "throttled", "unhealthy")
JOB_STATES = ("inQueue", "inProgress", "completed", "failed", "retried")


def _counts(value: Any, keys: tuple[str, ...]) -> dict[str, int]:
    source = value if isinstance(value, dict) else {}
    counts = {}
    for key in keys:
        number = source.get(key, 0)
        counts[key] = int(number) if isinstance(number, int | float) and number >= 0 else 0
    return counts


@dataclass(frozen=True, slots=True)
class EndpointHealth:
    """One reading of GET /health."""

    workers: dict[str, int]
    jobs: dict[str, int]

    @classmethod
    def parse(cls, body: Any) -> EndpointHealth | None:
        """None when the answer is not a /health answer at all (no `workers` object)."""
        if not isinstance(body, dict) or not isinstance(body.get("workers"), dict):
            return None
        return cls(_counts(body["workers"], WORKER_STATES), _counts(body.get("jobs"), JOB_STATES))

    @property
    def usable(self) -> int:
        """Workers that run jobs now or soon: idle, ready, running or starting."""
        w = self.workers
        return w["idle"] + w["ready"] + w["running"] + w["initializing"]

    @property
    def capacity(self) -> int:
        """Workers that can run a job at once (starting ones included: they will)."""
        return self.usable

    @property
    def queued(self) -> int:
        return self.jobs["inQueue"]

    def problem(self) -> str | None:
        """Why no job can run here, in one line naming what to check in RunPod's console; None when jobs can run."""
        if self.usable:
            return None
        sick = self.workers["unhealthy"], self.workers["throttled"]
        if sick[0] and not sick[1]:
            return (f"all {sick[0]} workers are unhealthy (crash-looping): check the endpoint's worker logs and "
                    "image in RunPod's console")  # fmt: skip
        if sick[1] and not sick[0]:
            return (f"all {sick[1]} workers are throttled (no GPU of the chosen type free): pick more GPU types "
                    "for the endpoint in RunPod's console")  # fmt: skip
        if any(sick):
            return (f"no usable worker ({sick[0]} unhealthy, {sick[1]} throttled): check the worker logs and the "
                    "GPU types of the endpoint in RunPod's console")  # fmt: skip
        waiting = f" while {self.queued} job(s) wait" if self.queued else ""
        return (f"the endpoint has no workers and none starting{waiting}: it is dormant or max workers is 0; "
                "raise max workers in RunPod's console (Endpoints > Edit)")  # fmt: skip

    def summary(self) -> str:
        """'workers 3 run 1 idle 2 init · queue 5' (only the states with workers, unhealthy/throttled always)."""
        w = self.workers
        parts = [f"{w['running']} run"]
        idle = w["idle"] + w["ready"]
        if idle:
            parts.append(f"{idle} idle")
        if w["initializing"]:
            parts.append(f"{w['initializing']} init")
        if w["throttled"]:
            parts.append(f"{w['throttled']} throttled")
        if w["unhealthy"]:
            parts.append(f"{w['unhealthy']} unhealthy")
        return f"workers {' '.join(parts)} · queue {self.queued}"


class _NoJobs:
    async def job_submitted(self, chunk: Chunk, job_id: str) -> None:
        return None


async def warm_up(engine: Engine, text: str = "Warming up.") -> str:
    """Submit one tiny job and say how long it waited for a worker (a cold start) and ran, and what it cost.

    Raises EngineError when the job cannot be done."""
    started = time.monotonic()
    audio = await engine.synthesize(Chunk(0, 0, 0, len(text), text), _NoJobs())
    facts = audio.job_facts
    parts = [f"one job in {time.monotonic() - started:.1f} s"]
    delay = facts.get("delay_ms")
    if isinstance(delay, int):
        label = "a cold start" if delay >= 2000 else "warm"
        parts.append(f"delayTime {delay / 1000:.1f} s ({label})")
    execution = facts.get("execution_ms")
    if isinstance(execution, int):
        parts.append(f"executionTime {execution / 1000:.1f} s")
    cost = facts.get("cost")
    if isinstance(cost, int | float) and cost:
        parts.append(f"about ${cost:.4f}")
    return ", ".join(parts) + f"; {audio.facts.duration:.1f} s of audio"
