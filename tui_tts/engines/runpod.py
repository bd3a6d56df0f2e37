"""The RunPod serverless engine: /run + /status (or /runsync), surviving every documented failure.

Cheap by design: a job id is handed to the listener (and so persisted) as soon as /run answers; errors while polling
never resubmit a job that may still deliver; the first poll waits about as long as jobs have been taking, so most
chunks cost two requests. A job is paid for again only when it is lost (404), failed, or stuck past the deadline.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx

from tui_tts.engines.base import (
    BadOutputError,
    Check,
    Engine,
    EngineSpec,
    FatalError,
    JobListener,
    RateLimitedError,
    RetryableError,
)
from tui_tts.engines.breaker import EndpointBreaker
from tui_tts.engines.health import EndpointHealth
from tui_tts.engines.http import (
    age_text,
    api_key_from,
    audio_from_value,
    classify_status,
    dig,
    fill_template,
    json_object,
    key_check,
    make_client,
    one_line,
    probe,
    raise_for_transport,
    validated_audio,
)
from tui_tts.engines.runpod_settings import RunpodSettings
from tui_tts.engines.streaming import join_stream
from tui_tts.models import Chunk, SynthesizedAudio

CLOUD_BASE = "https://api.runpod.ai/v2"
PENDING = {"IN_QUEUE", "IN_PROGRESS", "RUNNING"}
FAILED = {"FAILED", "TIMED_OUT", "CANCELLED"}
COLD_START_MS = 2000  # a delayTime this long on a worker's first job: its boot, which RunPod bills
UNKNOWN = "UNKNOWN"  # ours, not RunPod's: the last /status got no usable answer


class JobLostError(RetryableError):
    """RunPod no longer knows the job (404: expired or lost); it must be submitted again."""


class RunpodEngine(Engine):
    """Talks to one endpoint through one shared httpx.AsyncClient."""

    name = "runpod"
    cancels_remote_jobs = True

    def __init__(self, settings: RunpodSettings, concurrency: int, client: httpx.AsyncClient | None = None) -> None:
        if not settings.endpoint_url and not settings.endpoint_id:
            raise FatalError("set runpod.endpoint_id (or runpod.endpoint_url) in the config")
        self.settings = settings
        self.job_deadline = settings.job_deadline
        self.health_interval = settings.health_interval
        self.refuses_unusable = settings.refuse_unusable
        self.base_url = settings.endpoint_url.rstrip("/") or f"{CLOUD_BASE}/{settings.endpoint_id}"
        key = api_key_from(settings.api_key_env, self.base_url, "RunPod")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._client = client or make_client(self.base_url, headers, settings.request_timeout)
        # Audio URLs get a client of their own: the endpoint's key must never go to another host.
        self._downloads = make_client(read_timeout=settings.request_timeout)
        self._status_method = "GET"
        self._urls: dict[str, httpx.URL] = {}
        self._typical_seconds: float | None = None
        self._typical_deviation = 0.0
        self.requests: Counter[str] = Counter()
        self.submissions = 0
        self.cancels = 0
        self.reattached = 0
        self.streamed = 0  # jobs whose audio came from /stream/{id}
        self._workers_seen: set[str] = set()
        self.execution_seconds: float | None = None  # running mean of executionTime: what a worker takes a job
        self._in_flight: dict[str, tuple[str, float]] = {}  # job id -> (last status seen, since when)
        self.breaker: EndpointBreaker | None = None  # told of every answered and unanswered request

    def describe(self) -> str:
        return f"runpod {self.base_url} ({self.settings.mode})"

    async def aclose(self) -> None:
        await self._client.aclose()
        await self._downloads.aclose()

    async def synthesize(
        self, chunk: Chunk, listener: JobListener, resume_job_id: str | None = None
    ) -> SynthesizedAudio:
        job_id, body = None, None
        if resume_job_id:
            body = await self._reattach(resume_job_id)
            if body is not None:
                job_id = resume_job_id
                self.reattached += 1
        if job_id is None:
            job_id, body = await self._submit(chunk)
            if body.get("status") != "COMPLETED":  # a finished /runsync job is recorded with its audio instead
                await listener.job_submitted(chunk, job_id)
        assert body is not None
        started = time.monotonic()
        self._in_flight[job_id] = (str(body.get("status") or "IN_QUEUE"), started)
        try:
            body = await self._wait(job_id, body, started)
        finally:
            self._in_flight.pop(job_id, None)
        return await self._collect(job_id, body)

    async def _reattach(self, job_id: str) -> dict[str, Any] | None:
        """The job's state for a restart, or None when it is gone or finished without use (then submit again).

        Only RunPod's own word drops a known job: a 404 or a failed end. A 429, 5xx, reset or garbage answer says
        nothing about the job, so it is kept and polled again (with backoff) like any job in flight.
        """
        try:
            body = await self._status(job_id)
        except JobLostError:
            return None
        except RetryableError:
            return {"id": job_id, "status": UNKNOWN}
        return None if body.get("status") in FAILED else body

    def waiting_summary(self) -> str | None:
        """What the jobs in flight are doing, for a stalled run: '3 jobs queued at RunPod for up to 45 s; ...'."""
        if not self._in_flight:
            return None
        now = time.monotonic()
        by_status: dict[str, list[tuple[float, str]]] = {}
        for job_id, (status, since) in self._in_flight.items():
            by_status.setdefault(status, []).append((now - since, job_id))
        parts = []
        for status, ages in sorted(by_status.items()):
            oldest, job_id = max(ages)
            label = {"IN_QUEUE": "queued", "IN_PROGRESS": "in progress", "RUNNING": "in progress"}.get(
                status, "without an answer from /status"
            )
            if len(ages) == 1:
                parts.append(f"job {job_id} {label} for {age_text(oldest)}")
            else:
                parts.append(f"{len(ages)} jobs {label} at RunPod, the oldest for {age_text(oldest)}")
        return "; ".join(parts)

    async def health(self) -> EndpointHealth | None:
        """GET /health: the endpoint's workers and queue; None when the server has no /health (a local SDK server).

        Raises RetryableError (with `unreachable` set) when nothing answers, FatalError on a refused key.
        """
        response = await self._request("GET", "health", "GET /health")
        if response.status_code in (404, 405):
            return None
        classify_status(response, "GET /health", "RunPod")
        try:
            return EndpointHealth.parse(response.json())
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None

    def counters(self) -> dict[str, object]:
        return {"requests": dict(self.requests), "submissions": self.submissions, "cancels": self.cancels,
                "reattached": self.reattached}  # fmt: skip

    async def cancel_in_flight(self) -> int:
        """POST /cancel for every job this engine is waiting on. Returns how many it asked to cancel."""
        jobs = list(self._in_flight)
        await asyncio.gather(*(self._cancel(job_id) for job_id in jobs))
        return len(jobs)

    # ----- requests -----

    async def _request(self, method: str, route: str, what: str, **kwargs: Any) -> httpx.Response:
        self.requests[route.split("/")[0]] += 1
        try:
            response = await self._client.request(method, self._url(route), **kwargs)
        except httpx.TransportError as exc:
            if self.breaker is not None:
                self.breaker.record_unanswered()
            raise_for_transport(exc, what)
        if self.breaker is not None:
            if response.status_code >= 500:
                self.breaker.record_unanswered()
            else:
                self.breaker.record_answered()
        return response

    def _url(self, route: str) -> httpx.URL:
        """The absolute URL of a route, parsed once for the fixed ones (/run, /runsync): httpx parses a relative URL
        twice on every request to join it to the base."""
        url = self._urls.get(route)
        if url is None:
            url = httpx.URL(f"{self.base_url}/{route}")
            if "/" not in route:  # /status/{id} and /cancel/{id} are each used a few times only
                self._urls[route] = url
        return url

    async def _submit(self, chunk: Chunk) -> tuple[str, dict[str, Any]]:
        payload: dict[str, Any] = {"input": fill_template(self.settings.input, chunk.text)}
        if self.settings.policy:
            payload["policy"] = dict(self.settings.policy)
        self.submissions += 1
        if self.settings.mode == "runsync":
            wait_ms = self.settings.runsync_wait_ms
            timeout = httpx.Timeout(self.settings.request_timeout + wait_ms / 1000, connect=10.0)
            route = f"runsync?wait={wait_ms}"
            response = await self._request("POST", route, "POST /runsync", json=payload, timeout=timeout)
        else:
            response = await self._request("POST", "run", "POST /run", json=payload)
        route = "runsync" if self.settings.mode == "runsync" else "run"
        classify_status(response, f"POST /{route}", "RunPod")
        body = json_object(response, f"POST /{route}")
        job_id = body.get("id")
        if not isinstance(job_id, str) or not job_id:
            raise RetryableError(f"POST /{route} answered without a job id")
        return job_id, body

    async def _status(self, job_id: str) -> dict[str, Any]:
        route = f"status/{job_id}"
        method = self._status_method  # read once: a concurrent poll may switch it while this one waits
        response = await self._request(method, route, "status")
        if response.status_code == 405 and method == "GET":
            self._status_method = "POST"  # the runpod SDK's local server only takes POST /status
            response = await self._request("POST", route, "status")
        if response.status_code == 404:
            raise JobLostError(f"job {job_id} is gone (HTTP 404: expired or lost); submitting again")
        classify_status(response, "GET /status", "RunPod")
        body = json_object(response, "GET /status")
        if body.get("status") not in PENDING | FAILED | {"COMPLETED"}:  # garbage says nothing about the job
            raise RetryableError(f"GET /status: answer without a known status (HTTP {response.status_code})")
        return body

    async def _read_stream(self, job_id: str) -> list[Any]:
        """Every piece /stream/{id} still holds for a finished job (each piece is handed out once, as in the cloud)."""
        pieces: list[Any] = []
        for _ in range(1000):  # a stream ends: a finished job answers with no new pieces
            response = await self._request(self._status_method, f"stream/{job_id}", "stream")
            if response.status_code == 405 and self._status_method == "GET":
                response = await self._request("POST", f"stream/{job_id}", "stream")  # the SDK's local server
            if response.status_code == 404:
                raise JobLostError(f"job {job_id}: its stream is gone (HTTP 404: expired or lost); submitting again")
            classify_status(response, "GET /stream", "RunPod")
            body = json_object(response, "GET /stream")
            new = [item.get("output") if isinstance(item, dict) else item for item in body.get("stream") or []]
            pieces += new
            if not new and body.get("status") not in PENDING:
                break
            if not new:
                await asyncio.sleep(self.settings.poll_initial)
        return pieces

    async def _cancel(self, job_id: str) -> None:
        self.cancels += 1
        try:
            await self._request("POST", f"cancel/{job_id}", "POST /cancel")
        except RetryableError:
            pass  # best effort: the job is abandoned either way

    # ----- waiting -----

    async def _wait(self, job_id: str, body: dict[str, Any], started: float) -> dict[str, Any]:
        delay = self._first_poll_delay()
        follow_up = self._follow_up_delay()
        answered = time.monotonic()  # when RunPod last told us the job's state
        while True:
            status = body.get("status")
            if status == UNKNOWN:  # no answer yet: the job is ours until RunPod says otherwise
                if self._in_flight.get(job_id, ("", 0.0))[0] != UNKNOWN:
                    self._in_flight[job_id] = (UNKNOWN, time.monotonic())
                outage = self.breaker is not None and self.breaker.is_open  # then run.outage_patience decides
                if not outage and time.monotonic() - answered > self.settings.job_deadline:
                    raise RetryableError(f"job {job_id}: no answer to /status for {self.settings.job_deadline:.0f} s")
                await asyncio.sleep(delay * random.uniform(0.95, 1.05))
                delay = min(max(delay, self.settings.poll_initial) * 1.5, self.settings.poll_max)
                body = await self._poll_once(job_id, body)
                continue
            answered = time.monotonic()
            previous = self._in_flight.get(job_id)
            if previous is None or previous[0] != status:
                self._in_flight[job_id] = (str(status), answered)
            if status == "COMPLETED":
                # The job's own timings say when it really finished; our poll only noticed it later.
                reported = body.get("delayTime"), body.get("executionTime")
                if all(isinstance(value, int | float) for value in reported):
                    self._learn(sum(reported) / 1000)  # type: ignore[arg-type]
                    seconds = reported[1] / 1000  # type: ignore[operator]
                    known = self.execution_seconds
                    self.execution_seconds = seconds if known is None else 0.8 * known + 0.2 * seconds
                else:
                    self._learn(time.monotonic() - started)
                return body
            if status in FAILED:
                reason = body.get("error") or body.get("output") or "no reason given"
                raise RetryableError(f"job {job_id} {status}: {one_line(reason)}")
            if status not in PENDING:
                raise RetryableError(f"job {job_id}: unexpected status {status!r}")
            if time.monotonic() - started > self.settings.job_deadline:
                await self._cancel(job_id)
                raise RetryableError(
                    f"job {job_id} still {status} after {self.settings.job_deadline:.0f} s; cancelled, submitting again"
                )
            await asyncio.sleep(delay * random.uniform(0.95, 1.05))
            delay, follow_up = follow_up, min(follow_up * 1.5, self.settings.poll_max)
            body = await self._poll_once(job_id, body)

    async def _poll_once(self, job_id: str, previous: dict[str, Any]) -> dict[str, Any]:
        """One status poll. A passing failure says nothing about the job: it stays ours, never resubmit for it."""
        try:
            return await self._status(job_id)
        except RateLimitedError as exc:
            await asyncio.sleep(exc.retry_after or self.settings.poll_max)
        except JobLostError:
            raise
        except RetryableError:
            pass  # a 5xx, reset, timeout or garbage while polling: poll again later
        return {"id": job_id, "status": UNKNOWN}

    def _first_poll_delay(self) -> float:
        """Just after a typical job is done (mean + mean deviation), so one poll usually finds it finished."""
        if self._typical_seconds is None:
            return self.settings.poll_initial
        aim = self._typical_seconds + self._typical_deviation
        return min(self.settings.poll_max, max(self.settings.poll_initial, aim))

    def _follow_up_delay(self) -> float:
        """Then short, growing intervals: a job that is late is usually only a little late."""
        if self._typical_seconds is None:
            return min(self.settings.poll_max, self.settings.poll_initial * 1.5)
        return min(self.settings.poll_max, max(0.05, self._typical_deviation, 0.1 * self._typical_seconds))

    def _learn(self, seconds: float) -> None:
        """Running mean and mean deviation of the time from submission to completion."""
        typical = self._typical_seconds
        if typical is None:
            self._typical_seconds = seconds
            return
        self._typical_deviation = 0.8 * self._typical_deviation + 0.2 * abs(seconds - typical)
        self._typical_seconds = 0.8 * typical + 0.2 * seconds

    async def _collect(self, job_id: str, body: dict[str, Any]) -> SynthesizedAudio:
        output = body.get("output")
        value = dig(output, self.settings.audio_field) if self.settings.audio_field else output
        if value is None and (output is None or self.settings.mode == "stream"):
            # A generator handler: its audio is on /stream/{id} only (said by mode = "stream", or seen here).
            pieces = await self._read_stream(job_id)
            if pieces:
                self.streamed += 1
                data = await join_stream(pieces, self.settings.audio_field, self._downloads, f"job {job_id}")
                return self._audio(job_id, body, data)
        if value is None:
            where = f"output.{self.settings.audio_field}" if self.settings.audio_field else "output"
            raise BadOutputError(f"job {job_id} COMPLETED without {where}")
        return self._audio(job_id, body, await audio_from_value(value, self._downloads))

    def _audio(self, job_id: str, body: dict[str, Any], data: bytes) -> SynthesizedAudio:
        data, facts = validated_audio(data, f"job {job_id}")
        execution_ms = body.get("executionTime")
        job_facts: dict[str, object] = {"job_id": job_id}
        if isinstance(body.get("delayTime"), int | float):
            job_facts["delay_ms"] = int(body["delayTime"])
        worker = body.get("workerId")
        if isinstance(worker, str):
            job_facts["worker_id"] = worker
        if isinstance(execution_ms, int | float):
            job_facts["execution_ms"] = int(execution_ms)
            billed_ms = execution_ms + self._cold_boot_ms(worker, job_facts.get("delay_ms"))
            job_facts["cost"] = self.settings.cost_per_second * billed_ms / 1000
        return SynthesizedAudio(data, facts, job_facts)

    def _cold_boot_ms(self, worker: object, delay_ms: object) -> float:
        """RunPod bills a worker from its start: the first job seen on a new worker after a long delayTime carries
        that worker's boot (the queue wait in it is counted too: a budget errs on the safe side)."""
        if not isinstance(worker, str) or worker in self._workers_seen:
            return 0.0
        self._workers_seen.add(worker)
        return float(delay_ms) if isinstance(delay_ms, int) and delay_ms >= COLD_START_MS else 0.0


def _cost(settings: RunpodSettings, characters: int, audio_seconds: float) -> float:
    """Paid by the GPU second: seconds of audio x how long a second takes to make x the price of a second."""
    return audio_seconds * settings.realtime_factor * settings.cost_per_second


async def _checks(settings: RunpodSettings, engine: Engine) -> AsyncIterator[Check]:
    if not isinstance(engine, RunpodEngine):  # a pool: its endpoints' health, each drained one named
        health = await engine.health()
        yield Check("endpoints", health is not None, engine.describe())
        return
    yield key_check(settings.api_key_env)
    yield await probe(engine.base_url + "/health", "endpoint", settings.api_key_env)
    health = await engine.health()
    if health is not None:
        problem = health.problem()
        yield Check("workers", problem is None, problem or health.summary())


def _build(settings: RunpodSettings, concurrency: int) -> Engine:
    """One endpoint, or a pool of them when [[runpod.endpoints]] lists any."""
    if settings.endpoints:
        from tui_tts.engines.pool import build_pool

        return build_pool(settings, concurrency)
    return RunpodEngine(settings, concurrency)


SPEC = EngineSpec("runpod", RunpodSettings, _build, cost=_cost, checks=_checks)
