"""Waiting on a condition, not a fixed sleep: a test waits as long as it must, and fails when it waits in vain."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


def within(condition: Callable[[], object], seconds: float = 60, step: float = 0.02) -> bool:
    """Poll `condition` (another process, a thread) until it holds or `seconds` pass; whether it held."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


def wait_until(condition: Callable[[], object], seconds: float = 60, step: float = 0.02, what: str = "") -> bool:
    """Like `within`, but waiting in vain is an AssertionError; True otherwise, so `assert wait_until(...)` reads."""
    if not within(condition, seconds, step):
        raise AssertionError(f"not reached within {seconds} s{': ' + what if what else ''}")
    return True


async def eventually(condition: Callable[[], object], seconds: float = 10, step: float = 0.002, what: str = "") -> None:
    """Let the event loop run until `condition` holds; AssertionError after `seconds`."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not reached within {seconds} s{': ' + what if what else ''}")
        await asyncio.sleep(step)
