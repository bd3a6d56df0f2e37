"""A closed stdout or stderr never hangs a run or prints a traceback, and signals always work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import REPO, SAMPLE, chunk_states, done_chunks, tui_tts
from tests.waiting import wait_until
from tui_tts.audio.probe import probe_file


def _closed_pipe() -> int:
    """The write end of a pipe whose reader is already gone: every write to it fails with EPIPE."""
    reader, writer = os.pipe()
    os.close(reader)
    return writer


def _spawn(*args: str, stdout: int, stderr: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "tui_tts", *args], stdout=stdout, stderr=stderr, cwd=REPO)


@pytest.mark.slow
def test_runs_into_a_closed_pipe_prints_no_traceback(tmp_path: Path) -> None:
    book = tmp_path / "b.txt"
    book.write_text("Hello there. A short text.", encoding="utf-8")
    data = str(tmp_path / "d")
    for _ in range(2):
        assert tui_tts("run", str(book), "--data-dir", data, "--fresh").returncode == 0
    writer = _closed_pipe()
    errors = tmp_path / "stderr.txt"
    with errors.open("wb") as handle:
        process = _spawn("runs", "--data-dir", data, stdout=writer, stderr=handle.fileno())
        os.close(writer)
        process.wait(timeout=60)
    assert errors.read_text() == "", errors.read_text()
    assert process.returncode == 0


def test_a_run_piped_into_head_finishes(tmp_path: Path) -> None:
    """`tui-tts run ... 2>&1 | head -1`: the reader goes away after the first line; the run still finishes."""
    output = tmp_path / "out.mp3"
    reader, writer = os.pipe()
    process = _spawn("run", str(SAMPLE), "--headless", "-o", str(output), "--data-dir", str(tmp_path / "d"),
                     stdout=writer, stderr=writer)  # fmt: skip
    os.close(writer)
    with os.fdopen(reader, "rb") as head:
        assert head.readline().startswith(b"new run ")
    assert process.wait(timeout=240) == 0
    assert probe_file(output).duration > 60


def test_signals_work_with_the_outputs_closed(tmp_path: Path) -> None:
    book = tmp_path / "book.txt"
    # No two chunks alike (identical chunks would be made once): every sentence has its own number.
    book.write_text(" ".join(f"Sentence {n} of the long book goes on a little further." for n in range(500)))
    data = tmp_path / "d"
    writer = _closed_pipe()
    process = _spawn("run", str(book), "--headless", "--sequential", "--max-chars", "120", "--format", "wav",
                     "--data-dir", str(data), stdout=writer, stderr=writer)  # fmt: skip
    os.close(writer)
    wait_until(lambda: done_chunks(data) >= 3)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 130
    states = chunk_states(data)
    assert states.get("done", 0) >= 3 and states.get("running", 0) == 0


def test_a_hung_up_terminal_silences_the_stream_and_other_errors_still_raise(tmp_path: Path) -> None:
    import errno
    import io

    from tui_tts.commands.streams import PipeSafeStream

    class Terminal(io.StringIO):
        def __init__(self, code: int) -> None:
            super().__init__()
            self.code = code

        def write(self, text: str) -> int:
            raise OSError(self.code, os.strerror(self.code))

    (tmp_path / "fd").write_text("")
    with open(tmp_path / "fd", "w") as real:  # _silence points the descriptor at /dev/null
        closed = Terminal(errno.EIO)
        closed.fileno = real.fileno  # type: ignore[method-assign]
        stream = PipeSafeStream(closed)
        assert stream.write("progress\n") == 9 and stream.closed_pipe
    with pytest.raises(OSError):
        PipeSafeStream(Terminal(errno.ENOSPC)).write("x")  # a full disk under a redirect is not hidden
