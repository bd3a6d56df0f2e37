"""Faults from the campaign of issue 12, each against the project's emulator: echoed keys, outages, resumes, stalls."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_remote_runs import STORY, emulator_process, free_port, run_cli
from tests.waiting import eventually


@pytest.mark.slow
def test_a_key_echoed_by_the_server_is_redacted_everywhere(tmp_path: Path) -> None:
    secret = "rpa_ECHOED_" + "k3y" * 10
    env = {"RUNPOD_API_KEY": secret, "EMULATOR_KEY": secret}
    flags = ("--latency", "0.02", "--api-key-env", "EMULATOR_KEY", "--http-error-rate", "0.7", "--echo-errors")
    with emulator_process(tmp_path, *flags, "--seed", "3", env=env) as url:
        config = tmp_path / "c.toml"
        config.write_text(f'engine = "runpod"\n[run]\nmax_attempts = 2\nretry_base_delay = 0.01\nmax_chars = 200\n'
                          f'[runpod]\nendpoint_url = "{url}"\npoll_initial = 0.02\n'
                          f'poll_max = 0.05\n')  # fmt: skip
        source = tmp_path / "story.txt"
        source.write_text(STORY[:1500], encoding="utf-8")
        data = tmp_path / "data"
        run = run_cli("run", str(source), "-c", str(config), "--data-dir", str(data), env=env)
        show = run_cli("show", "last", "--json", "--data-dir", str(data), env=env)
    assert "HTTP 500" in run.stderr  # the echoing errors happened and were reported ...
    assert "[redacted]" in run.stderr + show.stdout  # ... with the key cut out
    report = json.loads(show.stdout)
    assert report["failures"], "some chunk should have failed for good with the echoed body as its error"
    everything = run.stdout + run.stderr + show.stdout + show.stderr
    for path in data.rglob("*"):
        if path.is_file():
            everything += path.read_bytes().decode("latin-1")
    forms = (secret, base64.b64encode(secret.encode()).decode(), base64.b64encode(f"Bearer {secret}".encode()).decode())
    for needle in (*forms, secret[:16], secret[-16:]):
        assert needle not in everything, needle


def test_redaction_finds_the_key_in_base64_at_any_alignment() -> None:
    from tui_tts.engines.base import RetryableError
    from tui_tts.engines.redaction import register_secret

    secret = "sk-alignment-" + "x9" * 12
    register_secret(secret)
    for prefix in ("", "a", "ab", "Authorization: Bearer "):
        encoded = base64.b64encode(f"{prefix}{secret} and more".encode()).decode()
        message = str(RetryableError(f"HTTP 500 {encoded}"))
        assert secret not in message and "[redacted]" in message, prefix


def outage_run(tmp_path: Path, outage: str, mode: str = "run", patience: float = 1800.0, chars: int = 1500,
               latency: float = 0.05) -> tuple[subprocess.CompletedProcess[str], dict[str, object]]:  # fmt: skip
    """A run against an emulator that refuses connections during `outage` (T1-T2 seconds after it starts)."""
    flags = ("--latency", str(latency), "--outage", outage, "--workers", "8")
    with emulator_process(tmp_path, *flags, wait=False) as url:  # an outage at 0 s: nothing listens
        config = tmp_path / "c.toml"
        config.write_text(f'engine = "runpod"\n[run]\nmax_attempts = 3\nretry_base_delay = 0.05\nmax_chars = 100\n'
                          f'outage_patience = {patience}\n[runpod]\nmode = "{mode}"\n'
                          f'endpoint_url = "{url}"\npoll_initial = 0.05\n'
                          f'poll_max = 0.2\n')  # fmt: skip
        source = tmp_path / "story.txt"
        source.write_text(STORY[:chars], encoding="utf-8")
        data = tmp_path / "data"
        run = run_cli("run", str(source), "-c", str(config), "--data-dir", str(data), "--format", "wav", env={})
        show = run_cli("show", "last", "--json", "--data-dir", str(data), env={})
    return run, json.loads(show.stdout)


@pytest.mark.slow
def test_an_endpoint_that_starts_late_does_not_fail_the_book(tmp_path: Path) -> None:
    run, report = outage_run(tmp_path, "0-5")
    assert run.returncode == 0, run.stderr
    assert report["state"] == "done" and report["failed"] == 0
    assert "endpoint unreachable since" in run.stderr and "retrying in" in run.stderr


@pytest.mark.slow
def test_an_outage_mid_run_in_runsync_mode_does_not_fail_chunks(tmp_path: Path) -> None:
    # About 4 s of work (30 chunks, 4 at a time, 0.5 s each) overlaps the outage whenever the CLI starts before 6 s.
    run, report = outage_run(tmp_path, "2-6", mode="runsync", chars=2500, latency=0.5)
    assert run.returncode == 0, run.stderr
    assert report["state"] == "done" and report["failed"] == 0
    assert "endpoint unreachable since" in run.stderr


@pytest.mark.slow
def test_an_outage_longer_than_the_patience_stops_the_run_cleanly(tmp_path: Path) -> None:
    run, report = outage_run(tmp_path, "0-120", patience=3.0)
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    assert "outage_patience" in run.stderr.splitlines()[-1]
    assert report["state"] == "stopped" and report["failed"] == 0  # nothing failed for good: resume picks it up


KILL_AFTER_JOB_ANSWER = """
import asyncio, os, signal, sys
from pathlib import Path
from tui_tts.engines.registry import build_engine, load_settings
from tui_tts.run.runner import RunController
from tui_tts.store import Store
from tui_tts.text.loading import load_document

