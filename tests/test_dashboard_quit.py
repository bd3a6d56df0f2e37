"""Every way out of the dashboard, on a real pseudo-terminal: keys, Ctrl-C, SIGTERM, SIGHUP and a closed terminal.

Each one must stop the run gracefully (recorded as stopped, exit 130), restore the terminal, and say what happened.
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.test_remote_runs import emulator_process
from tests.waiting import wait_until

BOOK = " ".join(f"Sentence number {n} of the little test book." for n in range(120))
ALT_SCREEN_ON, ALT_SCREEN_OFF = b"\x1b[?1049h", b"\x1b[?1049l"
MOUSE_OFF, CURSOR_ON = b"\x1b[?1000l", b"\x1b[?25h"


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A slow emulator (jobs take 0.4 s) so that a run of 100+ chunks at two at a time is still going when we quit."""
    with emulator_process(tmp_path_factory.mktemp("emulator"), "--workers", "16", "--latency", "0.4") as url:
        yield url


@dataclass
class Terminal:
    """The dashboard in a child process whose controlling terminal is a pty we hold the other end of."""

    process: subprocess.Popen[bytes]
    master: int
    slave: int
    database: Path
    output: Path
    screen: bytearray = field(default_factory=bytearray)
    closed: bool = False

    reader: threading.Thread | None = None

    def read_forever(self) -> None:
        while not self.closed:  # never block in read(): a blocked read would keep the master open after close()
            if not select.select([self.master], [], [], 0.05)[0]:
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.screen.extend(data)

    def send(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def states(self) -> dict[str, int]:
        try:
            with sqlite3.connect(self.database, timeout=5) as db:
                return dict(db.execute("SELECT state, COUNT(*) FROM chunks GROUP BY state").fetchall())
        except sqlite3.Error:
            return {}

    def run_state(self) -> str:
        with sqlite3.connect(self.database, timeout=5) as db:
            return str(db.execute("SELECT state FROM runs").fetchone()[0])

    def wait_exit(self, seconds: float = 60) -> int:
        return self.process.wait(timeout=seconds)

    def text(self) -> str:
        return self.screen.decode("utf-8", errors="replace")

    def close_terminal(self) -> None:
        """What closing a terminal window does: the master side goes away, and the session leader gets SIGHUP."""
        self.closed = True
        if self.reader is not None:
            self.reader.join()
        os.close(self.master)


def open_dashboard(tmp_path: Path, endpoint: str, concurrency: int = 2, size: tuple[int, int] = (100, 30)) -> Terminal:
    book = tmp_path / "book.txt"
    book.write_text(BOOK, encoding="utf-8")
    config = tmp_path / "c.toml"
    config.write_text(f'engine = "runpod"\n[run]\nconcurrency = {concurrency}\nmax_chars = 120\n'
                      f'[runpod]\nendpoint_url = "{endpoint}"\npoll_initial = 0.05\n')  # fmt: skip
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    output = tmp_path / "book.wav"
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(size[0]), "LINES": str(size[1])}
    env.pop("TEXTUAL", None)

    def take_terminal() -> None:  # runs in the child after setsid(): the pty becomes its controlling terminal
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen(
        [sys.executable, "-m", "tui_tts", "run", str(book), "-c", str(config), "-o", str(output), "--data-dir",
         str(tmp_path / "data")],
        stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True, preexec_fn=take_terminal,
    )  # fmt: skip
    terminal = Terminal(process, master, slave, tmp_path / "data" / "tui-tts.db", output)
    terminal.reader = threading.Thread(target=terminal.read_forever, daemon=True)
    terminal.reader.start()
    return terminal


def assert_terminal_restored(terminal: Terminal) -> None:
    screen = bytes(terminal.screen)
    assert ALT_SCREEN_ON in screen, terminal.text()[-500:]
    after = screen[screen.rindex(ALT_SCREEN_ON) :]
    assert ALT_SCREEN_OFF in after and MOUSE_OFF in after and CURSOR_ON in after, terminal.text()[-500:]
    modes = termios.tcgetattr(terminal.slave)
    assert modes[3] & termios.ICANON and modes[3] & termios.ECHO  # cooked mode again, keys echo


