"""Ctrl-C and SIGTERM: the first stops gracefully, the second exits at once (the store is always consistent)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable

from tui_tts.errors import EXIT_INTERRUPTED


def install_interrupt_handler(on_first: Callable[[], None]) -> None:
    """First Ctrl-C or SIGTERM: stop gracefully. Second: exit at once (the store is consistent at any moment)."""
    loop = asyncio.get_running_loop()
    count = 0

    def handle() -> None:
        nonlocal count
        count += 1
        if count == 1:
            on_first()  # first, so that no output problem can keep the signal from working
            _say("\nstopping: finishing up and saving state (press Ctrl-C again to quit at once)\n")
        else:
            _say("\nquitting at once; the next run resumes from the last saved state\n")
            os._exit(EXIT_INTERRUPTED)

    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, handle)


def _say(text: str) -> None:
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError):  # stderr closed or a broken pipe: the signal still works
        pass
