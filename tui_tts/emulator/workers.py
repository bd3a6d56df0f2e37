"""The emulator's worker pool: jobs, workers in RunPod's states (cold, initializing, idle, running, throttled,
unhealthy), a dormant endpoint, streaming workers, and the audio and faults each job ends with."""

from __future__ import annotations

import array
import asyncio
import base64
import math
import random
import secrets
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tui_tts.audio.wav import pcm_to_wav
from tui_tts.emulator.config import EmulatorConfig


@dataclass
class Job:
    id: str
    text: str
    payload: dict[str, Any]
    created: float
    status: str = "IN_QUEUE"
    started: float | None = None
    finished: float | None = None
    worker: str | None = None
    output: Any = None
    error: str | None = None
    pieces: list[Any] = field(default_factory=list)  # streamed outputs not yet read from /stream
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def body(self, progress_updates: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "status": self.status}
        if self.started is not None:
            body["delayTime"] = int((self.started - self.created) * 1000)
        if self.finished is not None and self.started is not None:
            body["executionTime"] = int((self.finished - self.started) * 1000)
        if self.worker:
            body["workerId"] = self.worker
        if self.status == "COMPLETED" and self.output is not None:
            body["output"] = self.output
        if self.status == "IN_PROGRESS" and progress_updates:
            body["output"] = "progress;rendering audio"
        if self.error:
            body["error"] = self.error
        return body

    def stream_body(self) -> dict[str, Any]:
        """What /stream/{id} answers: the pieces produced since the last read (each is read once, as in the cloud)."""
        pieces, self.pieces = self.pieces, []
        return {"id": self.id, "status": self.status, "stream": [{"output": piece} for piece in pieces]}


