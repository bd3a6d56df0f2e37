"""A pool of endpoints serving one run: each with its own limit, backoff and health; chunks go to whichever has room,
weighted by its measured throughput; an endpoint that fails hard is drained and its chunks go on elsewhere.

Job ids are handed on as 'JOB@ENDPOINT', so a resume re-attaches each job on the endpoint that holds it.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from pydantic import ValidationError

from tui_tts.config import SAME_AUDIO, EngineSettings
from tui_tts.engines.base import (
    ChunkRejectedError,
    Engine,
    FatalError,
    JobListener,
    RateLimitedError,
    RetryableError,
)
from tui_tts.engines.breaker import EndpointBreaker
from tui_tts.engines.health import EndpointHealth
from tui_tts.engines.openai import OpenAIEngine, OpenAISettings
from tui_tts.engines.runpod import RunpodEngine
from tui_tts.engines.runpod_settings import RunpodSettings
from tui_tts.models import Chunk, SynthesizedAudio, money

SEPARATOR = "@"


@dataclass
class Member:
    """One endpoint of the pool and what the pool has measured of it."""

    name: str
    engine: Engine
    limit: int
    in_flight: int = 0
    done: int = 0
    errors: int = 0
    spend: float = 0.0
    seconds: float = 0.0  # running mean of a chunk's time on this endpoint
    backoff_until: float = 0.0
    first_used: float = 0.0
    drained: str | None = None  # why it takes no more chunks
    gone: asyncio.Event = field(default_factory=asyncio.Event)  # set when drained: its waits are abandoned
    breaker: EndpointBreaker = field(default_factory=lambda: EndpointBreaker(patience=float("inf")))

    @property
    def throughput(self) -> float:
        """Chunks a second it can deliver at its limit (all equal until measured)."""
        return self.limit / (self.seconds or 1.0)

    def describe(self) -> str:
        if self.drained:
            return f"{self.name} drained"
        if not self.first_used and not self.errors:
            return self.name  # nothing sent yet: no figures to show
        minutes = (time.monotonic() - self.first_used) / 60 if self.first_used else 0.0
        rate = f"{self.done / minutes:.0f}/min " if minutes > 0 else ""
        return f"{self.name} {rate}{self.errors} err {money(self.spend)}"


class PoolEngine(Engine):
    """One engine over several (RunPod endpoints, OpenAI-compatible servers)."""

    name = "pool"

    def __init__(self, members: list[Member]) -> None:
        if not members:
            raise FatalError("the pool has no endpoints")
        names = Counter(member.name for member in members)
        if max(names.values()) > 1:
            raise FatalError(f"two endpoints of the pool are named {names.most_common(1)[0][0]!r}")
        self.members = members
        self.cancels_remote_jobs = any(member.engine.cancels_remote_jobs for member in members)
        self.health_interval = min(member.engine.health_interval for member in members)
        self._room = asyncio.Condition()
        self.log: list[str] = []  # why endpoints were drained, for the run's log
        self._told = 0  # how many of those lines notices() has handed out
        self._checked = False  # the first health reading (the preflight) has been made
        for member in members:
            member.engine.breaker = member.breaker  # each endpoint's outage is its own, not the run's
            member.breaker.changes.append(partial(self._on_breaker, member))

    def _on_breaker(self, member: Member, is_open: bool) -> None:
        if is_open:  # requests in a row unanswered (refused, reset, 5xx): a hard failure, not a blip
            self._drain(member, "does not answer (connection refused, reset or HTTP 5xx, again and again)")

    def describe(self) -> str:
        return "pool: " + ", ".join(member.describe() for member in self.members)

    @property
    def live(self) -> list[Member]:
        return [member for member in self.members if member.drained is None]

    async def aclose(self) -> None:
        await asyncio.gather(*(member.engine.aclose() for member in self.members), return_exceptions=True)

    # ----- one chunk -----

    async def synthesize(
        self, chunk: Chunk, listener: JobListener, resume_job_id: str | None = None
    ) -> SynthesizedAudio:
        member, job_id = None, None
        if resume_job_id and SEPARATOR in resume_job_id:
            job_id, _, name = resume_job_id.rpartition(SEPARATOR)
            member = next((m for m in self.live if m.name == name), None)  # gone from the pool: submit anew
        refused: set[str] = set()  # endpoints that refused this chunk's connection: nothing was sent there
        while True:
            if member is None:
                member, job_id = await self._take(refused), None
            else:
                member.in_flight += 1
            try:
                return await self._on(member, chunk, listener, job_id)
            except _Drained:
                pass  # its endpoint went away while we waited: the chunk goes on elsewhere
            except RetryableError as exc:
                if not exc.refused or all(m.name in refused | {member.name} for m in self.live):
                    raise
                refused.add(member.name)  # the request never got there: another endpoint may take it at once
            finally:
                await self._release(member)
            member = None

    async def _on(self, member: Member, chunk: Chunk, listener: JobListener, job_id: str | None) -> SynthesizedAudio:
        started = time.monotonic()
        member.first_used = member.first_used or started
        task = asyncio.ensure_future(member.engine.synthesize(chunk, _Tagged(listener, member.name), job_id))
        gone = asyncio.ensure_future(member.gone.wait())
        try:
            await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            if not task.done():
                task.cancel()
        if not task.done() or task.cancelled():
            raise _Drained
        try:
            audio = task.result()
        except FatalError as exc:  # 401, 404: this endpoint is of no use, the others may be
            self._drain(member, str(exc))
            raise _Drained from None
        except ChunkRejectedError:
            raise
        except RateLimitedError as exc:
            member.errors += 1
            member.backoff_until = time.monotonic() + (exc.retry_after or 2.0)
            raise
        except RetryableError as exc:
            member.errors += 1
            if exc.unreachable and member.breaker.is_open:
                raise _Drained from None
            exc.unreachable = False  # one endpoint's trouble: the run's breaker is for the pool as a whole
            raise
        seconds = time.monotonic() - started
        member.seconds = seconds if not member.seconds else 0.8 * member.seconds + 0.2 * seconds
        member.done += 1
        cost = audio.job_facts.get("cost")
        if isinstance(cost, int | float):
            member.spend += cost
        audio.job_facts["endpoint"] = member.name
        return audio

    async def _take(self, skip: set[str]) -> Member:
        """The endpoint with room that will finish soonest for its load (not one in `skip`); waits while none has
        room."""
        async with self._room:
            while True:
                live = self.live
                if not live:
                    raise FatalError("every endpoint of the pool was drained: " + "; ".join(self.log))
                if all(m.name in skip for m in live):
                    skip = set()  # each one left refused this chunk once: any of them, as usual
                now = time.monotonic()
                ready = [m for m in live if m.in_flight < m.limit and m.backoff_until <= now and m.name not in skip]
                if ready:
                    best = min(ready, key=lambda m: (m.in_flight + 1) / m.throughput)
                    best.in_flight += 1
                    return best
                try:
                    await asyncio.wait_for(self._room.wait(), timeout=0.5)
                except TimeoutError:
                    pass

    async def _release(self, member: Member) -> None:
        member.in_flight -= 1
        async with self._room:
            self._room.notify_all()

    def _drain(self, member: Member, why: str) -> None:
        if member.drained is not None:
            return
        member.drained = why
        member.gone.set()
        self.log.append(f"{member.name}: {why}")

    # ----- the pool as a whole -----

    async def health(self) -> EndpointHealth | None:
        """The live endpoints' workers and queues added up; an endpoint that cannot run jobs is drained here."""
        totals: Counter[str] = Counter()
        jobs: Counter[str] = Counter()
        read = False
        silent: list[tuple[Member, RetryableError]] = []
        asked = self.live
        for member in asked:
            try:
                health = await member.engine.health()
            except FatalError as exc:
                self._drain(member, str(exc))
                continue
            except RetryableError as exc:
                silent.append((member, exc))
                continue
            if health is None:
                continue
            problem = health.problem()
            if problem:
                self._drain(member, problem)
                continue
            read = True
            totals.update(health.workers)
            jobs.update(health.jobs)
        if not self._checked:  # the preflight: an endpoint that does not answer while others do is left out
            if silent and len(silent) == len(asked):
                raise silent[0][1]  # none answers yet: the preflight waits a little, as for one endpoint
            self._checked = True
            for member, error in silent:
                self._drain(member, f"does not answer ({error})")
        if not self.live:
            raise FatalError("no endpoint of the pool can run jobs: " + "; ".join(self.log))
        return EndpointHealth.parse({"workers": dict(totals), "jobs": dict(jobs)}) if read else None

    def notices(self) -> list[str]:
        """Endpoints drained since the last call, each with why."""
        new, self._told = self.log[self._told :], len(self.log)
        return [f"endpoint {line}; drained: its chunks go on the others" for line in new]

    def waiting_summary(self) -> str | None:
        said = [(member.name, member.engine.waiting_summary()) for member in self.live]
        return "; ".join(f"{name}: {text}" for name, text in said if text) or None

    async def cancel_in_flight(self) -> int:
        return sum([await member.engine.cancel_in_flight() for member in self.members])