async def main(source: Path, data: Path, phase: str) -> None:
    settings = load_settings(None, {"engine": "local"})
    async with Store(data / "tui-tts.db") as store:
        controller = RunController(settings, store, build_engine(settings), None, data)
        plan = await controller.prepare(source, source.read_bytes(), load_document(source), data / "out.wav")
        if phase == "resume":
            print(",".join(f"{index}={job}" for index, job in sorted(plan.resume_jobs.items())))
            return
        controller.chunk_dir.mkdir(parents=True, exist_ok=True)
        # A burst of /run answers, each handed over the moment it is parsed; then kill -9 at the first chance.
        for chunk in plan.chunks[:5]:
            asyncio.get_running_loop().create_task(controller.job_submitted(chunk, f"job-{chunk.index}"))
        await asyncio.sleep(0)
        os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]))
"""


@pytest.mark.slow
def test_a_job_id_survives_a_kill_right_after_its_answer(tmp_path: Path) -> None:
    """Issue 12 item 8: nothing runs between a /run answer and the write that lets a restart re-attach to it."""
    source = tmp_path / "story.txt"
    source.write_text(STORY[:1500], encoding="utf-8")
    script = tmp_path / "kill_after_answer.py"
    script.write_text(KILL_AFTER_JOB_ANSWER)
    data = tmp_path / "data"
    killed = subprocess.run([sys.executable, str(script), str(source), str(data), "submit"], capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert killed.returncode == -9, killed.stderr
    resumed = subprocess.run([sys.executable, str(script), str(source), str(data), "resume"], capture_output=True,
                             text=True, timeout=60)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.strip() == ",".join(f"{n}=job-{n}" for n in range(5))


async def test_a_stalled_run_says_why_at_every_interval() -> None:
    """Issue 12 item 7: with nothing progressing, the run names what it waits on (here a job stuck in the queue)."""
    from tui_tts.emulator import EmulatorConfig, running_emulator
    from tui_tts.engines.breaker import EndpointBreaker
    from tui_tts.engines.runpod import RunpodEngine, RunpodSettings
    from tui_tts.events import EventBus, LogEmitted
    from tui_tts.models import Chunk
    from tui_tts.run.stall import StallWatch

    class Ids:
        async def job_submitted(self, chunk: Chunk, job_id: str) -> None:
            pass

    bus = EventBus()
    said: list[str] = []
    bus.subscribe(lambda event: said.append(event.message) if isinstance(event, LogEmitted) else None)
    async with running_emulator(EmulatorConfig(stuck_rate=1.0, latency=0.01)) as (url, _emulator):
        engine = RunpodEngine(RunpodSettings(endpoint_url=url, poll_initial=0.05, poll_max=0.1), concurrency=2)
        watch = StallWatch(bus, EndpointBreaker(60), engine.waiting_summary, lambda: "", interval=0.4, tick=0.05)
        job = asyncio.create_task(engine.synthesize(Chunk(0, 0, 0, 1, "Stuck."), Ids()))
        watcher = asyncio.create_task(watch.run(lambda reason: None))

        def stalls() -> list[str]:
            return [line for line in said if line.startswith("no progress for")]

        # A line per 0.4 s without progress; the second one knows the job is queued on the endpoint.
        await eventually(lambda: len(stalls()) >= 2 and "queued for" in stalls()[-1], seconds=10)
        job.cancel()
        watcher.cancel()
        await asyncio.gather(job, watcher, return_exceptions=True)
        await engine.aclose()
    assert "job " in stalls()[-1]


async def test_the_breaker_opens_on_an_outage_probes_once_and_stops_past_its_patience() -> None:
    from tui_tts.engines.breaker import OPEN_AFTER, EndpointBreaker
    from tui_tts.events import EventBus, LogEmitted
    from tui_tts.run.stall import StallWatch

    now = [100.0]
    breaker = EndpointBreaker(30.0, clock=lambda: now[0])
    bus = EventBus()
    said: list[str] = []
    bus.subscribe(lambda event: said.append(event.message) if isinstance(event, LogEmitted) else None)
    watch = StallWatch(bus, breaker, None, lambda: "", interval=1000, tick=0.01, clock=lambda: now[0])
    for _ in range(OPEN_AFTER - 1):
        breaker.record_unanswered()
    breaker.record_answered()  # an answer in between: sporadic errors are no outage
    for _ in range(OPEN_AFTER - 1):
        breaker.record_unanswered()
    assert not breaker.is_open and breaker.dispatch_hold() == 0
    breaker.record_unanswered()
    assert breaker.is_open and "endpoint unreachable since" in said[-1] and "retrying in" in said[-1]
    assert breaker.dispatch_hold() > 0  # paused
    now[0] += 5
    assert breaker.dispatch_hold() == 0  # the one probe ...
    assert breaker.dispatch_hold() > 0  # ... and only one
    breaker.record_unanswered()  # the probe failed: a longer wait
    now[0] += 1
    assert breaker.dispatch_hold() > 1
    stopped: list[str] = []
    now[0] += 30
    await watch.run(stopped.append)
    assert stopped and "run.outage_patience" in stopped[0]
    breaker.record_answered()
    assert not breaker.is_open and "reachable again" in said[-1]


async def test_the_emulator_outage_window_refuses_then_serves() -> None:
    import httpx

    from tui_tts.emulator import EmulatorConfig, running_emulator

    config = EmulatorConfig(latency=0.01, outage_start=0.3, outage_end=0.9)
    async with running_emulator(config) as (url, emulator), httpx.AsyncClient() as client:
        assert (await client.get(f"{url}/health")).status_code == 200
        await asyncio.sleep(0.5)
        with pytest.raises(httpx.TransportError):
            await client.get(f"{url}/health")
        async with httpx.AsyncClient() as fresh:  # a new connection is refused, not just the pooled one
            with pytest.raises(httpx.ConnectError):
                await fresh.get(f"{url}/health")
        await asyncio.sleep(0.6)
        assert (await client.get(f"{url}/health")).status_code == 200
        assert not emulator.down


def test_the_emulator_outage_flag_is_checked() -> None:
    result = run_cli("emulate", "--outage", "20-5", env={})
    assert result.returncode == 2 and "T1-T2" in result.stderr


async def test_the_openai_engine_reports_an_unreachable_server_to_the_breaker() -> None:
    from tui_tts.engines.base import RetryableError
    from tui_tts.engines.breaker import EndpointBreaker
    from tui_tts.engines.openai import OpenAIEngine, OpenAISettings
    from tui_tts.models import Chunk

    engine = OpenAIEngine(OpenAISettings(base_url=f"http://127.0.0.1:{free_port()}/v1"), concurrency=2)
    engine.breaker = breaker = EndpointBreaker(60)
    try:
        for _ in range(4):
            with pytest.raises(RetryableError) as caught:
                await engine.synthesize(Chunk(0, 0, 0, 1, "Hello."), None)  # type: ignore[arg-type]
            assert caught.value.unreachable
    finally:
        await engine.aclose()
    assert breaker.is_open
