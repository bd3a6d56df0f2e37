"""Whole runs through remote engines: faults on, the real runpod SDK server, and secrets kept out of everything."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.audio_helpers import decode_mono, dominant_frequency
from tui_tts.audio.ffmpeg import Ffmpeg
from tui_tts.emulator import EmulatorConfig, running_emulator
from tui_tts.emulator.server import tone_frequency
from tui_tts.engines.registry import build_engine, load_settings
from tui_tts.events import EventBus, LimitChanged
from tui_tts.run.runner import RunController
from tui_tts.store import Store
from tui_tts.text.loading import load_document

REPO = Path(__file__).resolve().parent.parent
STORY = "\n\n".join(
    f"Paragraph {p}. " + " ".join(f"The rabbit number {p * 10 + s} ran past the old oak tree." for s in range(4))
    for p in range(12)
)


async def test_a_run_with_many_faults_ends_with_every_chunk_once_in_order(tmp_path: Path, ffmpeg: Ffmpeg) -> None:
    faults = EmulatorConfig(
        workers=32, latency=0.05, seconds_per_char=0.02, http_error_rate=0.05, reset_rate=0.05, fail_rate=0.08,
        timeout_rate=0.03, bad_audio_rate=0.05, lost_output_rate=0.05, lose_job_rate=0.03, stuck_rate=0.03,
        progress_updates=True, seed=5,
    )  # fmt: skip
    source = tmp_path / "story.txt"
    source.write_text(STORY, encoding="utf-8")
    async with running_emulator(faults) as (url, emulator):
        settings = load_settings(None, {
            "engine": "runpod", "output": {"format": "wav"},
            "run": {"concurrency": 16, "max_chars": 120, "max_attempts": 12, "retry_base_delay": 0.01},
            "runpod": {"endpoint_url": url, "poll_initial": 0.02, "poll_max": 0.1, "job_deadline": 1.0},
        })  # fmt: skip
        bus = EventBus()
        changes: list[LimitChanged] = []
        bus.subscribe(lambda event: changes.append(event) if isinstance(event, LimitChanged) else None)
        engine = build_engine(settings)
        async with Store(tmp_path / "data" / "tui-tts.db") as store:
            controller = RunController(settings, store, engine, ffmpeg, tmp_path / "data", bus)
            plan = await controller.prepare(source, source.read_bytes(), load_document(source), tmp_path / "out.wav")
            outcome = await controller.execute()
            records = await store.chunks.load(plan.run.id)
        await engine.aclose()
        stats = emulator.stats()
    assert outcome.failed == [] and outcome.output is not None
    assert len(records) == len(plan.chunks) > 20
    assert stats["submitted"] >= len(records)  # faults cost resubmissions ...
    assert stats["completed"] >= len(records)  # ... and every chunk got a completed job
    assert any(change.new < change.old for change in changes)  # the adaptive limit reacted
    # Each chunk's tone has a pitch derived from its text: listen to the middle of every chunk, in order.
    samples = decode_mono(ffmpeg, outcome.output.path, 24_000)
    starts = outcome.output.starts  # where the seam-aware join put each chunk (after its pause)
    for record, position in zip(records, starts, strict=True):
        assert record.facts is not None
        start = int((position + record.facts.duration * 0.3) * 24_000)
        end = int((position + record.facts.duration * 0.7) * 24_000)
        heard = dominant_frequency(samples[start:end], 24_000)
        assert heard == pytest.approx(tone_frequency(record.chunk.text), rel=0.03), record.chunk.index
    speech = sum(record.facts.duration for record in records if record.facts)
    pauses = settings.seams.start + settings.seams.end + settings.seams.chapter * 0  # one section
    assert len(samples) / 24_000 <= speech + pauses + settings.seams.paragraph * len(records)
    assert len(samples) / 24_000 >= speech - 0.1 * len(records)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """A server process whose output goes to a file: an unread pipe fills up and blocks the server."""
    with log.open("wb") as sink:
        return subprocess.Popen(args, stdout=sink, stderr=subprocess.STDOUT, cwd=log.parent,
                                env={**os.environ, **(env or {})})  # fmt: skip


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited early: {log.read_text(errors='replace')[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("server did not start")


@contextlib.contextmanager
def emulator_process(
    directory: Path, *flags: str, env: dict[str, str] | None = None, wait: bool = True
) -> Iterator[str]:
    """`tui-tts emulate` on a free port, its output in directory/emulator.log; yields its endpoint URL. With
    wait=False, it may not listen yet (an emulator whose outage starts at once)."""
    port = free_port()
    log = directory / "emulator.log"
    server = start_server([sys.executable, "-m", "tui_tts", "emulate", "--port", str(port), *flags], log, env)
    try:
        if wait:
            wait_for_port(port, server, log)
        yield f"http://127.0.0.1:{port}/v2/emulator"
    finally:
        server.terminate()
        server.wait(timeout=10)


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui_tts", *args], capture_output=True, text=True, timeout=180,
                          env={**os.environ, **env})  # fmt: skip


@pytest.mark.slow
def test_a_run_through_the_real_runpod_sdk_local_server(tmp_path: Path) -> None:
    pytest.importorskip("runpod", reason="the runpod package is a dev dependency; CI installs it")
    port = free_port()
    handler = tmp_path / "handler.py"
    handler.write_text((REPO / "tests" / "fixtures" / "runpod_handler.py").read_text())
    log = tmp_path / "runpod-server.log"
    server = start_server([sys.executable, str(handler), "--rp_serve_api", "--rp_api_port", str(port),
                           "--rp_api_host", "127.0.0.1", "--rp_log_level", "ERROR"], log)  # fmt: skip
    try:
        wait_for_port(port, server, log)
        source = tmp_path / "story.txt"
        source.write_text(STORY[:900], encoding="utf-8")
        for mode in ("run", "runsync"):
            config = tmp_path / f"{mode}.toml"
            config.write_text(f'engine = "runpod"\n[run]\nconcurrency = 2\nmax_chars = 200\n[runpod]\n'
                              f'endpoint_url = "http://127.0.0.1:{port}"\nmode = "{mode}"\n')  # fmt: skip
            output = tmp_path / f"{mode}.mp3"
            result = run_cli("run", str(source), "-c", str(config), "-o", str(output), "--data-dir",
                             str(tmp_path / mode), env={})  # fmt: skip
            assert result.returncode == 0, result.stderr
            assert output.stat().st_size > 1000
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.slow
def test_the_api_key_appears_nowhere(tmp_path: Path) -> None:
    secret = "rpa_SECRET_" + "7" * 24
    env = {"RUNPOD_API_KEY": secret, "EMULATOR_KEY": secret}
    flags = ("--latency", "0.02", "--api-key-env", "EMULATOR_KEY", "--http-error-rate", "0.1", "--fail-rate", "0.1")
    with emulator_process(tmp_path, *flags, env=env) as url:
        config = tmp_path / "c.toml"
        config.write_text(f'engine = "runpod"\n[runpod]\nendpoint_url = "{url}"\n')
        source = tmp_path / "story.txt"
        source.write_text(STORY[:1500], encoding="utf-8")
        data = tmp_path / "data"
        good = run_cli("run", str(source), "-c", str(config), "--data-dir", str(data), env=env)
        assert good.returncode == 0, good.stderr
        wrong = run_cli("run", str(source), "-c", str(config), "--data-dir", str(data), "--fresh",
                        env={"RUNPOD_API_KEY": secret[::-1]})  # fmt: skip
        assert wrong.returncode == 2 and "refused the API key" in wrong.stderr
        doctor = run_cli("doctor", "-c", str(config), "--data-dir", str(data), env=env)
        # The emulator injects 5xx on every route, /health too: doctor may rightly report the endpoint as bad.
        assert doctor.returncode in (0, 1), doctor.stdout + doctor.stderr
        assert "RUNPOD_API_KEY is set" in doctor.stdout
        everything = good.stdout + good.stderr + wrong.stdout + wrong.stderr + doctor.stdout + doctor.stderr
        for path in data.rglob("*"):
            if path.is_file():
                everything += path.read_bytes().decode("latin-1")
        for needle in (secret, secret[::-1], secret[5:20]):
            assert needle not in everything


async def test_health_route_and_stats() -> None:
    async with running_emulator(EmulatorConfig(latency=0.01, workers=3)) as (url, _), httpx.AsyncClient() as client:
        health = (await client.get(f"{url}/health")).json()
        assert health["workers"] == {"idle": 3, "running": 0, "initializing": 0, "throttled": 0, "unhealthy": 0}
        stats = (await client.get(f"{url}/stats")).json()
        assert stats["requests"]["health"] == 1
