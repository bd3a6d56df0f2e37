"""Measuring a command in a fresh process (wall, CPU, peak RSS), and running the emulator beside it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# Children keep compiled bytecode (outside the tree), as any installed copy does. With PYTHONDONTWRITEBYTECODE set,
# each process would compile every module it imports from source again (about 2 s of CPU for a run).
BYTECODE = Path(tempfile.gettempdir()) / "tui-tts-bench-pycache"
CHILD_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
CHILD_ENV["PYTHONPYCACHEPREFIX"] = str(BYTECODE)
WARM_IMPORTS = ("tui_tts.commands.cli, tui_tts.commands.headless, tui_tts.run.runner, tui_tts.run.session, "
                "tui_tts.engines.runpod, "
                "tui_tts.engines.transport, tui_tts.audio.stitch, tui_tts.audio.pcm_join, tui_tts.audio.decode, "
                "tui_tts.emulator.server, tui_tts.ui.app, aiohttp, httpx, numpy, av, bench.stitch_worker")  # fmt: skip


def warm_bytecode() -> None:
    """Compile what the measured processes import once, before anything is measured."""
    subprocess.run([PYTHON, "-c", f"import {WARM_IMPORTS}"], env=CHILD_ENV, cwd=ROOT, check=True)


@dataclass(frozen=True)
class Measured:
    wall: float
    cpu: float  # user + system seconds of the process and the children it waited for
    peak_rss_mb: float  # the largest resident set of the process or any child it waited for
    returncode: int
    stdout: str
    stderr: str


def measure(command: Sequence[str], timeout: float = 1800, env: dict[str, str] | None = None) -> Measured:
    """Run a command as the only child of a fresh helper, so its CPU and peak RSS are its own."""
    helper = [PYTHON, str(ROOT / "bench" / "isolate.py"), *command]
    try:
        result = subprocess.run(helper, capture_output=True, timeout=timeout, env={**CHILD_ENV, **(env or {})},
                                cwd=ROOT, check=False)  # fmt: skip
    except subprocess.TimeoutExpired:
        return Measured(timeout, float("nan"), float("nan"), -9, "", "timeout")
    stderr = result.stderr.decode(errors="replace").strip().splitlines()
    usage = json.loads(stderr[-1])
    return Measured(usage["wall"], usage["cpu"], usage["peak_rss_mb"], usage["returncode"],
                    result.stdout.decode(errors="replace"), "\n".join(stderr[:-1]))  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def emulator(workers: int, latency: float, *flags: str) -> Iterator[str]:
    """A `tui-tts emulate` process on a free port; yields its endpoint URL."""
    port = free_port()
    log = open(os.devnull, "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen([PYTHON, "-m", "tui_tts", "emulate", "--port", str(port), "--workers", str(workers),
                                "--latency", str(latency), "--jitter", "0", "--seconds-per-char", "0.01", *flags],
                               stdout=log, stderr=log, cwd=ROOT, env=CHILD_ENV)  # fmt: skip
    url = f"http://127.0.0.1:{port}/v2/emulator"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{url}/health", timeout=1).read()
                break
            except OSError:
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def emulator_stats(url: str) -> dict[str, object]:
    return dict(json.loads(urllib.request.urlopen(f"{url}/stats", timeout=5).read()))