class WorkerPool:
    """The endpoint's workers and queue; every count /health reports is read from their real state."""

    def __init__(self, config: EmulatorConfig, rng: random.Random, counts: Counter[str]) -> None:
        self.config = config
        self.random = rng
        self.counts = counts
        self.jobs: dict[str, Job] = {}
        self.queue: asyncio.Queue[Job] = asyncio.Queue()
        self.running = 0
        self.peak_running = 0
        self.lost: set[str] = set()  # jobs the endpoint "forgot": /status answers 404
        self.states: list[str] = []  # per worker: idle, initializing, running, throttled, unhealthy
        self._warm: list[bool] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._tones: dict[int, bytes] = {}
        self._started = time.monotonic()

    def start(self) -> None:
        self._started = time.monotonic()
        count = 0 if self.config.dormant else self.config.workers
        self.states = ["idle"] * count
        self._warm = [self.config.cold_start <= 0] * count
        self._tasks = [asyncio.create_task(self._worker(n)) for n in range(count)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def submit(self, job: Job) -> None:
        self.jobs[job.id] = job
        if self._roll(self.config.stuck_rate):
            self.counts["stuck"] += 1  # never queued: it stays IN_QUEUE until cancelled
        else:
            self.queue.put_nowait(job)

    def health(self) -> dict[str, Any]:
        jobs = Counter(job.status for job in self.jobs.values())
        workers = Counter(self._state(n) for n in range(len(self.states)))
        return {
            "jobs": {"completed": jobs["COMPLETED"], "failed": jobs["FAILED"] + jobs["TIMED_OUT"],
                     "inProgress": jobs["IN_PROGRESS"], "inQueue": jobs["IN_QUEUE"], "retried": 0},
            "workers": {state: workers[state]
                        for state in ("idle", "running", "initializing", "throttled", "unhealthy")},
        }  # fmt: skip

    def expired(self, job: Job) -> bool:
        if job.id in self.lost:
            return True
        return job.finished is not None and time.monotonic() - job.finished > self.config.result_ttl

    # ----- workers -----

    def _blocked(self, number: int) -> str | None:
        """'unhealthy' or 'throttled' when this worker cannot take jobs now (the first workers are the sick ones)."""
        config = self.config
        if time.monotonic() - self._started < config.sick_after:
            return None
        if number < config.unhealthy_workers:
            return "unhealthy"
        if number < config.unhealthy_workers + config.throttled_workers:
            return "throttled"
        return None

    def _state(self, number: int) -> str:
        state = self.states[number]
        return state if state in {"running", "initializing"} else (self._blocked(number) or state)

    async def _worker(self, number: int) -> None:
        while True:
            if self._blocked(number):  # crash-looping or without a GPU: it never takes a job
                await asyncio.sleep(0.05)
                continue
            job = await self.queue.get()
            if job.status != "IN_QUEUE":
                continue  # cancelled while queued
            if self._blocked(number):
                self.queue.put_nowait(job)
                continue
            if not self._warm[number]:  # a cold start: the job waits in the queue while the worker boots
                self.states[number] = "initializing"
                await asyncio.sleep(self.config.cold_start)
                self._warm[number] = True
                if job.status != "IN_QUEUE":
                    self.states[number] = "idle"
                    continue
            self.states[number] = "running"
            try:
                await self._execute(job, f"emu-worker-{number}")
            finally:
                self.states[number] = "idle"

    async def _execute(self, job: Job, worker: str) -> None:
        job.status, job.started, job.worker = "IN_PROGRESS", time.monotonic(), worker
        self.counts["executed"] += 1  # what a real endpoint bills for
        self.running += 1
        self.peak_running = max(self.peak_running, self.running)
        try:
            seconds = self.config.latency + self.config.latency_per_char * len(job.text)
            seconds = max(0.0, seconds * (1 + self.random.uniform(-1, 1) * self.config.jitter))
            if self.config.stream:
                await self._stream(job, seconds)
                return
            await asyncio.sleep(seconds)
            if job.status == "CANCELLED":
                return
            self._finish(job, await self._outcome(job))
        finally:
            self.running -= 1

    async def _stream(self, job: Job, seconds: float) -> None:
        """A generator handler: the audio goes out in pieces on /stream while the job runs; /status gets no output."""
        status, output, error = await self._outcome(job)
        pieces = self._pieces(output) if status == "COMPLETED" and output is not None else []
        for piece in pieces or [None]:
            await asyncio.sleep(seconds / max(1, len(pieces)))
            if job.status == "CANCELLED":
                return
            if piece is not None:
                job.pieces.append(piece)
        self._finish(job, (status, None, error))

    def _pieces(self, output: dict[str, Any]) -> list[Any]:
        data = base64.b64decode(output["_audio"])
        count = max(1, self.config.stream_pieces)
        if self.config.stream == "pcm":  # raw samples, the rate declared in each piece
            pcm = data[44:]
            step = max(2, math.ceil(len(pcm) / count / 2) * 2)
            return [self._wrap(pcm[at : at + step], {"sample_rate": self.config.sample_rate, "format": "pcm_s16le"})
                    for at in range(0, len(pcm), step)]  # fmt: skip
        step = max(1, math.ceil(len(data) / count))  # pieces of the one audio file, each base64 on its own
        return [self._wrap(data[at : at + step], {}) for at in range(0, len(data), step)]

    def _wrap(self, data: bytes, extra: dict[str, Any]) -> dict[str, Any]:
        """An output object with the audio at the configured dot path (audio_field)."""
        output: dict[str, Any] = {}
        cursor = output
        parts = [p for p in self.config.audio_field.split(".") if p] or ["audio_base64"]
        for part in parts[:-1]:
            cursor = cursor.setdefault(part, {})
        cursor[parts[-1]] = base64.b64encode(data).decode()
        output.update(extra)
        return output

    async def _outcome(self, job: Job) -> tuple[str, Any, str | None]:
        config = self.config
        if self._roll(config.fail_rate):
            return "FAILED", None, "handler raised: CUDA error: an illegal memory access was encountered"
        if self._roll(config.timeout_rate):
            return "TIMED_OUT", None, None
        if self._roll(config.lost_output_rate):
            return "COMPLETED", None, None
        if self._roll(config.lose_job_rate):
            self.lost.add(job.id)
        if self._roll(config.bad_audio_rate):
            data = secrets.token_bytes(2048)
        else:
            data = await self._audio(job.text)
            if self._roll(config.truncate_rate):
                self.counts["truncated"] += 1
                data = data[: 44 + (len(data) - 44) // 4 * 2]  # half the samples; the header still says all
        if config.stream:
            return "COMPLETED", {"_audio": base64.b64encode(data).decode()}, None
        output = self._wrap(data, {})
        output.setdefault("format", "wav")
        return "COMPLETED", output, None

    def _roll(self, probability: float) -> bool:
        return probability > 0 and self.random.random() < probability

    def _finish(self, job: Job, outcome: tuple[str, Any, str | None]) -> None:
        job.status, job.output, job.error = outcome
        job.finished = time.monotonic()
        self.counts[job.status.lower()] += 1
        job.done.set()

    async def _audio(self, text: str) -> bytes:
        if self.config.audio == "speech":
            from tui_tts.engines.local import EspeakLibrary, LocalSettings

            library = EspeakLibrary.shared()
            settings = LocalSettings()
            pcm = await asyncio.to_thread(library.synthesize, text or " ", settings.voice, settings.rate)
            return pcm_to_wav(pcm, library.sample_rate)
        samples = max(1, int(max(1, len(text)) * self.config.seconds_per_char * self.config.sample_rate))
        tone = self._tone(tone_frequency(text))
        repeats = math.ceil(samples * 2 / len(tone))
        return pcm_to_wav((tone * repeats)[: samples * 2], self.config.sample_rate)

    def _tone(self, frequency: int) -> bytes:
        """One second of a sine (whole cycles, so it repeats seamlessly), cached per frequency."""
        cached = self._tones.get(frequency)
        if cached is None:
            rate = self.config.sample_rate
            wave = array.array("h", (int(6000 * math.sin(2 * math.pi * frequency * n / rate)) for n in range(rate)))
            cached = self._tones[frequency] = wave.tobytes()
        return cached


def tone_frequency(text: str) -> int:
    """The tone's pitch follows from the text, so a test can tell the chunks apart in the stitched output."""
    return 300 + 50 * (zlib.crc32(text.encode("utf-8")) % 16)
