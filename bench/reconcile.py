"""Resuming a finished run of many chunks: seconds from `tui-tts run` to its first line (the on-disk check).

`uv run python bench/reconcile.py [--chunks 3000]` builds a finished run of N chunk WAVs (no synthesis), then runs the
same command again and times it up to the "resuming:" line, which prints once every chunk file has been checked.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, ROOT


def book(chunks: int) -> str:
    return " ".join(f"Sentence number {n:06d} is here for the benchmark." for n in range(chunks))


async def finished_run(folder: Path, chunks: int) -> tuple[Path, Path]:
    """A run whose every chunk is done, with a real 0.5 s WAV for each (what a finished run leaves)."""
    from tui_tts.audio.ffmpeg import find_ffmpeg
    from tui_tts.audio.wav import pcm_to_wav
    from tui_tts.engines.registry import build_engine, load_settings
    from tui_tts.run.runner import DATABASE_NAME, RunController
    from tui_tts.store import Store
    from tui_tts.text.loading import load_document

    source = folder / "book.txt"
    source.write_text(book(chunks), encoding="utf-8")
    config = folder / "c.toml"
    config.write_text('engine = "local"\n[run]\nmax_chars = 60\n[output]\nformat = "wav"\n')
    settings = load_settings(config)
    data = folder / "data"
    async with Store(data / DATABASE_NAME) as store:
        controller = RunController(settings, store, build_engine(settings), find_ffmpeg(), data)
        plan = await controller.prepare(source, source.read_bytes(), load_document(source), folder / "out.wav")
        controller.chunk_dir.mkdir(parents=True, exist_ok=True)
        audio = pcm_to_wav(bytes(2 * 12_000), 24_000)
        rows = []
        for chunk in plan.chunks:
            path = controller.chunk_dir / f"{chunk.index:06d}.wav"
            path.write_bytes(audio)
            rows.append((str(path), plan.run.id, chunk.index))
        controller.release()
    with sqlite3.connect(data / DATABASE_NAME) as db:
        db.executemany("UPDATE chunks SET state='done', audio_path=?, codec='pcm_s16le', sample_rate=24000, "
                       "channels=1, duration=0.5 WHERE run_id=? AND idx=?", rows)  # fmt: skip
    return source, config


def seconds_to_first_line(source: Path, config: Path, data: Path, output: Path) -> tuple[float, str]:
    started = time.perf_counter()
    command = [PYTHON, "-m", "tui_tts", "run", str(source), "-c", str(config), "--data-dir", str(data), "-o",
               str(output), "--headless"]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stderr is not None
    line = process.stderr.readline()
    elapsed = time.perf_counter() - started
    process.kill()
    process.communicate()
    return elapsed, line.strip()


def startup_seconds() -> float:
    """The floor: a `tui-tts --version` (interpreter and imports)."""
    started = time.perf_counter()
    subprocess.run([PYTHON, "-m", "tui_tts", "--version"], capture_output=True, check=True, cwd=ROOT)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tui-tts-bench-reconcile-") as name:
        folder = Path(name)
        source, config = asyncio.run(finished_run(folder, args.chunks))
        times, line = [], ""
        for _ in range(args.repeat):
            elapsed, line = seconds_to_first_line(source, config, folder / "data", folder / "out.wav")
            times.append(elapsed)
        floor = startup_seconds()
    print(json.dumps({"chunks": args.chunks, "first_line_seconds": round(min(times), 2),
                      "all_seconds": [round(t, 2) for t in times], "startup_seconds": round(floor, 2),
                      "first_line": line}))  # fmt: skip


if __name__ == "__main__":
    main()
