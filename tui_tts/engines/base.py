"""The engine interface and the error taxonomy every backend maps its failures onto."""

from __future__ import annotations

from typing import Protocol

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


class Engine(Protocol):
    """Turns one chunk of text into audio. Implementations must not block the event loop."""

    name: str

    def describe(self) -> str:
        """A short, secret-free description for logs and the dashboard (e.g. 'local espeak-ng en-us')."""
        ...

    async def synthesize(
        self, chunk: Chunk, listener: JobListener, resume_job_id: str | None = None
    ) -> SynthesizedAudio:
        """Synthesize a chunk. `resume_job_id` re-attaches to a remote job created by an earlier process."""
        ...

    async def aclose(self) -> None:
        """Release connections and threads."""
        ...
