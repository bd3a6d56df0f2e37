"""One process owns a run: a second one refuses and names the owner; a killed owner's run is free and 'interrupted'."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.test_crash_resume import BOOK, cli, states
from tests.test_remote_runs import emulator_process
from tests.waiting import wait_until
from tui_tts.store.ownership import acquire, owner_lock_path, run_owner, try_acquire


@pytest.fixture
def emulator_url(tmp_path: Path) -> Iterator[str]:
    with running_emulator_process(tmp_path) as url:
        yield url


@contextlib.contextmanager
def running_emulator_process(tmp_path: Path) -> Iterator[str]:
    with emulator_process(tmp_path, "--workers", "8", "--latency", "0.25", "--seconds-per-char", "0.01") as url:
        yield url


def write_config(tmp_path: Path, url: str, concurrency: int = 4) -> Path:
    config = tmp_path / "c.toml"
    config.write_text(f'engine = "runpod"\n[run]\nconcurrency = {concurrency}\nmax_chars = 200\n[runpod]\n'
                      f'endpoint_url = "{url}"\npoll_initial = 0.05\n[seams]\nenabled = false\n')  # fmt: skip
    return config


def run_args(tmp_path: Path, config: Path) -> tuple[str, ...]:
    book = tmp_path / "book.txt"
    book.write_text(BOOK, encoding="utf-8")
    return ("run", str(book), "-c", str(config), "--data-dir", str(tmp_path / "data"), "-o",
            str(tmp_path / "book.wav"), "--headless")  # fmt: skip


def listed(data: Path) -> list[dict[str, object]]:
    shown = subprocess.run([sys.executable, "-m", "tui_tts", "runs", "--json", "--data-dir", str(data)],
                           capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    return list(json.loads(shown.stdout))


@pytest.mark.slow
def test_two_processes_started_at_once_pay_once_and_the_second_names_the_owner(tmp_path: Path,
                                                                              emulator_url: str) -> None:  # fmt: skip
    args = run_args(tmp_path, write_config(tmp_path, emulator_url))
    first, second = cli(*args), cli(*args)  # both find no run: creation is serialised, the second finds the first's
    results = [(*process.communicate(timeout=240), process.returncode) for process in (first, second)]
    stats = httpx.get(f"{emulator_url}/stats").json()
    codes = sorted(code for _out, _err, code in results)
    assert codes == [0, 2], results
    _out, refusal, _code = next(result for result in results if result[2] == 2)
    owner_pid = (first if first.returncode == 0 else second).pid
    lines = refusal.strip().splitlines()
    assert len(lines) == 1, refusal
    assert (
        lines[0].startswith("tui-tts: error: run ") and f"PID {owner_pid} on {socket.gethostname()} since" in lines[0]
    )
    assert stats["repeat_submissions"] == 0 and stats["submitted"] == stats["distinct_texts"], stats
    with_owner = listed(tmp_path / "data")
    assert [run["state"] for run in with_owner] == ["done"]


@pytest.mark.slow
def test_a_killed_owner_shows_interrupted_and_its_run_is_taken_over(tmp_path: Path, emulator_url: str) -> None:
    args = run_args(tmp_path, write_config(tmp_path, emulator_url, concurrency=1))  # slow enough to catch live
    database = tmp_path / "data" / "tui-tts.db"
    owner = cli(*args)
    try:  # a failed check must not leave the owner running
        assert wait_until(lambda: states(database).get("done", 0) >= 3)
        # Stopped (not killed), the owner keeps its lock but cannot finish the book while the others are refused:
        # on a loaded machine it once did, and the dashboard below then took the finished run and waited for a key.
        owner.send_signal(signal.SIGSTOP)
        live = listed(tmp_path / "data")
        assert [run["state"] for run in live] == ["active"]
        refused = subprocess.run([sys.executable, "-m", "tui_tts", "rm", str(live[0]["id"]), "--yes", "--data-dir",
                                  str(tmp_path / "data")], capture_output=True, text=True, timeout=60)  # fmt: skip
        assert refused.returncode == 2 and f"PID {owner.pid}" in refused.stderr, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
        stitch = [sys.executable, "-m", "tui_tts", "stitch", "last", "-o", str(tmp_path / "x.wav"), "--data-dir",
                  str(tmp_path / "data")]  # fmt: skip
        stitched = subprocess.run(stitch, capture_output=True, text=True, timeout=60)
        assert stitched.returncode == 2 and f"PID {owner.pid}" in stitched.stderr, stitched.stderr
        dashboard, screen = in_a_terminal([arg for arg in args if arg != "--headless"])
        assert dashboard == 2, screen  # the dashboard path refuses before any screen is drawn
        assert f"PID {owner.pid} on {socket.gethostname()} since" in screen and "\x1b[?1049h" not in screen, screen
    except BaseException:
        owner.kill()
        owner.communicate(timeout=30)
        raise
    owner.send_signal(signal.SIGKILL)  # a stopped process dies of SIGKILL as a running one does
    owner.communicate(timeout=30)
    after_kill = listed(tmp_path / "data")
    assert [run["state"] for run in after_kill] == ["interrupted"]
    shown = subprocess.run([sys.executable, "-m", "tui_tts", "show", "last", "--data-dir", str(tmp_path / "data")],
                           capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    assert "(interrupted," in shown.stdout
    heir = cli(*args)  # the dead owner's lock is free: the same command takes the run over and finishes it
    _stdout, stderr = heir.communicate(timeout=240)
    assert heir.returncode == 0, stderr
    assert "resuming:" in stderr
    assert [run["state"] for run in listed(tmp_path / "data")] == ["done"]


def in_a_terminal(args: list[str]) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as stdin, stdout and stderr (so it picks the dashboard); (code, output)."""
    main, side = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "tui_tts", *args], stdin=side, stdout=side, stderr=side)
    os.close(side)
    output = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not select.select([main], [], [], 1.0)[0]:
            continue
        try:
            data = os.read(main, 4096)
        except OSError:  # the terminal closed: the process is gone
            break
        if not data:
            break
        output += data
    os.close(main)
    if process.poll() is None:  # still on screen after a minute: a failure to report, not a hang of the suite
        process.kill()
    return process.wait(timeout=60), output.decode(errors="replace")


def test_a_lock_held_by_a_sigkilled_process_is_free(tmp_path: Path) -> None:
    script = (
        "import sys, time; from pathlib import Path; from tui_tts.store.ownership import acquire; "
        "hold = acquire(Path(sys.argv[1]), 'r1'); print('held', flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    owner = run_owner(tmp_path, "r1")
    assert owner is not None and owner.pid == holder.pid and owner.host == socket.gethostname()
    assert try_acquire(tmp_path, "r1") is None
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    assert run_owner(tmp_path, "r1") is None
    taken = acquire(tmp_path, "r1")
    assert json.loads(owner_lock_path(tmp_path, "r1").read_text())["pid"] == os.getpid()
    mine = run_owner(tmp_path, "r1")
    assert mine is not None and mine.pid == os.getpid()
    taken.release()
    assert run_owner(tmp_path, "r1") is None
    assert owner_lock_path(tmp_path, "r1").read_text() == ""
