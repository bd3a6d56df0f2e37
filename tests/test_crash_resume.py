"""Crash safety: SIGKILL at many points, two runs on one data dir, a full disk; and the run commands."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.audio_helpers import decode_mono, dominant_frequency
from tests.test_remote_runs import emulator_process
from tests.waiting import wait_until, within
from tui_tts.audio.ffmpeg import Ffmpeg
from tui_tts.emulator.server import tone_frequency

BOOK = "\n\n".join(
    f"Chapter {p}. " + " ".join(f"The rabbit number {p * 10 + s} hurried past the hedge." for s in range(5))
    for p in range(30)
)


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tui_tts", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, **(env or {})})  # fmt: skip


def states(database: Path) -> dict[str, int]:
    try:
        with sqlite3.connect(database, timeout=5) as db:
            return dict(db.execute("SELECT state, COUNT(*) FROM chunks GROUP BY state").fetchall())
    except sqlite3.Error:
        return {}


def reattached_in(stderr: str) -> int:
    found = re.search(r"(\d+) remote job\(s\) to re-attach", stderr)
    return int(found.group(1)) if found else 0


def assert_tones_in_order(ffmpeg: Ffmpeg, output: Path, database: Path) -> int:
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT text, duration FROM chunks ORDER BY idx").fetchall()
    samples = decode_mono(ffmpeg, output, 24_000)
    position = 0.0
    for text, duration in rows:
        middle = samples[int((position + 0.3 * duration) * 24_000) : int((position + 0.7 * duration) * 24_000)]
        assert dominant_frequency(middle, 24_000) == pytest.approx(tone_frequency(text), rel=0.03)
        position += duration
    assert len(samples) / 24_000 == pytest.approx(position, abs=0.15)
    return len(rows)


@pytest.mark.slow
def test_sigkill_at_many_points_loses_nothing_and_pays_once(tmp_path: Path, ffmpeg: Ffmpeg) -> None:
    with emulator_process(tmp_path, "--workers", "16", "--latency", "0.6", "--seconds-per-char", "0.05") as url:
        config = tmp_path / "c.toml"
        config.write_text(
            f'engine = "runpod"\n[run]\nconcurrency = 8\nmax_chars = 160\n[runpod]\nendpoint_url = '
            f'"{url}"\npoll_initial = 0.1\n[seams]\nenabled = false\n'
        )  # positions = summed durations
        book = tmp_path / "book.txt"
        book.write_text(BOOK, encoding="utf-8")
        data, output = tmp_path / "data", tmp_path / "book.mp3"
        database = data / "tui-tts.db"
        args = ("run", str(book), "-c", str(config), "--data-dir", str(data), "-o", str(output))
        kills = 0
        reattached = 0
        # Kill while jobs are in flight, at several stages of the run, then during stitching.
        for done_at_least in (0, 10, 25, 40):
            process = cli(*args)
            assert wait_until(lambda n=done_at_least: states(database).get("running", 0) >= 3 and
                              states(database).get("done", 0) >= n)  # fmt: skip
            time.sleep(0.15)  # let some jobs be mid-flight, some ids mid-batch
            process.send_signal(signal.SIGKILL)
            _, stderr = process.communicate(timeout=30)
            kills += 1
            reattached += reattached_in(stderr)
        process = cli(*args)
        partial = output.with_name(f".{output.name}.part")
        if within(partial.exists, 120):  # the run may finish first
            process.send_signal(signal.SIGKILL)  # in the middle of stitching
            process.communicate(timeout=30)
            kills += 1
        final = cli(*args)
        _stdout, stderr = final.communicate(timeout=180)
        assert final.returncode == 0, stderr
        reattached += reattached_in(stderr)
        stats = httpx.get(f"{url}/stats").json()
    chunks = assert_tones_in_order(ffmpeg, output, database)  # every chunk once, in order
    assert stats["distinct_texts"] <= chunks
    assert kills >= 4
    assert reattached >= kills - 1  # jobs in flight at a kill were picked up again through /status ...
    assert stats["repeat_submissions"] <= 1, stats  # ... not paid for twice
    assert not partial.exists()
    (tmp_path / "result.json").write_text(json.dumps({"kills": kills, "reattached": reattached, **stats}))


@pytest.mark.slow
def test_two_runs_at_once_on_one_data_dir_never_see_a_lock(tmp_path: Path) -> None:
    with emulator_process(tmp_path, "--workers", "64", "--latency", "0.02", "--seconds-per-char", "0.002") as url:
        config = tmp_path / "c.toml"
        config.write_text(f'engine = "runpod"\n[run]\nconcurrency = 64\nmax_chars = 60\n[runpod]\nendpoint_url = '
                          f'"{url}"\npoll_initial = 0.01\n')  # fmt: skip
        data = tmp_path / "data"
        processes = []
        for name in ("one", "two"):
            book = tmp_path / f"{name}.txt"
            book.write_text(f"{name}. " + BOOK, encoding="utf-8")
            processes.append(cli("run", str(book), "-c", str(config), "--data-dir", str(data), "--format", "wav"))
        readers = [cli("runs", "--data-dir", str(data), "--json") for _ in range(5)]
        results = [(*p.communicate(timeout=300), p.returncode) for p in processes + readers]
    for _stdout, stderr, code in results:
        assert "locked" not in stderr and "Traceback" not in stderr
        assert code == 0 or "no runs yet" in stderr, stderr
    with sqlite3.connect(data / "tui-tts.db") as db:
        assert db.execute("SELECT COUNT(*) FROM runs WHERE state='done'").fetchone()[0] == 2


async def test_a_full_disk_stops_the_run_cleanly_and_resume_works(tmp_path: Path, ffmpeg: Ffmpeg,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    import tui_tts.run.runner as runner
    from tui_tts.engines.registry import build_engine, load_settings
    from tui_tts.errors import RunAborted
    from tui_tts.store import Store
    from tui_tts.text.loading import load_document

    book = tmp_path / "book.txt"
    book.write_text(BOOK, encoding="utf-8")
    settings = load_settings(None, {"run": {"max_chars": 120, "concurrency": 4}, "output": {"format": "wav"}})
    real_write = runner._write_atomically
    written = {"n": 0}

    def fills_up(path: Path, data: bytes) -> None:  # the disk is full after 10 chunks
        if written["n"] >= 10:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        written["n"] += 1
        real_write(path, data)

    async def attempt() -> tuple[runner.RunController, Store]:
        store = Store(tmp_path / "data" / "tui-tts.db")
        await store.open()
        controller = runner.RunController(settings, store, build_engine(settings), ffmpeg, tmp_path / "data")
        await controller.prepare(book, book.read_bytes(), load_document(book), tmp_path / "out.wav")
        return controller, store

    monkeypatch.setattr(runner, "_write_atomically", fills_up)
    controller, store = await attempt()
    with pytest.raises(RunAborted, match="No space left on device"):
        await controller.execute()
    controller.release()  # as the session does when it closes
    await store.close()
    assert states(tmp_path / "data" / "tui-tts.db").get("done") == 10
    assert not list((tmp_path / "data").rglob("*.part"))
    monkeypatch.setattr(runner, "_write_atomically", real_write)  # space is back
    controller, store = await attempt()
    assert controller.plan is not None and controller.plan.done == 10
    outcome = await controller.execute()
    controller.release()
    await store.close()
    assert outcome.output is not None and outcome.failed == []
    await asyncio.sleep(0)
