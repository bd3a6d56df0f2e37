"""Disk: `runs` shows each run's size, `prune` frees finished runs' chunk audio, `output.keep_chunks = false`."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

import pytest

from tests.test_cli import tui_tts
from tui_tts.store.ownership import acquire

TEXT = "One sentence here. Another sentence there. " * 6


def _listing(data: Path) -> list[dict[str, object]]:
    result: list[dict[str, object]] = json.loads(tui_tts("runs", "--data-dir", str(data), "--json").stdout)
    return result


def _folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


@pytest.mark.slow
def test_runs_shows_sizes_and_prune_frees_old_or_surplus_runs_but_never_a_live_one(tmp_path: Path) -> None:
    data = tmp_path / "d"
    for number in range(4):
        book = tmp_path / f"b{number}.txt"
        book.write_text(f"Book {number}. " + TEXT, encoding="utf-8")
        assert tui_tts("run", str(book), "--data-dir", str(data), "--format", "wav").returncode == 0
    runs = _listing(data)
    assert [run["size_bytes"] for run in runs] == [_folder_bytes(data / "runs" / str(run["id"])) for run in runs]
    assert all(int(str(run["size_bytes"])) > 10_000 for run in runs)
    table = tui_tts("runs", "--data-dir", str(data)).stdout
    assert "SIZE" in table.splitlines()[0] and " MB" in table.splitlines()[1]
    newest, second, third, oldest = (str(run["id"]) for run in runs)
    live = acquire(data, oldest)  # the oldest is owned by a live process (this one), as a running run would be
    with sqlite3.connect(data / "tui-tts.db") as db:
        db.execute("UPDATE runs SET created_at=? WHERE id IN (?, ?)", (time.time() - 10 * 86400, third, oldest))
    refused = tui_tts("prune", "--keep", "1", "--data-dir", str(data))
    assert refused.returncode == 2 and "--yes" in refused.stderr and len(_listing(data)) == 4
    third_size = _folder_bytes(data / "runs" / third)
    old = tui_tts("prune", "--older-than", "7", "--yes", "--data-dir", str(data))
    assert old.returncode == 0, old.stderr
    assert [str(run["id"]) for run in _listing(data)] == [newest, second, oldest]
    assert not (data / "runs" / third).exists() and (data / "runs" / oldest).exists()
    assert f"pruned 1 run(s), freed {third_size / 1e6:.1f} MB" in old.stdout and "1 live run(s) kept" in old.stdout
    kept = tui_tts("prune", "--keep", "1", "--yes", "--data-dir", str(data))
    assert kept.returncode == 0, kept.stderr
    assert [str(run["id"]) for run in _listing(data)] == [newest, oldest]  # the live one is never pruned
    assert "pruned 1 run" in kept.stdout
    live.release()
    nothing = tui_tts("prune", "--keep", "5", "--yes", "--data-dir", str(data))
    assert nothing.returncode == 0 and "nothing to prune" in nothing.stdout
    neither = tui_tts("prune", "--yes", "--data-dir", str(data))
    assert neither.returncode == 2 and "--older-than" in neither.stderr and "--keep" in neither.stderr


@pytest.mark.slow
def test_keep_chunks_false_removes_chunk_audio_after_the_output_is_verified(tmp_path: Path) -> None:
    book = tmp_path / "b.txt"
    book.write_text(TEXT, encoding="utf-8")
    data = tmp_path / "d"
    config = tmp_path / "c.toml"
    config.write_text("[output]\nkeep_chunks = false\n")
    made = tui_tts("run", str(book), "-c", str(config), "--data-dir", str(data), "--max-chars", "100")
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "b.mp3").stat().st_size > 10_000
    run_id = str(_listing(data)[0]["id"])
    left = [p for p in (data / "runs" / run_id).rglob("*") if p.is_file()]
    # nothing but the finished file remains (and the run's empty owner lock)
    assert [(p.name, p.stat().st_size) for p in left] == [("owner.lock", 0)], left
    os.utime(tmp_path / "b.mp3")
    again = tui_tts("run", str(book), "-c", str(config), "--data-dir", str(data), "--max-chars", "100")
    assert again.returncode == 0, again.stderr  # the finished run is not synthesised again
    assert "already finished" in again.stderr and "keep_chunks" in again.stderr
    assert len(_listing(data)) == 1
