"""The emulator's HTTP server (aiohttp) and its job pool: the cloud's routes under /v2/{endpoint}/."""

from __future__ import annotations

import asyncio
import random
import secrets
import socket
import time
import uuid
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from tui_tts.emulator.config import EmulatorConfig
from tui_tts.emulator.workers import Job, WorkerPool, tone_frequency

__all__ = ["Emulator", "running_emulator", "tone_frequency"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Emulator:
    """A RunPod serverless endpoint in one process: bearer auth, a pool of workers, faults on demand."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.random = random.Random(config.seed)
        self.requests: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()
        self.pool = WorkerPool(config, self.random, self.counts)
        self.jobs = self.pool.jobs
        self.submissions_by_text: Counter[str] = Counter()
        self._recent: deque[float] = deque()
        self._recent_status: deque[float] = deque()
        self.down = False  # inside the outage window: every request is dropped, new connections refused

    @property
    def config(self) -> EmulatorConfig:
        return self.pool.config

    @config.setter
    def config(self, config: EmulatorConfig) -> None:  # tests change faults while it runs
        self.pool.config = config

    # ----- app -----

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._gate], client_max_size=64 * 1024 * 1024)
        prefix = "/v2/{endpoint}"
        app.router.add_post(f"{prefix}/run", self._run)
        app.router.add_post(f"{prefix}/runsync", self._runsync)
        app.router.add_get(f"{prefix}/status/{{job_id}}", self._status)
        app.router.add_get(f"{prefix}/stream/{{job_id}}", self._stream)
        app.router.add_post(f"{prefix}/cancel/{{job_id}}", self._cancel)
        app.router.add_get(f"{prefix}/health", self._health)
        app.router.add_get(f"{prefix}/stats", self._stats)
        app.on_startup.append(self._start_workers)
        app.on_cleanup.append(self._stop_workers)
        return app

    async def _start_workers(self, _app: web.Application) -> None:
        self.pool.start()

    async def _stop_workers(self, _app: web.Application) -> None:
        await self.pool.stop()

    @web.middleware
    async def _gate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Routing checks, auth, and the request-level faults, in the order the cloud would apply them."""
        route = request.path.split("/")[3] if request.path.count("/") >= 3 else request.path
        if self.down:  # a connection opened before the outage: it dies like the rest of the endpoint
            self.counts["refused"] += 1
            return self._drop(request)
        self.requests[route] += 1
        if route == "stats":
            return await handler(request)
        if request.match_info.get("endpoint") != self.config.endpoint_id:
            return web.json_response({"error": "endpoint not found"}, status=404)
        if self.config.api_key is not None:
            given = request.headers.get("Authorization", "")
            if not secrets.compare_digest(given.removeprefix("Bearer "), self.config.api_key):
                self.counts["unauthorized"] += 1
                return web.json_response({"error": "Unauthorized"}, status=401)
        limited = self._over_rate_limit(self._recent, self.config.rate_limit)
        if route == "status" and self._over_rate_limit(self._recent_status, self.config.status_rate_limit):
            limited = True
        if limited:
            self.counts["rate_limited"] += 1
            headers = {"Retry-After": f"{self.config.retry_after:g}"} if self.config.retry_after is not None else {}
            return web.json_response({"error": "rate limit exceeded"}, status=429, headers=headers)
        if self._roll(self.config.reset_rate):
            self.counts["resets"] += 1
            return self._drop(request)
        if self._roll(self.config.http_error_rate):
            self.counts["http_errors"] += 1
            return self._server_error(request)
        return await handler(request)

    def _drop(self, request: web.Request) -> web.StreamResponse:
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError  # aiohttp ends the handler quietly when the peer is gone

    def _server_error(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = {"error": "internal server error"}
        if self.config.echo_errors:  # some proxies and frameworks dump the request they choked on
            headers = sorted(request.headers.items(), key=lambda item: item[0].lower() != "authorization")
            body["request"] = {"headers": dict(headers), "method": request.method, "path": request.path}
        return web.json_response(body, status=500)

    @staticmethod
    def _over_rate_limit(recent: deque[float], limit: float) -> bool:
        if not limit:
            return False
        now = time.monotonic()
        while recent and recent[0] < now - 1.0:
            recent.popleft()
        if len(recent) >= limit:
            return True  # refused requests do not count: `limit` requests are served in any second
        recent.append(now)
        return False

    def _roll(self, probability: float) -> bool:
        return probability > 0 and self.random.random() < probability

    # ----- routes -----

    async def _submit(self, request: web.Request) -> Job | web.Response:
        try:
            payload = await request.json()
        except ValueError:
            return web.json_response({"error": "body is not JSON"}, status=400)
        job_input = payload.get("input") if isinstance(payload, dict) else None
        if not isinstance(job_input, dict):
            return web.json_response({"error": "input must be a JSON object"}, status=400)
        text = str(job_input.get("text", job_input.get("prompt", "")))
        job = Job(str(uuid.uuid4()), text, payload, time.monotonic())
        self.counts["submitted"] += 1
        self.submissions_by_text[text] += 1
        self.pool.submit(job)
        return job

    async def _run(self, request: web.Request) -> web.Response:
        job = await self._submit(request)
        if isinstance(job, web.Response):
            return job
        return web.json_response({"id": job.id, "status": job.status})

    async def _runsync(self, request: web.Request) -> web.Response:
        job = await self._submit(request)
        if isinstance(job, web.Response):
            return job
        try:
            wait_ms = int(request.query.get("wait", "90000"))
        except ValueError:
            wait_ms = -1
        if not 1000 <= wait_ms <= 300_000:
            return web.json_response({"error": "wait is invalid; must be between 1000 and 300000"}, status=400)
        try:
            await asyncio.wait_for(job.done.wait(), wait_ms / 1000)
        except TimeoutError:
            pass  # like the cloud: answer with the job's current, non-terminal status and its id
        return web.json_response(job.body(self.config.progress_updates))

    async def _status(self, request: web.Request) -> web.Response:
        job = self.jobs.get(request.match_info["job_id"])
        if job is None or self.pool.expired(job):
            return web.json_response({"error": "job not found"}, status=404)
        return web.json_response(job.body(self.config.progress_updates))

    async def _stream(self, request: web.Request) -> web.Response:
        job = self.jobs.get(request.match_info["job_id"])
        if job is None or self.pool.expired(job):
            return web.json_response({"error": "job not found"}, status=404)
        return web.json_response(job.stream_body())

    async def _cancel(self, request: web.Request) -> web.Response:
        job = self.jobs.get(request.match_info["job_id"])
        if job is None:
            return web.json_response({"error": "job not found"}, status=404)
        if job.status in {"IN_QUEUE", "IN_PROGRESS"}:
            job.status = "CANCELLED"
            job.finished = time.monotonic()
            job.done.set()
            self.counts["cancelled"] += 1
        return web.json_response({"id": job.id, "status": job.status})

    async def _health(self, _request: web.Request) -> web.Response:
        return web.json_response(self.pool.health())

    async def _stats(self, _request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    def stats(self) -> dict[str, Any]:
        """Counters for tests and benchmarks: requests by route, jobs by fate, executions paid for."""
        repeats = [count - 1 for count in self.submissions_by_text.values() if count > 1]
        return {"requests": dict(self.requests), "total_requests": sum(self.requests.values()), **self.counts,
                "peak_running": self.pool.peak_running, "distinct_texts": len(self.submissions_by_text),
                "repeat_submissions": sum(repeats)}  # fmt: skip


@asynccontextmanager
async def running_emulator(
    config: EmulatorConfig, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[tuple[str, Emulator]]:
    """Serve an emulator in this event loop; yields (endpoint_url, emulator)."""
    emulator = Emulator(config)
    runner = web.AppRunner(emulator.app(), access_log=None, handle_signals=False)
    await runner.setup()
    start, end = config.outage_start or 0.0, config.outage_end
    if end is not None and start <= 0:  # starts late: the port must be known before anything listens on it
        if port == 0:
            port = _free_port(host)
        emulator.down = True
        site = None
    else:
        site = web.TCPSite(runner, host, port)
        await site.start()
        port = runner.addresses[0][1] if runner.addresses else port
    outage = asyncio.create_task(_outage(emulator, runner, site, host, port, start, end)) if end is not None else None
    try:
        yield f"http://{host}:{port}/v2/{config.endpoint_id}", emulator
    finally:
        if outage is not None:
            outage.cancel()
            await asyncio.gather(outage, return_exceptions=True)
        await runner.cleanup()


async def _outage(
    emulator: Emulator, runner: web.AppRunner, site: web.TCPSite | None, host: str, port: int, start: float, end: float
) -> None:
    """Refuse connections from `start` to `end` seconds: the listening socket closes, open connections die."""
    if site is not None:
        await asyncio.sleep(start)
        emulator.down = True
        await site.stop()
    await asyncio.sleep(end - max(start, 0.0))
    emulator.down = False
    await web.TCPSite(runner, host, port).start()


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