class _Drained(Exception):
    """The chunk's endpoint was drained while it waited: try the chunk on another one."""


class _Tagged:
    """Hands job ids on as 'JOB@ENDPOINT', so a resume knows where each job is."""

    def __init__(self, listener: JobListener, name: str) -> None:
        self._listener = listener
        self._name = name

    async def job_submitted(self, chunk: Chunk, job_id: str) -> None:
        await self._listener.job_submitted(chunk, f"{job_id}{SEPARATOR}{self._name}")


MEMBER_KEYS = {"name", "concurrency", "kind"}  # the pool's own keys in an [[runpod.endpoints]] entry


def build_pool(settings: RunpodSettings, concurrency: int) -> PoolEngine:
    """[[runpod.endpoints]]: each entry is [runpod] with its own keys over it (or, with kind = "openai", an
    OpenAI-compatible server), plus `name` and `concurrency` (its own limit; default run.concurrency)."""
    base = settings.model_dump(exclude={"endpoints"})
    members = []
    for number, entry in enumerate(settings.endpoints, 1):
        name = str(entry.get("name") or f"endpoint{number}")
        limit = entry.get("concurrency", concurrency)
        kind = entry.get("kind", "runpod")
        where = f"runpod.endpoints[{number}] ({name})"
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 256:
            raise FatalError(f"{where}: concurrency must be a whole number from 1 to 256, got {limit!r}")
        own = {key: value for key, value in entry.items() if key not in MEMBER_KEYS}
        try:
            if kind == "runpod":
                engine: Engine = RunpodEngine(RunpodSettings(**{**base, **own}), limit)
            elif kind == "openai":
                engine = OpenAIEngine(OpenAISettings(**own), limit)
            else:
                raise FatalError(f'{where}: kind must be "runpod" or "openai", got {kind!r}')
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(part) for part in first["loc"])
            raise FatalError(f"{where}: key {key!r}: {first['msg']}") from None
        members.append(Member(name, engine, limit))
    return PoolEngine(members)


def endpoint_identity(entry: dict[str, Any]) -> dict[str, Any]:
    """An endpoint entry without what does not change the audio (its limit, key, timeouts, price)."""
    model: type[EngineSettings] = OpenAISettings if entry.get("kind") == "openai" else RunpodSettings
    same = {name for name, field in model.model_fields.items() if SAME_AUDIO in field.metadata}
    return {key: value for key, value in entry.items() if key not in same and key != "concurrency"}