def mid_run(terminal: Terminal) -> None:
    wait_until(lambda: terminal.states().get("done", 0) >= 2 and terminal.states().get("queued", 0) > 20)


def assert_stopped_gracefully(terminal: Terminal, code: int) -> None:
    assert code == 130, terminal.text()[-2000:]
    assert terminal.run_state() == "stopped"
    assert terminal.states().get("running", 0) == 0
    if not terminal.closed:
        assert_terminal_restored(terminal)
        wait_until(lambda: "run the same command to resume" in terminal.text(), 10)  # the reader takes the last bytes
        assert "stopped: " in terminal.text()


# The keys: Ctrl-C (0x03) stops at once, like headless; q and Ctrl+Q (0x11) ask first, then y.
KEYS = {"ctrl-c": [b"\x03"], "q": [b"q", b"y"], "ctrl-q": [b"\x11", b"y"]}


@pytest.mark.slow
@pytest.mark.parametrize("way", list(KEYS))
def test_every_key_that_quits_stops_the_run_gracefully(tmp_path: Path, endpoint: str, way: str) -> None:
    terminal = open_dashboard(tmp_path, endpoint)
    try:
        mid_run(terminal)
        *asking, last = KEYS[way]
        for key in asking:
            seen = len(terminal.screen)
            terminal.send(key)
            wait_until(lambda n=seen: b"Stay (n)" in terminal.screen[n:], 20)  # the quit question is on the screen
        terminal.send(last)
        code = terminal.wait_exit()
        assert_stopped_gracefully(terminal, code)
    finally:
        terminal.process.kill()
        terminal.process.wait()


@pytest.mark.slow
@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=["TERM", "HUP", "INT"])
def test_signals_stop_the_run_gracefully_and_restore_the_terminal(tmp_path: Path, endpoint: str, number: int) -> None:
    terminal = open_dashboard(tmp_path, endpoint)
    try:
        mid_run(terminal)
        terminal.process.send_signal(number)
        code = terminal.wait_exit()
        assert_stopped_gracefully(terminal, code)
    finally:
        terminal.process.kill()
        terminal.process.wait()


@pytest.mark.slow
def test_closing_the_terminal_stops_the_run_gracefully(tmp_path: Path, endpoint: str) -> None:
    terminal = open_dashboard(tmp_path, endpoint)
    try:
        mid_run(terminal)
        terminal.close_terminal()
        code = terminal.wait_exit()
        assert_stopped_gracefully(terminal, code)
    finally:
        terminal.process.kill()
        terminal.process.wait()


@pytest.mark.slow
def test_leaving_a_finished_run_says_where_the_output_is(tmp_path: Path, endpoint: str) -> None:
    terminal = open_dashboard(tmp_path, endpoint, concurrency=16)
    try:
        wait_until(lambda: terminal.output.exists() and terminal.run_state() == "done", 120)
        wait_until(lambda: b"wrote " in terminal.screen, 20)  # the dashboard has the run as finished
        terminal.send(b"q")
        code = terminal.wait_exit()
        assert code == 0, terminal.text()[-2000:]
        assert_terminal_restored(terminal)

        def printed_after() -> str:  # what was printed once the dashboard left the screen
            return terminal.text()[terminal.text().rindex("\x1b[?1049l") :]

        wait_until(lambda: f"wrote {terminal.output}" in printed_after(), 10)  # the reader takes the last bytes
        tail = printed_after()
        assert f"wrote {terminal.output}" in tail and " MB" in tail
        assert str(terminal.output) + "\r\n" in tail.split("wrote", 1)[1]  # the path alone on stdout, for scripts
    finally:
        terminal.process.kill()
        terminal.process.wait()
