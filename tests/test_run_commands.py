"""The run commands (runs, show, resume, retry, stitch, rm) and run identity across settings."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.test_cli import tui_tts
from tui_tts.audio.probe import probe_file

TEXT = "One sentence here. Another sentence there. " * 12


@pytest.mark.slow
def test_settings_change_starts_a_new_run_and_says_which(tmp_path: Path) -> None:
    book = tmp_path / "b.txt"
    book.write_text(TEXT, encoding="utf-8")
    data = str(tmp_path / "d")
    assert tui_tts("run", str(book), "--data-dir", data, "--max-chars", "100").returncode == 0
    changed = tui_tts("run", str(book), "--data-dir", data, "--max-chars", "150")
    assert changed.returncode == 0
    assert "settings changed since the last run of this input (max_chars: 100 -> 150)" in changed.stderr
    config = tmp_path / "c.toml"
    config.write_text('[local]\nvoice = "en"\n[run]\nmax_chars = 150\n')
    voice = tui_tts("run", str(book), "--data-dir", data, "-c", str(config))
    assert "local.voice: 'en-us' -> 'en'" in voice.stderr
    config.write_text('[local]\nvoice = "en-gb"\n')  # not an espeak-ng voice: refused before any run is made
    bad = tui_tts("run", str(book), "--data-dir", data, "-c", str(config))
    assert bad.returncode == 2 and "espeak-ng has no voice named 'en-gb'" in bad.stderr
    config.write_text('[local]\nvoice = "en"\n[run]\nmax_chars = 150\n')
    fresh = tui_tts("run", str(book), "--data-dir", data, "-c", str(config), "--fresh")
    assert "new run" in fresh.stderr and "resuming" not in fresh.stderr
    listing = json.loads(tui_tts("runs", "--data-dir", data, "--json").stdout)
    assert len(listing) == 4 and all(item["state"] == "done" for item in listing)


@pytest.mark.slow
def test_runs_show_stitch_rm(tmp_path: Path) -> None:
    book = tmp_path / "b.txt"
    book.write_text(TEXT, encoding="utf-8")
    data = str(tmp_path / "d")
    nothing = tui_tts("runs", "--data-dir", data)  # nothing yet: said plainly, not an error
    assert nothing.returncode == 0 and nothing.stdout.strip() == "no runs yet"
    assert tui_tts("run", str(book), "--data-dir", data, "--max-chars", "100").returncode == 0
    table = tui_tts("runs", "--data-dir", data)
    assert "done" in table.stdout and "b.txt -> " in table.stdout
    run_id = json.loads(tui_tts("runs", "--data-dir", data, "--json").stdout)[0]["id"]
    shown = json.loads(tui_tts("show", run_id[:17], "--data-dir", data, "--json").stdout)
    assert shown["chunks_by_state"] == {"done": shown["total"]} and shown["audio_seconds"] > 5
    assert "chunks  " in tui_tts("show", "last", "--data-dir", data).stdout
    flac = tmp_path / "again.flac"
    restitched = tui_tts("stitch", "last", "-o", str(flac), "--data-dir", data, "--no-seams")
    assert restitched.returncode == 0, restitched.stderr
    assert probe_file(flac).codec == "flac"
    assert abs(probe_file(flac).duration - shown["audio_seconds"]) < 0.1
    assert tui_tts("show", "nope", "--data-dir", data).stderr.startswith("tui-tts: error: no run matches 'nope'")
    refused = tui_tts("rm", run_id, "--data-dir", data)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    removed = tui_tts("rm", run_id, "--yes", "--data-dir", data)
    assert removed.returncode == 0 and not (tmp_path / "d" / "runs" / run_id).exists()
    assert json.loads(tui_tts("runs", "--data-dir", data, "--json").stdout) == []
    assert flac.exists()  # outputs are the user's: never deleted


@pytest.mark.slow
def test_resume_and_retry_by_id(tmp_path: Path) -> None:
    book = tmp_path / "b.txt"
    text = " ".join(f"Sentence number {n} is here." for n in range(24))  # no two chunks alike: none reuses another
    book.write_text(text, encoding="utf-8")
    data = tmp_path / "d"
    assert tui_tts("run", str(book), "--data-dir", str(data), "--max-chars", "100", "--format", "wav").returncode == 0
    run_id = json.loads(tui_tts("runs", "--data-dir", str(data), "--json").stdout)[0]["id"]
    chunk_dir = data / "runs" / run_id / "chunks"
    first, second = sorted(chunk_dir.iterdir())[:2]
    assert "no failed chunks in run" in tui_tts("retry", run_id, "--data-dir", str(data)).stderr
    assert json.loads(tui_tts("runs", "--data-dir", str(data), "--json").stdout)[0]["state"] == "done"  # untouched
    first.unlink()  # one chunk failed for good and left no audio; another chunk's audio vanished
    second.unlink()
    with sqlite3.connect(data / "tui-tts.db") as db:
        db.execute("UPDATE chunks SET state='failed', last_error='boom' WHERE idx=0")
    retried = tui_tts("retry", run_id, "--data-dir", str(data))
    assert retried.returncode == 1, retried.stderr  # the failed one is redone; the other is not a failure
    assert first.exists() and not second.exists()
    assert "1 chunk(s) are still to do" in retried.stderr
    resumed = tui_tts("resume", "last", "--data-dir", str(data))
    assert resumed.returncode == 0, resumed.stderr
    assert second.exists()
    book.write_text(text + " Changed.", encoding="utf-8")
    changed = tui_tts("resume", run_id, "--data-dir", str(data))
    assert changed.returncode == 2 and "input file changed" in changed.stderr
