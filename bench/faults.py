"""A short fault campaign against `tui-tts emulate`: submissions per chunk, chunks paid twice per kill -9, outages.

Run alone with `uv run python bench/faults.py [--quick]`, or as a section of bench/run.py.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, ROOT, emulator_stats, free_port

FAULTS = ("--http-error-rate", "0.05", "--reset-rate", "0.02", "--fail-rate", "0.05", "--bad-audio-rate", "0.03",
          "--lost-output-rate", "0.02")  # fmt: skip


def book(chunks: int) -> str:
    return " ".join(f"Sentence number {n:06d} is here for the campaign." for n in range(chunks))


@contextmanager
def fault_emulator(workers: int, latency: float, *flags: str) -> Iterator[str]:
    """An emulator process; its URL is read from its first stdout line (it may not listen yet: outage tests)."""
    port = free_port()
    process = subprocess.Popen([PYTHON, "-m", "tui_tts", "emulate", "--port", str(port), "--workers", str(workers),
                                "--latency", str(latency), "--seconds-per-char", "0.01", "--seed", "12", *flags],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT, text=True)  # fmt: skip
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def stats_when_up(url: str) -> dict[str, object]:
    for _ in range(100):
        try:
            return emulator_stats(url)
        except OSError:
            time.sleep(0.2)
    return emulator_stats(url)


def write_config(folder: Path, url: str, mode: str = "run", concurrency: int = 16) -> Path:
    config = folder / "c.toml"
    config.write_text(f'engine = "runpod"\n[run]\nconcurrency = {concurrency}\nmax_chars = 60\nmax_attempts = 5\n'
                      f'[runpod]\nendpoint_url = "{url}"\nmode = "{mode}"\n'
                      "poll_initial = 0.1\npoll_max = 1.0\n")  # fmt: skip
    return config


def tui_tts(folder: Path, config: Path) -> list[str]:
    return [PYTHON, "-m", "tui_tts", "run", str(folder / "book.txt"), "-c", str(config), "--data-dir",
            str(folder / "data"), "--format", "wav", "--headless", "--no-seams"]  # fmt: skip


def submissions_under_faults(chunks: int) -> dict[str, object]:
    """The issue's fault mix: how many paid submissions per chunk it costs."""
    with tempfile.TemporaryDirectory(prefix="tui-tts-faults-") as name, fault_emulator(32, 0.1, *FAULTS) as url:
        folder = Path(name)
        (folder / "book.txt").write_text(book(chunks), encoding="utf-8")
        result = subprocess.run(tui_tts(folder, write_config(folder, url)), capture_output=True, text=True,
                                cwd=ROOT, timeout=1800)  # fmt: skip
        stats = emulator_stats(url)
    return {"case": f"faults, {chunks} chunks", "exit": result.returncode, "chunks": chunks,
            "submissions_per_chunk": int(stats["submitted"]) / chunks,  # type: ignore[call-overload]
            "stderr_lines": len(result.stderr.splitlines()),
            "limit_lines": sum("limit " in line for line in result.stderr.splitlines())}  # fmt: skip


def paid_twice_per_kill(chunks: int, kills: int, *flags: str, seed: int = 1) -> dict[str, object]:
    """kill -9 mid-run (jobs in flight) `kills` times, then run to the end: chunks the endpoint ran twice, per kill."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="tui-tts-kills-") as name, fault_emulator(16, 0.4, *flags) as url:
        folder = Path(name)
        (folder / "book.txt").write_text(book(chunks), encoding="utf-8")
        command = tui_tts(folder, write_config(folder, url))
        for _ in range(kills):
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
            time.sleep(rng.uniform(1.5, 3.0))  # start-up takes about a second; then jobs are always in flight
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        final = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=1800)
        stats = emulator_stats(url)
    repeats = int(stats["repeat_submissions"])  # type: ignore[call-overload]
    label = f"{kills} x kill -9, {chunks} chunks" + (f" ({' '.join(flags)})" if flags else "")
    return {"case": label, "exit": final.returncode, "chunks": chunks,
            "submissions_per_chunk": int(stats["submitted"]) / chunks,  # type: ignore[call-overload]
            "paid_twice": repeats, "paid_twice_per_kill": repeats / kills}  # fmt: skip


def outage(chunks: int, window: str, mode: str) -> dict[str, object]:
    """The endpoint refuses connections during `window` (T1-T2 s after it starts): does the book still finish?"""
    with tempfile.TemporaryDirectory(prefix="tui-tts-outage-") as name, \
            fault_emulator(16, 0.2, "--outage", window) as url:  # fmt: skip
        folder = Path(name)
        (folder / "book.txt").write_text(book(chunks), encoding="utf-8")
        started = time.monotonic()
        result = subprocess.run(tui_tts(folder, write_config(folder, url, mode)), capture_output=True, text=True,
                                cwd=ROOT, timeout=1800)  # fmt: skip
        wall = time.monotonic() - started
        stats = stats_when_up(url)
        show = [PYTHON, "-m", "tui_tts", "show", "last", "--json", "--data-dir", str(folder / "data")]
        shown = json.loads(subprocess.run(show, capture_output=True, text=True, cwd=ROOT).stdout)
    said = [line for line in result.stderr.splitlines() if "unreachable" in line]
    return {"case": f"outage {window} s, {mode}", "exit": result.returncode, "chunks": chunks,
            "failed": shown["failed"], "wall": wall, "outage_lines": len(said),
            "submissions_per_chunk": int(stats["submitted"]) / chunks}  # type: ignore[call-overload]  # fmt: skip


def run(quick: bool) -> list[dict[str, object]]:
    if quick:
        # runsync outages and longer campaigns are in the full run (and in tests/test_fault_handling.py)
        return [submissions_under_faults(40), paid_twice_per_kill(60, 1), outage(30, "0-3", "run")]
    return [submissions_under_faults(400), paid_twice_per_kill(400, 7),
            paid_twice_per_kill(200, 3, "--status-rate-limit", "10", "--retry-after", "1"),
            outage(187, "0-20", "run"), outage(187, "4-24", "runsync")]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    rows = run(parser.parse_args().quick)
    for row in rows:
        print(json.dumps({key: round(value, 3) if isinstance(value, float) else value for key, value in row.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
