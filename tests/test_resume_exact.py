"""`resume RUN` and `retry RUN` continue exactly RUN, with the settings stored for it, or refuse in one line."""

from __future__ import annotations

import json
import os
import pty
import select
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_cli import REPO, tui_tts

BOOK = "".join(f"# Chapter {n}\n\nThe {n} rabbit ran. It ran far away. Then it sat down.\n\n" for n in (1, 2, 3))


def _runs(data: Path) -> list[dict[str, object]]:
    listing: list[dict[str, object]] = json.loads(tui_tts("runs", "--data-dir", str(data), "--json").stdout)
    return listing


def _unfinish(data: Path, run_id: str) -> Path:
    """Make a finished run look stopped mid-way: its first chunk's audio gone and the chunk queued again."""
    chunk = sorted((data / "runs" / run_id / "chunks").iterdir())[0]
    chunk.unlink()
    with sqlite3.connect(data / "tui-tts.db") as db:
        db.execute("UPDATE chunks SET state='queued', audio_path=NULL WHERE run_id=? AND idx=0", (run_id,))
        db.execute("UPDATE runs SET state='stopped' WHERE id=?", (run_id,))
    return chunk


@pytest.mark.slow
def test_resume_continues_exactly_the_named_run_with_its_chapters(tmp_path: Path) -> None:
    book = tmp_path / "book.md"
    book.write_text(BOOK, encoding="utf-8")
    data = tmp_path / "d"
    part = tui_tts("run", str(book), "--chapters", "1-2", "--data-dir", str(data), "-o", str(tmp_path / "part.wav"))
    assert part.returncode == 0, part.stderr
    chosen = _runs(data)[0]
    whole = tui_tts("run", str(book), "--data-dir", str(data), "-o", str(tmp_path / "whole.wav"))
    assert whole.returncode == 0, whole.stderr
    assert len(_runs(data)) == 2
    missing = _unfinish(data, str(chosen["id"]))
    for reference in (str(chosen["id"]), str(chosen["id"])[:-2]):
        resumed = tui_tts("resume", reference, "--data-dir", str(data))
        assert resumed.returncode == 0, resumed.stderr
        assert f"run {chosen['id']}" in resumed.stderr and "new run" not in resumed.stderr
        assert resumed.stdout.strip() == str(tmp_path / "part.wav")  # the run's own output, format and chapters
        assert missing.exists()
        assert len(_runs(data)) == 2  # never another run
        missing = _unfinish(data, str(chosen["id"]))
    last = tui_tts("resume", "last", "--data-dir", str(data))  # the newest run is the whole book: it is done
    assert last.returncode == 0, last.stderr
    assert f"run {_runs(data)[0]['id']}" in last.stderr and len(_runs(data)) == 2


@pytest.mark.slow
def test_resume_refuses_when_the_config_no_longer_matches(tmp_path: Path) -> None:
    book = tmp_path / "book.txt"
    book.write_text("One sentence here. Another sentence there. " * 6, encoding="utf-8")
    data = tmp_path / "d"
    config = tmp_path / "c.toml"
    config.write_text('[local]\nvoice = "en"\nrate = 200\n')
    made = tui_tts("run", str(book), "-c", str(config), "--data-dir", str(data), "--max-chars", "100")
    assert made.returncode == 0, made.stderr
    run_id = str(_runs(data)[0]["id"])
    _unfinish(data, run_id)
    config.write_text('[local]\nvoice = "en-us"\nrate = 200\n[run]\nconcurrency = 2\n')
    refused = tui_tts("resume", run_id, "-c", str(config), "--data-dir", str(data))
    assert refused.returncode == 2, refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tui-tts: error: ")
    assert "local.voice: 'en' -> 'en-us'" in lines[0] and "rate" not in lines[0] and "concurrency" not in lines[0]
    assert len(_runs(data)) == 1
    config.write_text('[local]\nvoice = "en"\nrate = 200\n[run]\nconcurrency = 2\n')  # scheduling may differ
    resumed = tui_tts("resume", run_id, "-c", str(config), "--data-dir", str(data))
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming: " in resumed.stderr and f"run {run_id}" in resumed.stderr  # --max-chars 100 came from the run


def test_resume_with_no_runs_is_one_line(tmp_path: Path) -> None:
    result = tui_tts("resume", "last", "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 2 and result.stderr.startswith("tui-tts: error: no runs yet")


@pytest.mark.slow
def test_resume_opens_the_dashboard_on_a_terminal(tmp_path: Path) -> None:
    book = tmp_path / "book.txt"
    book.write_text("One sentence here. Another sentence there. " * 6, encoding="utf-8")
    data = tmp_path / "d"
    assert tui_tts("run", str(book), "--data-dir", str(data), "--format", "wav").returncode == 0
    run_id = str(_runs(data)[0]["id"])
    _unfinish(data, run_id)
    controller, terminal = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "tui_tts", "resume", run_id, "--data-dir", str(data)],
                               stdin=terminal, stdout=terminal, stderr=terminal, cwd=REPO,
                               env={**os.environ, "TERM": "xterm-256color"}, start_new_session=True)  # fmt: skip
    os.close(terminal)
    seen = b""
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline and b"\x1b[?1049h" not in seen and process.poll() is None:
            if select.select([controller], [], [], 0.2)[0]:
                try:
                    seen += os.read(controller, 65536)
                except OSError:
                    break
    finally:
        process.kill()
        process.wait(timeout=30)
        os.close(controller)
    assert b"\x1b[?1049h" in seen, seen[-400:]  # the alternate screen: the dashboard, not plain progress


@pytest.mark.slow
def test_a_paid_run_refused_for_want_of_yes_is_not_left_active(tmp_path: Path) -> None:
    book = tmp_path / "book.txt"
    book.write_text("One sentence here. Another sentence there. " * 6, encoding="utf-8")
    config = tmp_path / "paid.toml"  # nothing listens there: the refusal comes before any request
    config.write_text('engine = "runpod"\n[runpod]\nendpoint_url = "http://127.0.0.1:9/v2/x"\ncost_per_second = 0.01\n')
    data = tmp_path / "d"
    refused = tui_tts("run", str(book), "-c", str(config), "--data-dir", str(data))
    assert refused.returncode == 2 and "add --yes" in refused.stderr
    assert [run["state"] for run in _runs(data)] == ["stopped"]
    again = tui_tts("resume", "last", "-c", str(config), "--data-dir", str(data))
    assert again.returncode == 2 and "add --yes" in again.stderr
    assert [run["state"] for run in _runs(data)] == ["stopped"]
