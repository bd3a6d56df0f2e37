"""Ctrl-C, SIGTERM and SIGHUP: the first stops gracefully, the second exits at once (the store is always consistent)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator

from tui_tts.errors import EXIT_INTERRUPTED


def stop_signals() -> tuple[signal.Signals, ...]:
    """Ctrl-C, SIGTERM and SIGHUP (the terminal closed), but not a SIGHUP that was ignored for us (nohup)."""
    hangup = () if signal.getsignal(signal.SIGHUP) == signal.SIG_IGN else (signal.SIGHUP,)
    return (signal.SIGINT, signal.SIGTERM, *hangup)


def install_interrupt_handler(on_first: Callable[[], None]) -> None:
    """First Ctrl-C, SIGTERM or SIGHUP: stop gracefully. Second: exit at once (the store is consistent at any
    moment)."""
    loop = asyncio.get_running_loop()
    signals = stop_signals()

    def handle() -> None:
        # From now on any signal quits at once, even after the loop closed (it then resets its handlers to the
        # defaults, and a SIGTERM would end the process with 143).
        for number in signals:
            loop.remove_signal_handler(number)
            signal.signal(number, _quit_at_once)
        on_first()  # first, so that no output problem can keep the signal from working
        _say("\nstopping: finishing up and saving state (press Ctrl-C again to quit at once)\n")

    for number in signals:
        loop.add_signal_handler(number, handle)


def _quit_at_once(_number: int, _frame: object) -> None:
    _say("\nquitting at once; the next run resumes from the last saved state\n")
    os._exit(EXIT_INTERRUPTED)


@contextlib.contextmanager
def interruptible() -> Iterator[Callable[[], bool]]:
    """Within it, the first Ctrl-C or SIGTERM cancels the current task (its cleanups run); yields "was it?"."""
    task = asyncio.current_task()
    assert task is not None
    seen = False

    def cancel() -> None:
        nonlocal seen
        seen = True
        task.cancel()

    install_interrupt_handler(cancel)
    try:
        yield lambda: seen
    finally:
        if not seen:  # back to the defaults (after a signal, the "quit at once" handler stays)
            loop = asyncio.get_running_loop()
            for number in stop_signals():
                loop.remove_signal_handler(number)


def _say(text: str) -> None:
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError):  # stderr closed or a broken pipe: the signal still works
        pass
