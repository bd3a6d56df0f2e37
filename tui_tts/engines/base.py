"""The engine contract (Engine, EngineSpec) and the error taxonomy every backend maps its failures onto."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from tui_tts.config import EngineSettings
from tui_tts.engines.breaker import EndpointBreaker
from tui_tts.engines.health import EndpointHealth
from tui_tts.engines.redaction import redact
from tui_tts.models import Chunk, SynthesizedAudio


class EngineError(Exception):
    """Base of engine failures. The message never contains a secret: the keys in use are cut from it here."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))


class RetryableError(EngineError):
    """A passing failure: try the chunk again after a backoff.

    `overload` marks failures that mean the backend is struggling (5xx, resets, timeouts), which lower the adaptive
    concurrency limit; a failed job or bad audio does not.
    """

    def __init__(self, message: str, overload: bool = False) -> None:
        super().__init__(message)
        self.overload = overload
        self.unreachable = False  # set when the endpoint as a whole did not answer (see tui_tts.engines.breaker)
        self.no_answer = False  # no HTTP answer at all: refused, reset or timed out (not a 5xx)
        self.refused = False  # no connection was made: the request never reached the server


class RateLimitedError(RetryableError):
    """The backend asked us to slow down; retry_after is its hint in seconds, when it gave one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message, overload=True)
        self.retry_after = retry_after


class BadOutputError(RetryableError):
    """The backend answered, but with no audio or audio that does not decode."""


class FatalError(EngineError):
    """Retrying cannot help (bad API key, missing endpoint, quota gone): stop the whole run."""


class ChunkRejectedError(EngineError):
    """This one chunk can never succeed (the backend refuses its text); other chunks go on."""


class JobListener(Protocol):
    """Told about remote jobs as they are created; returns once the id is persisted, before anyone waits on it."""

    async def job_submitted(self, chunk: Chunk, job_id: str) -> None: ...


class Engine(ABC):
    """Turns one chunk of text into audio: the whole contract, optional capabilities included (each with a default
    that means "not supported"). Implementations must not block the event loop."""

    name: str
    breaker: EndpointBreaker | None = None  # set by the run; a remote engine tells it of every (un)answered request
    cancels_remote_jobs = False  # True when cancel_in_flight() can stop paid work on a backend
    execution_seconds: float | None = None  # a job's running mean execution time at the backend, once known
    job_deadline: float | None = None  # seconds a remote job may take before it is given up and sent again
    health_interval = 10.0  # seconds between two readings of health() while a run goes on
    refuses_unusable = True  # the preflight refuses an endpoint whose health() shows no usable worker

    @abstractmethod
    def describe(self) -> str:
        """A short, secret-free description for logs and the dashboard (e.g. 'local espeak-ng en-us')."""

    @abstractmethod
    async def synthesize(
        self, chunk: Chunk, listener: JobListener, resume_job_id: str | None = None
    ) -> SynthesizedAudio:
        """Synthesize a chunk. `resume_job_id` re-attaches to a remote job created by an earlier process."""

    async def aclose(self) -> None:
        """Release connections and threads."""
        return None

    async def cancel_in_flight(self) -> int:
        """Ask the backend to cancel every job in flight. Returns how many it asked to cancel."""
        return 0

    def waiting_summary(self) -> str | None:
        """What the work in flight is doing, for a stalled run (e.g. '3 jobs queued at RunPod for 45 s')."""
        return None

    async def health(self) -> EndpointHealth | None:
        """The endpoint's workers and queue (RunPod's GET /health); None when the backend has none to tell."""
        return None

    def notices(self) -> list[str]:
        """What the engine has to tell the run once, since the last call (a pool: an endpoint drained, and why)."""
        return []

    def counters(self) -> dict[str, object]:
        """Request counters for the run's stats (e.g. {'requests': 120}); empty when the engine keeps none."""
        return {}


@dataclass(frozen=True)
class Check:
    """One line of `tui-tts doctor`: what was checked, whether it is fine, and what was found."""

    label: str
    ok: bool
    text: str


S = TypeVar("S", bound=EngineSettings)


def _free(settings: Any, characters: int, audio_seconds: float) -> float:
    return 0.0


async def _no_checks(settings: Any, engine: Engine) -> AsyncIterator[Check]:
    return
    yield  # an async generator that yields nothing


@dataclass(frozen=True)
class EngineSpec(Generic[S]):
    """Everything the rest of the program knows of one engine; its module defines one, the registry lists it.

    `settings` is its config section (fields marked SAME_AUDIO stay out of run identity); `build` makes the engine
    from that section and the run's concurrency; `cost` is the dollars for (section, characters, seconds of audio);
    `checks` are what `tui-tts doctor` checks past building the engine (an async generator of Check lines).
    """

    name: str
    settings: type[S]
    build: Callable[[S, int], Engine]
    cost: Callable[[S, int, float], float] = _free
    checks: Callable[[S, Engine], AsyncIterator[Check]] = _no_checks

    @property
    def priced(self) -> bool:
        """The engine has a price model (its price may still be unset, i.e. 0)."""
        return self.cost is not _free
