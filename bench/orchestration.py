"""Orchestration against `tui-tts emulate`: makespan against the ideal, CPU, requests and commits per chunk."""

from __future__ import annotations

import json
import math
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.common import PYTHON, ROOT, Measured, emulator, emulator_stats, measure


@dataclass(frozen=True)
class Case:
    chunks: int
    concurrency: int  # 1 = sequential
    workers: int
    latency: float
    mode: str = "run"
    faults: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        how = "sequential" if self.concurrency == 1 else f"C={self.concurrency}"
        return f"N={self.chunks} {how} W={self.workers} L={self.latency:g}s {self.mode}" + (" faults" if self.faults
                                                                                           else "")  # fmt: skip


FAULTS = ("--fail-rate", "0.02", "--http-error-rate", "0.01", "--reset-rate", "0.01", "--lost-output-rate", "0.01")


def book(chunks: int) -> str:
    """One sentence per chunk (each is about 50 characters, and max_chars is 60)."""
    return " ".join(f"Sentence number {n:06d} is here for the benchmark." for n in range(chunks))


def run_case(case: Case) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="tui-tts-bench-run-") as folder_name:
        folder = Path(folder_name)
        source = folder / "book.txt"
        source.write_text(book(case.chunks), encoding="utf-8")
        with emulator(case.workers, case.latency, *case.faults) as url:
            config = folder / "c.toml"
            config.write_text(
                f'engine = "runpod"\n[run]\nconcurrency = {case.concurrency}\n'
                f"parallel = {str(case.concurrency > 1).lower()}\nmax_chars = 60\nmax_attempts = 10\n[runpod]\n"
                f'endpoint_url = "{url}"\nmode = "{case.mode}"\n'
                f"runsync_wait_ms = 60000\npoll_initial = {min(0.25, case.latency)}\n"
            )
            data = folder / "data"
            result = measure([PYTHON, "-m", "tui_tts", "run", str(source), "-c", str(config), "--data-dir", str(data),
                              "--format", "wav", "--headless", "--no-seams"])  # fmt: skip
            # --no-seams: this measures the orchestrator; bench/stitching measures the seam-aware join
            if result.returncode != 0:
                raise RuntimeError(f"{case.label}: the run failed: {result.stderr[-800:]}")
            stats = emulator_stats(url)
            floor = _floor(url, case, folder) if case.concurrency > 1 and not case.faults else None
        shown = json.loads(subprocess.run([PYTHON, "-m", "tui_tts", "show", "last", "--json", "--data-dir", str(data)],
                                          capture_output=True, text=True, check=True, cwd=ROOT).stdout)  # fmt: skip
    requests = int(stats["total_requests"]) - int(dict(stats["requests"]).get("stats", 0))  # type: ignore[arg-type]
    ideal = math.ceil(case.chunks / min(case.concurrency, case.workers)) * case.latency
    makespan = float(shown["synthesis_wall_seconds"])
    execution = shown["last_execution"]
    return {
        "case": case.label, "chunks": case.chunks, "makespan": makespan, "ideal": ideal,
        "makespan_vs_ideal": makespan / ideal, "wall": result.wall, "cpu": result.cpu,
        "cpu_s_per_1000": 1000 * result.cpu / case.chunks, "peak_rss_mb": result.peak_rss_mb,
        "requests_per_chunk": requests / case.chunks, "submissions_per_chunk": int(stats["submitted"]) / case.chunks,
        "commits_per_chunk": int(execution["commits"]) / case.chunks, "mode": case.mode, "faults": bool(case.faults),
        "floor_cpu_s_per_1000": 1000 * floor.cpu / case.chunks if floor else None,
        "vs_floor": result.cpu / floor.cpu if floor else None,
    }  # fmt: skip


def _floor(url: str, case: Case, folder: Path) -> Measured:
    """bench/floor.py, a minimal aiohttp client, on the same emulator and the same sentences: the CPU floor."""
    lines = folder / "lines.txt"
    lines.write_text("\n".join(book(case.chunks).replace(". ", ".\n").splitlines()), encoding="utf-8")
    floor = measure([PYTHON, str(ROOT / "bench" / "floor.py"), url, str(lines), str(folder / "floor"), case.mode,
                     str(case.concurrency)])  # fmt: skip
    if floor.returncode != 0:
        raise RuntimeError(f"{case.label}: the floor client failed: {floor.stderr[-800:]}")
    return floor


def cases(quick: bool) -> list[Case]:
    if quick:
        return [Case(100, 1, 16, 0.02), Case(100, 16, 16, 0.05), Case(100, 16, 16, 0.05, "runsync"),
                Case(100, 16, 16, 0.05, faults=FAULTS)]  # fmt: skip
    return [
        Case(100, 1, 64, 0.5), Case(100, 8, 64, 0.5), Case(100, 64, 64, 0.5),
        Case(1000, 16, 64, 0.5), Case(1000, 64, 64, 0.5),
        Case(5000, 64, 64, 1.0), Case(5000, 64, 64, 1.0, "runsync"), Case(5000, 64, 64, 1.0, faults=FAULTS),
    ]  # fmt: skip


def run(quick: bool) -> list[dict[str, object]]:
    return [run_case(case) for case in cases(quick)]
