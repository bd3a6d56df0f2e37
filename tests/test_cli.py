"""The headless CLI as a user runs it: real subprocesses, real engine, real ffmpeg, real SQLite."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.waiting import wait_until
from tui_tts.audio.probe import probe_file

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "examples" / "alice-rabbit-hole.txt"


def tui_tts(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run([sys.executable, "-m", "tui_tts", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=timeout)  # fmt: skip


def chunk_states(data_dir: Path) -> dict[str, int]:
    with sqlite3.connect(data_dir / "tui-tts.db") as db:
        return dict(db.execute("SELECT state, COUNT(*) FROM chunks GROUP BY state").fetchall())


def done_chunks(data_dir: Path) -> int:
    """How many chunks a run in another process has done so far (0 before its database is there)."""
    try:
        return chunk_states(data_dir).get("done", 0) if (data_dir / "tui-tts.db").exists() else 0
    except sqlite3.OperationalError:
        return 0


@pytest.mark.slow
def test_sample_run_makes_a_spoken_file_and_a_rerun_resumes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    output = tmp_path / "out" / "alice.mp3"
    output.parent.mkdir()
    first = tui_tts("run", str(SAMPLE), "-o", str(output), "--data-dir", str(data), "--headless")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == str(output)
    facts = probe_file(output)
    assert facts.codec == "mp3" and facts.duration > 60  # about two minutes of speech
    with sqlite3.connect(data / "tui-tts.db") as db:
        durations = [row[0] for row in db.execute("SELECT duration FROM chunks ORDER BY idx")]
        # Seams trim each chunk's own edge silence and add pauses: no chunk lost, none doubled.
        assert 0.85 * sum(durations) < facts.duration < sum(durations) + 1.5 + 0.8 * len(durations)
    wav = output.with_suffix(".wav")  # the format follows the extension
    second = tui_tts("run", str(SAMPLE), "-o", str(wav), "--data-dir", str(data), "--no-seams")
    assert second.returncode == 0, second.stderr
    total = len(durations)
    assert f"resuming: {total}/{total} done" in second.stderr  # nothing synthesised twice
    assert second.stdout.strip() == str(wav)
    assert probe_file(wav).codec == "pcm_s16le"
    assert probe_file(wav).duration == pytest.approx(sum(durations), abs=0.05)  # chunks joined as they are


def test_default_output_is_next_to_the_input(tmp_path: Path) -> None:
    text = tmp_path / "note.md"
    text.write_text("# Title\n\nA short note, read aloud.\n", encoding="utf-8")
    result = tui_tts("run", str(text), "--data-dir", str(tmp_path / "d"), "--format", "opus")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "note.opus").is_file()
    assert probe_file(tmp_path / "note.opus").codec == "opus"


def bad_inputs(tmp: Path) -> list[tuple[list[str], str]]:
    (tmp / "empty.txt").write_text("")
    (tmp / "blank.txt").write_text("  \n\t\n   ")
    (tmp / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    (tmp / "ok.txt").write_text("Hello there.")
    (tmp / "bad.toml").write_text("[run]\nconcurrenc = 4\n")
    return [
        (["run", str(tmp / "missing.txt")], "input file not found"),
        (["run", str(tmp)], "input is a directory"),
        (["run", str(tmp / "empty.txt")], "input file is empty"),
        (["run", str(tmp / "blank.txt")], "input file is empty"),
        (["run", str(tmp / "image.txt")], "PNG image, not text"),
        (["run", str(tmp / "ok.txt"), "-o", "/proc/out.mp3"], "not writable"),  # read-only even for root
        (["run", str(tmp / "ok.txt"), "-o", str(tmp / "nowhere" / "out.mp3")], "does not exist"),
        (["run", str(tmp / "ok.txt"), "-c", str(tmp / "bad.toml")], "unknown key 'run.concurrenc'"),
        (["run", str(tmp / "ok.txt"), "-c", str(tmp / "no.toml")], "config file not found"),
        (["run", str(tmp / "ok.txt"), "--concurrency", "0"], "must be at least 1"),
        (["run", str(tmp / "ok.txt"), "-o", str(tmp / "x.mp3"), "--format", "wav"], "does not match"),
    ]


@pytest.mark.slow
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for args, expected in bad_inputs(tmp_path):
        result = tui_tts(*args, "--data-dir", str(tmp_path / "data"))
        assert result.returncode == 2, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert expected in lines[0], (args, lines[0])


@pytest.mark.slow
def test_sigterm_mid_run_saves_state_and_the_next_run_resumes(tmp_path: Path) -> None:
    book = tmp_path / "book.txt"
    # No two chunks alike (identical chunks would be made once): every sentence has its own number.
    book.write_text(" ".join(f"Sentence {n} of the long book goes on a little further." for n in range(1400)))
    data = tmp_path / "data"
    process = subprocess.Popen(
        [sys.executable, "-m", "tui_tts", "run", str(book), "--data-dir", str(data), "--sequential", "--max-chars",
         "120", "--format", "wav"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_until(lambda: done_chunks(data) >= 20)  # some chunks are done: interrupt
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "stopped:" in stderr and "Traceback" not in stderr
    states = chunk_states(data)
    done_before = states.get("done", 0)
    assert done_before >= 20 and states.get("running", 0) == 0
    chunk_dir = next((data / "runs").iterdir()) / "chunks"
    # The chunk in flight may have reached the disk before its "done" reached the database: resume adopts it.
    on_disk = len([p for p in chunk_dir.iterdir() if p.suffix == ".wav"])
    assert done_before <= on_disk <= done_before + 1
    assert not [p for p in chunk_dir.iterdir() if p.suffix == ".part"]
    mtimes = {p.name: p.stat().st_mtime_ns for p in chunk_dir.iterdir()}
    again = tui_tts("run", str(book), "--data-dir", str(data), "--max-chars", "120", "--format", "wav")
    assert again.returncode == 0, again.stderr
    assert f"resuming: {on_disk}/" in again.stderr
    assert (on_disk == done_before) or "1 recovered from disk" in again.stderr
    for name, mtime in mtimes.items():  # the chunks done before the interrupt were not synthesised again
        assert (chunk_dir / name).stat().st_mtime_ns == mtime


@pytest.mark.slow
def test_sighup_stops_a_headless_run_gracefully_unless_nohup_ignored_it(tmp_path: Path) -> None:
    book = tmp_path / "book.txt"
    book.write_text(" ".join(f"Sentence {n} of the long book goes on a little further." for n in range(1400)))
    args = [sys.executable, "-m", "tui_tts", "run", str(book), "--sequential", "--max-chars", "120", "--format", "wav"]
    for ignored in (False, True):
        data = tmp_path / f"data-{ignored}"
        process = subprocess.Popen(
            [*args, "--data-dir", str(data)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=(lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN)) if ignored else None,
        )  # fmt: skip
        wait_until(lambda: done_chunks(data) >= 3)  # noqa: B023 (called at once)
        process.send_signal(signal.SIGHUP)
        if ignored:  # nohup: the hangup is not for us; it goes on until told otherwise
            with pytest.raises(subprocess.TimeoutExpired):
                process.wait(timeout=1.5)
            process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 130, stderr  # not killed by the signal (-1): stopped, state saved
        assert "stopped:" in stderr and "Traceback" not in stderr
        assert chunk_states(data).get("running", 0) == 0
