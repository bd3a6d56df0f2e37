"""Dashboard overhead: the same run headless and in the TUI (in a pseudo-terminal), and key-to-screen latency."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import tempfile
import termios
import time
from pathlib import Path

from bench.common import PYTHON, ROOT, emulator, measure
from bench.orchestration import book


def _read(master: int, timeout: float) -> bytes:
    ready, _, _ = select.select([master], [], [], timeout)
    if not ready:
        return b""
    try:
        return os.read(master, 65536)
    except OSError:
        return b""


def run_in_terminal(command: list[str], key_presses: int) -> tuple[dict[str, float], list[float]]:
    """Run the dashboard in a pty; toggle `p` and time how long until the screen shows the new mode."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen([PYTHON, str(ROOT / "bench" / "isolate.py"), *command], stdin=slave, stdout=slave,
                               stderr=slave, cwd=ROOT, env={**os.environ, "TERM": "xterm-256color"})  # fmt: skip
    os.close(slave)
    seen = b""
    latencies: list[float] = []

    def wait_for(marker: bytes, seconds: float) -> bool:
        nonlocal seen
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            chunk = _read(master, 0.005)
            seen = (seen + chunk)[-200_000:]
            if marker in seen:
                return True
        return False

    wait_for(b"PARALLEL x64", 60)
    for press in range(key_presses):
        marker = b"SEQUENTIAL" if press % 2 == 0 else b"PARALLEL x64"
        seen = b""
        os.write(master, b"p")
        started = time.monotonic()
        if wait_for(marker, 5):
            latencies.append(time.monotonic() - started)
        time.sleep(0.2)
    if key_presses % 2:
        os.write(master, b"p")  # end in parallel, like the headless run
    seen = b""
    wait_for(b"Finished", 900)  # the notification shown once the output is written
    time.sleep(0.3)
    os.write(master, b"q")
    tail = b""
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        tail = (tail + _read(master, 0.05))[-20_000:]
    tail += _read(master, 0.2)
    os.close(master)
    found = re.findall(rb'\{"wall".*?\}', tail)
    usage = json.loads(found[-1]) if found else {"wall": float("nan"), "cpu": float("nan"), "peak_rss_mb": 0.0}
    return usage, latencies


def run(quick: bool) -> dict[str, object]:
    chunks = 300 if quick else 10_000
    presses = 6 if quick else 40
    latency = 0.05 if quick else 0.3
    results: dict[str, object] = {"chunks": chunks}
    with tempfile.TemporaryDirectory(prefix="tui-tts-bench-tui-") as folder_name:
        folder = Path(folder_name)
        source = folder / "book.txt"
        source.write_text(book(chunks), encoding="utf-8")
        for kind in ("headless", "tui"):
            with emulator(64, latency) as url:
                config = folder / f"{kind}.toml"
                config.write_text(f'engine = "runpod"\n[run]\nconcurrency = 64\nmax_chars = 60\n[runpod]\n'
                                  f'endpoint_url = "{url}"\npoll_initial = {latency}\n')  # fmt: skip
                command = [PYTHON, "-m", "tui_tts", "run", str(source), "-c", str(config), "--data-dir",
                           str(folder / kind), "--format", "wav"]  # fmt: skip
                if kind == "headless":
                    result = measure([*command, "--headless"])
                    results["headless"] = {"wall": result.wall, "cpu": result.cpu, "peak_rss_mb": result.peak_rss_mb}
                else:
                    usage, latencies = run_in_terminal(command, presses)
                    results["tui"] = usage
                    ordered = sorted(latencies)
                    results["key_to_screen_ms"] = {
                        "presses": presses, "seen": len(ordered),
                        "p50": 1000 * ordered[len(ordered) // 2] if ordered else None,
                        "p95": 1000 * ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else None,
                    }  # fmt: skip
    headless, tui = results["headless"], results["tui"]
    results["tui_cpu_vs_headless"] = tui["cpu"] / headless["cpu"]  # type: ignore[index]
    return results
