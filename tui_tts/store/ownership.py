"""Who owns a run: an OS lock (flock) on `runs/<id>/owner.lock`, released by the kernel when its process dies.

One process owns a run while it synthesizes or deletes it. The lock file holds JSON naming the owner (pid, host,
since) so a refusal can say who. A lock left by a killed process is simply free: flock dies with its holder.
A data-dir-wide `create.lock` serialises find-or-create, so two processes starting the same run at once find one run.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fcntl
import json
import os
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tui_tts.errors import UserError
from tui_tts.store.records import RunRecord

OWNER_FILE = "owner.lock"
CREATE_FILE = "create.lock"
# A liveness probe holds a shared lock for microseconds; an owner trying at that instant tries again this long.
_ACQUIRE_GRACE = 0.5
_RETRY_EVERY = 0.02


@dataclass(frozen=True, slots=True)
class Owner:
    """The process holding a run: what its lock file says."""

    pid: int | None
    host: str
    since: float | None

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.since)) if self.since else "an unknown time"
        pid = f"PID {self.pid}" if self.pid is not None else "an unknown process"
        return f"{pid} on {self.host or 'an unknown host'} since {when}"


class RunOwnedError(UserError):
    """Another live process owns the run: one line naming it, exit 2."""

    def __init__(self, run_id: str, owner: Owner, doing: str = "") -> None:
        super().__init__(f"run {run_id} is in use by {owner.describe()}{doing}")
        self.run_id = run_id
        self.owner = owner


def owner_lock_path(data_dir: Path, run_id: str) -> Path:
    return data_dir / "runs" / run_id / OWNER_FILE


class RunOwnership:
    """An exclusive hold on one run, kept until `release()` or the death of this process."""

    def __init__(self, run_id: str, path: Path, handle: IO[str]) -> None:
        self.run_id = run_id
        self.path = path
        self._handle: IO[str] | None = handle

    @property
    def held(self) -> bool:
        return self._handle is not None

    def release(self) -> None:
        """Give the run up (closing the file drops the flock). Safe to call twice."""
        handle, self._handle = self._handle, None
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.truncate(0)  # a free lock names nobody
            handle.close()


def try_acquire(data_dir: Path, run_id: str) -> RunOwnership | None:
    """Take the run's lock without waiting; None when another process holds it."""
    path = owner_lock_path(data_dir, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    deadline = time.monotonic() + _ACQUIRE_GRACE
    while True:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                handle.close()
                return None
            time.sleep(_RETRY_EVERY)
        except OSError:
            handle.close()
            raise
    handle.seek(0)
    handle.truncate(0)
    handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}))
    handle.flush()
    return RunOwnership(run_id, path, handle)


def acquire(data_dir: Path, run_id: str, doing: str = "") -> RunOwnership:
    """Take the run's lock, or raise RunOwnedError naming the live process that holds it."""
    ownership = try_acquire(data_dir, run_id)
    if ownership is None:
        raise RunOwnedError(run_id, read_owner(owner_lock_path(data_dir, run_id)), doing)
    return ownership


def run_owner(data_dir: Path, run_id: str) -> Owner | None:
    """The live process that owns the run, or None when nobody does (never started, finished, or its process died).

    This is the liveness check: a run marked active whose lock is free was interrupted.
    """
    path = owner_lock_path(data_dir, run_id)
    try:
        handle = path.open("r", encoding="utf-8")
    except FileNotFoundError:
        return None
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return read_owner(path)
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return None


def read_owner(path: Path) -> Owner:
    """What a lock file says of its holder (fields unknown when it is being written or unreadable)."""
    try:
        facts = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        facts = {}
    if not isinstance(facts, dict):
        facts = {}
    pid, since = facts.get("pid"), facts.get("since")
    return Owner(pid if isinstance(pid, int) else None, str(facts.get("host") or ""),
                 float(since) if isinstance(since, (int, float)) else None)  # fmt: skip


def with_live_state(data_dir: Path, run: RunRecord) -> RunRecord:
    """The run as it truly is: 'active' in the database with a free lock means its process died ('interrupted')."""
    if run.state == "active" and run_owner(data_dir, run.id) is None:
        return dataclasses.replace(run, state="interrupted")
    return run


@contextlib.asynccontextmanager
async def creation_lock(data_dir: Path, patience: float = 60.0) -> AsyncIterator[None]:
    """Hold the data dir's find-or-create lock (waiting without blocking the event loop)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / CREATE_FILE).open("a", encoding="utf-8") as handle:
        deadline = time.monotonic() + patience
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise UserError(f"another tui-tts process kept {data_dir} busy for {patience:.0f} s") from None
                await asyncio.sleep(_RETRY_EVERY)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
