"""`tui-tts doctor`: check ffmpeg, the config, the engine, its key and its endpoint, and say what was found."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import httpx

from tui_tts.audio.ffmpeg import find_ffmpeg
from tui_tts.config import Settings, data_dir_for, default_config_path, load_settings, resolve_config_path
from tui_tts.errors import EXIT_CHUNKS_FAILED, EXIT_OK, UserError
from tui_tts.models import Chunk


class _Report:
    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write
        self.problems = 0

    def line(self, label: str, ok: bool, text: str) -> None:
        if not ok:
            self.problems += 1
        self.write(f"{'ok ' if ok else 'BAD'}  {label:<9} {text}")


async def run_doctor(args: argparse.Namespace, write: Callable[[str], None] = print) -> int:
    report = _Report(write)
    path, _required = resolve_config_path(args.config)
    settings = load_settings(args.config)  # a bad config is a one-line error (exit 2) like everywhere else
    where = f"read {path}" if path else f"no file at {default_config_path()}: built-in defaults"
    report.line("config", True, f"{where}; engine {settings.engine}")
    try:
        ffmpeg = find_ffmpeg(settings.output.ffmpeg)
        report.line("ffmpeg", True, f"{ffmpeg.path} (from {ffmpeg.source}, version {ffmpeg.version})")
    except UserError as exc:
        report.line("ffmpeg", False, exc.message)
    data_dir = data_dir_for(settings, args.data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / f".doctor-{os.getpid()}"
        probe.touch()
        probe.unlink()
        report.line("data dir", True, str(data_dir))
    except OSError as exc:
        report.line("data dir", False, f"{data_dir}: {exc.strerror}")
    await _check_engine(settings, report)
    write("all good" if report.problems == 0 else f"{report.problems} problem(s) found")
    return EXIT_OK if report.problems == 0 else EXIT_CHUNKS_FAILED


async def _check_engine(settings: Settings, report: _Report) -> None:
    from tui_tts.engines.base import EngineError
    from tui_tts.engines.factory import build_engine

    try:
        engine = build_engine(settings)
    except UserError as exc:
        report.line("engine", False, exc.message)
        return
    report.line("engine", True, engine.describe())
    try:
        if settings.engine == "local":
            started = time.monotonic()
            audio = await engine.synthesize(Chunk(0, 0, 0, 0, "Testing, one, two, three."), _NoJobs())
            report.line("speech", True, f"{audio.facts.duration:.1f} s of audio in {time.monotonic() - started:.2f} s")
        elif settings.engine == "runpod":
            key_env = settings.runpod.api_key_env
            report.line("api key", True, f"${key_env} is {'set' if os.environ.get(key_env) else 'not set (local)'}")
            await _probe(report, getattr(engine, "base_url", "") + "/health", "endpoint", _headers(key_env))
        else:
            key_env = settings.openai.api_key_env
            report.line("api key", True, f"${key_env} is {'set' if os.environ.get(key_env) else 'not set (local)'}")
            await _probe(report, getattr(engine, "base_url", "") + "/models", "server", _headers(key_env))
    except EngineError as exc:
        report.line("engine", False, str(exc))
    finally:
        await engine.aclose()


def _headers(key_env: str) -> dict[str, str]:
    key = os.environ.get(key_env, "")
    return {"Authorization": f"Bearer {key}"} if key else {}


async def _probe(report: _Report, url: str, label: str, headers: dict[str, str]) -> None:
    try:
        async with httpx.AsyncClient(timeout=10.0) as client:
            response = await client.get(url, headers=headers)
    except httpx.TransportError as exc:
        report.line(label, False, f"GET {url}: {type(exc).__name__} (is it running? is the URL right?)")
        return
    code = response.status_code
    if code in (401, 403):
        report.line(label, False, f"GET {url}: HTTP {code}: the API key was refused")
    elif code == 404:
        # Many OpenAI-compatible servers have no /models; a RunPod endpoint without /health does not exist.
        report.line(label, "/models" in url, f"GET {url}: HTTP 404 (no such route or endpoint)")
    elif code >= 400:
        report.line(label, False, f"GET {url}: HTTP {code}")
    else:
        report.line(label, True, f"GET {url}: HTTP {code} {response.text[:120]}")


class _NoJobs:
    async def job_submitted(self, chunk: Chunk, job_id: str) -> None:
        return None
