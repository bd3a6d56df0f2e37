"""What the emulator does: its endpoint, its worker pool, its latency, and which faults it injects how often."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields
from typing import Literal


@dataclass(frozen=True)
class EmulatorConfig:
    endpoint_id: str = "emulator"
    api_key: str | None = None
    workers: int = 4
    latency: float = 1.0  # seconds a job runs, plus latency_per_char for each character of its text
    latency_per_char: float = 0.0
    jitter: float = 0.1  # +/- this fraction of the latency
    audio: Literal["tone", "speech"] = "tone"
    seconds_per_char: float = 0.06  # length of the tone audio: about the pace of speech
    sample_rate: int = 24_000
    audio_field: str = "audio_base64"  # dot path inside `output` where the base64 audio goes
    # Faults, each a probability from 0 to 1 per request or per job.
    http_error_rate: float = 0.0  # HTTP 500 on any request
    reset_rate: float = 0.0  # the connection is dropped without an answer
    fail_rate: float = 0.0  # the job ends FAILED
    timeout_rate: float = 0.0  # the job ends TIMED_OUT
    bad_audio_rate: float = 0.0  # COMPLETED, but the audio does not decode
    lost_output_rate: float = 0.0  # COMPLETED without any output
    stuck_rate: float = 0.0  # the job never leaves IN_QUEUE
    truncate_rate: float = 0.0  # COMPLETED with a WAV cut to half its length (its header still says the full size)
    lose_job_rate: float = 0.0  # the job is forgotten: /status answers 404
    rate_limit: float = 0.0  # requests per second above which it answers 429 (0: no limit)
    retry_after: float | None = 1.0  # seconds sent in Retry-After with a 429 (None: no header)
    status_rate_limit: float = 0.0  # /status requests per second above which /status answers 429 (0: no limit)
    echo_errors: bool = False  # error bodies echo the request's headers, Authorization too (a careless server)
    outage_start: float | None = None  # seconds after start when connections start being refused ...
    outage_end: float | None = None  # ... and when they are accepted again (outage_start 0: the endpoint starts late)
    result_ttl: float = 1800.0  # results are deleted this long after completion (then /status is 404)
    progress_updates: bool = False  # IN_PROGRESS answers carry an `output` progress payload
    # The endpoint's state, as /health shows it.
    dormant: bool = False  # max workers 0 (no requests for a week): no worker at all, jobs stay IN_QUEUE for ever
    unhealthy_workers: int = 0  # this many workers crash-loop: they never take a job
    throttled_workers: int = 0  # this many have no GPU available: they never take a job
    sick_after: float = 0.0  # seconds after start when those workers turn unhealthy/throttled (0: from the start)
    cold_start: float = 0.0  # seconds a worker boots before its first job (the job waits IN_QUEUE: delayTime)
    stream: Literal["", "base64", "pcm"] = ""  # a generator handler: audio only on /stream/{id}, in pieces
    stream_pieces: int = 4  # pieces per job when streaming
    # Seconds between accepting a /run job and answering with its id (a slow network): the job runs, and is paid,
    # whether or not the client lives to read the answer.
    answer_delay: float = 0.0
    seed: int | None = None

    @property
    def fault_summary(self) -> str:
        on = [f"{f.name}={getattr(self, f.name)}" for f in fields(self)
              if f.name.endswith("_rate") and f.name != "sample_rate" and getattr(self, f.name)]  # fmt: skip
        if self.rate_limit:
            on.append(f"rate_limit={self.rate_limit}/s")
        if self.status_rate_limit:
            on.append(f"status_rate_limit={self.status_rate_limit}/s")
        if self.echo_errors:
            on.append("echo_errors")
        if self.dormant:
            on.append("dormant (max workers 0)")
        if self.unhealthy_workers or self.throttled_workers:
            on.append(f"{self.unhealthy_workers} unhealthy, {self.throttled_workers} throttled workers"
                      + (f" after {self.sick_after:g} s" if self.sick_after else ""))  # fmt: skip
        if self.cold_start:
            on.append(f"cold start {self.cold_start:g} s")
        if self.stream:
            on.append(f"streaming worker ({self.stream} pieces)")
        if self.outage_end is not None:
            on.append(f"outage={self.outage_start or 0:g}-{self.outage_end:g} s")
        return ", ".join(on) or "no faults"


def add_emulator_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    parser.add_argument("--endpoint", default="emulator", help="endpoint id served under /v2/ID/ (default emulator)")
    parser.add_argument("--api-key-env", metavar="NAME", help="require the key in this environment variable")
    parser.add_argument("--workers", type=int, default=4, help="jobs run at once (default 4)")
    parser.add_argument("--latency", type=float, default=1.0, help="seconds each job takes (default 1.0)")
    parser.add_argument("--latency-per-char", type=float, default=0.0, help="extra seconds per character")
    parser.add_argument("--jitter", type=float, default=0.1, help="latency varies by +/- this fraction (default 0.1)")
    parser.add_argument("--audio", choices=["tone", "speech"], default="tone",
                        help="a cheap tone, or real speech from the local engine")  # fmt: skip
    parser.add_argument("--seconds-per-char", type=float, default=0.06, help="tone length per character")
    parser.add_argument("--audio-field", default="audio_base64", help="dot path of the audio inside output")
    for name in ("http-error", "reset", "fail", "timeout", "bad-audio", "lost-output", "stuck", "lose-job", "truncate"):
        parser.add_argument(f"--{name}-rate", type=float, default=0.0, metavar="P",
                            help=f"probability of the '{name}' fault (0-1)")  # fmt: skip
    parser.add_argument("--rate-limit", type=float, default=0.0, metavar="RPS", help="429 above this request rate")
    parser.add_argument("--retry-after", type=float, default=1.0, help="Retry-After seconds sent with a 429")
    parser.add_argument("--status-rate-limit", type=float, default=0.0, metavar="RPS",
                        help="429 on /status above this request rate")  # fmt: skip
    parser.add_argument("--echo-errors", action="store_true",
                        help="error bodies echo the request's headers (the Authorization header too)")  # fmt: skip
    parser.add_argument("--outage", metavar="T1-T2", type=_outage_window,
                        help="refuse connections from T1 to T2 s after start (0-20: start 20 s late)")  # fmt: skip
    parser.add_argument("--result-ttl", type=float, default=1800.0, help="seconds results are kept after completion")
    parser.add_argument("--progress-updates", action="store_true", help="IN_PROGRESS answers carry an output")
    parser.add_argument("--dormant", action="store_true",
                        help="max workers 0: jobs stay IN_QUEUE for ever (an endpoint idle for a week)")  # fmt: skip
    parser.add_argument("--unhealthy-workers", type=int, default=0, metavar="N", help="N workers crash-loop")
    parser.add_argument("--throttled-workers", type=int, default=0, metavar="N", help="N workers have no GPU")
    parser.add_argument("--sick-after", type=float, default=0.0, metavar="S",
                        help="those workers turn unhealthy/throttled S seconds after start")  # fmt: skip
    parser.add_argument("--cold-start", type=float, default=0.0, metavar="S",
                        help="each worker boots S seconds before its first job (shows in delayTime)")  # fmt: skip
    parser.add_argument(
        "--stream",
        choices=["base64", "pcm"],
        default="",
        help="a streaming worker: audio only on /stream/{id}, as base64 file pieces or PCM pieces",
    )
    parser.add_argument("--stream-pieces", type=int, default=4, help="pieces per streamed job (default 4)")
    parser.add_argument("--answer-delay", type=float, default=0.0, metavar="S",
                        help="answer a /run S seconds after accepting its job (a slow network)")  # fmt: skip
    parser.add_argument("--seed", type=int, help="seed for reproducible faults")


def _outage_window(text: str) -> tuple[float, float]:
    start, sep, end = text.partition("-")
    try:
        window = (float(start), float(end))
    except ValueError:
        window = (0.0, -1.0)
    if not sep or not 0 <= window[0] < window[1]:
        raise argparse.ArgumentTypeError(f"expected T1-T2 in seconds with T1 < T2, got {text!r}")
    return window


def config_from_arguments(args: argparse.Namespace, api_key: str | None) -> EmulatorConfig:
    return EmulatorConfig(
        endpoint_id=args.endpoint, api_key=api_key, workers=args.workers, latency=args.latency,
        latency_per_char=args.latency_per_char, jitter=args.jitter, audio=args.audio,
        seconds_per_char=args.seconds_per_char,
        audio_field=args.audio_field, http_error_rate=args.http_error_rate, reset_rate=args.reset_rate,
        fail_rate=args.fail_rate, timeout_rate=args.timeout_rate, bad_audio_rate=args.bad_audio_rate,
        lost_output_rate=args.lost_output_rate, stuck_rate=args.stuck_rate, lose_job_rate=args.lose_job_rate,
        rate_limit=args.rate_limit, retry_after=args.retry_after, result_ttl=args.result_ttl,
        progress_updates=args.progress_updates, seed=args.seed, truncate_rate=args.truncate_rate,
        answer_delay=args.answer_delay,
        status_rate_limit=args.status_rate_limit, echo_errors=args.echo_errors,
        dormant=args.dormant, unhealthy_workers=args.unhealthy_workers, throttled_workers=args.throttled_workers,
        sick_after=args.sick_after, cold_start=args.cold_start, stream=args.stream, stream_pieces=args.stream_pieces,
        outage_start=args.outage[0] if args.outage else None, outage_end=args.outage[1] if args.outage else None,
    )  # fmt: skip
