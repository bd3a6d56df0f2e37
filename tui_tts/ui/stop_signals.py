"""Signals that end the dashboard (SIGTERM, SIGHUP, SIGINT) routed to its graceful stop, and a closed terminal.

Textual leaves these signals at their defaults, which kill the process with the terminal still in the alternate
screen. Handled on the event loop instead, they stop the run like `q` does, and Textual's driver restores the screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import termios
from collections.abc import Callable
from queue import Empty, Full

from textual.driver import Driver
from textual.drivers._writer_thread import WriterThread

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)  # kill, a closed terminal, kill -INT


def install_stop_signals(on_stop: Callable[[], None], on_hangup: Callable[[], None]) -> None:
    """Route the stop signals to the app; SIGHUP separately, as the terminal may be gone."""
    loop = asyncio.get_running_loop()
    for number in STOP_SIGNALS:
        try:
            loop.add_signal_handler(number, on_hangup if number == signal.SIGHUP else on_stop)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread (Pilot tests), or no signals
            return


def remove_stop_signals() -> None:
    loop = asyncio.get_running_loop()
    for number in STOP_SIGNALS:
        try:
            loop.remove_signal_handler(number)
        except (NotImplementedError, RuntimeError, ValueError):
            return


def terminal_gone() -> bool:
    """True when the controlling terminal has hung up (its window closed): asking it anything fails."""
    try:
        termios.tcgetattr(sys.__stdin__.fileno() if sys.__stdin__ else 0)
    except (OSError, termios.error, ValueError):
        return True
    return False


def detach_from_gone_terminal(driver: Driver | None) -> None:
    """Send what Textual still writes to /dev/null. A write to a hung-up terminal fails and kills Textual's writer
    thread (now, or a moment later: it may be inside such a write), and the next writes would then block the exit
    for ever on its full queue. So the driver always gets a fresh writer, and the old one is let go."""
    null = os.open(os.devnull, os.O_RDWR)
    for descriptor in (0, 1, 2):
        os.dup2(null, descriptor)
    os.close(null)
    old = getattr(driver, "_writer_thread", None)
    if not isinstance(old, WriterThread):
        return
    fresh = WriterThread(sys.__stderr__)  # type: ignore[arg-type]  # its descriptor is /dev/null now
    fresh.start()
    setattr(driver, "_writer_thread", fresh)  # noqa: B010 (Textual keeps it private; no public way to swap it)
    _let_go(old)


def _let_go(writer: WriterThread) -> None:
    """Empty a writer's queue and ask it to end, without waiting: whether alive or dead, it blocks nobody."""
    queue = writer._queue
    with contextlib.suppress(Empty):
        while True:
            queue.get_nowait()
    with contextlib.suppress(Full):
        queue.put_nowait(None)
