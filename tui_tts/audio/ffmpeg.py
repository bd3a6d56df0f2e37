"""Finding a working ffmpeg (config path, then PATH, then the imageio-ffmpeg wheel) and running it."""

from __future__ import annotations

import asyncio
import contextvars
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from tui_tts.errors import FfmpegError

# Set in a task whose ffmpeg must yield the CPU to everything else (the playable preview beside the workers).
low_priority: contextvars.ContextVar[bool] = contextvars.ContextVar("low_priority", default=False)


@dataclass(frozen=True, slots=True)
class Ffmpeg:
    """A located, working ffmpeg binary."""

    path: str
    version: str
    source: str  # "config", "PATH" or "imageio-ffmpeg"


def find_ffmpeg(configured: str = "") -> Ffmpeg:
    """The first ffmpeg that runs, in the order users expect. Raises FfmpegError naming what was tried."""
    tried: list[str] = []
    candidates: list[tuple[str, str]] = []
    if configured:
        candidates.append((configured, "config"))
    on_path = shutil.which("ffmpeg")
    if on_path:
        candidates.append((on_path, "PATH"))
    try:
        import imageio_ffmpeg

        candidates.append((imageio_ffmpeg.get_ffmpeg_exe(), "imageio-ffmpeg"))
    except (ImportError, RuntimeError):
        tried.append("imageio-ffmpeg (no bundled binary for this platform)")
    for path, source in candidates:
        version = _version_of(path)
        if version:
            return Ffmpeg(path, version, source)
        tried.append(f"{path} ({source})")
        if source == "config":
            raise FfmpegError(f"the ffmpeg set in config does not run: {path}")
    raise FfmpegError(
        "no working ffmpeg found; install ffmpeg or set output.ffmpeg in the config (tried: "
        + ", ".join(tried or ["nothing"])
        + ")"
    )


def _version_of(path: str) -> str | None:
    try:
        result = subprocess.run([path, "-hide_banner", "-version"], capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    first = result.stdout.decode(errors="replace").splitlines()[:1]
    parts = first[0].split() if first else []
    return parts[2] if len(parts) > 2 and parts[0] == "ffmpeg" else "unknown"


async def run_ffmpeg(
    ffmpeg: Ffmpeg,
    args: list[str],
    on_progress: Callable[[float], None] | None = None,
    feed: Callable[[asyncio.StreamWriter], Awaitable[None]] | None = None,
) -> None:
    """Run ffmpeg with -progress on stdout, reporting seconds written. Raises FfmpegError with ffmpeg's last words.

    `feed`, when given, writes ffmpeg's stdin (e.g. PCM for `-i pipe:0`); an error it raises stops ffmpeg and is
    raised here, and ffmpeg dying first (a full disk) ends the feed quietly and reports ffmpeg's own error.
    """
    command = [ffmpeg.path, "-hide_banner", "-nostdin", "-loglevel", "error", "-progress", "pipe:1", "-nostats", *args]
    if feed is not None:
        command.remove("-nostdin")
    nice = shutil.which("nice") if low_priority.get() else None
    if nice:
        command = [nice, "-n", "15", *command]
    process = await asyncio.create_subprocess_exec(
        *command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.PIPE if feed else asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None and process.stderr is not None
    stderr_task = asyncio.create_task(process.stderr.read())
    feed_task = asyncio.create_task(_feed(process, feed)) if feed else None
    try:
        async for raw in process.stdout:
            line = raw.decode(errors="replace").strip()
            if on_progress and line.startswith("out_time_us="):
                value = line.partition("=")[2]
                if value.isdigit():
                    on_progress(int(value) / 1_000_000)
        code = await process.wait()
        if feed_task is not None:
            await feed_task
    except BaseException:
        if process.returncode is None:
            process.kill()
            await process.wait()
        if feed_task is not None:
            feed_task.cancel()
        raise
    stderr = (await stderr_task).decode(errors="replace").strip()
    if code != 0:
        last = stderr.splitlines()[-1] if stderr else f"exit code {code}"
        if "No space left on device" in stderr:
            raise FfmpegError(f"ffmpeg could not write the output: no space left on device ({last})")
        raise FfmpegError(f"ffmpeg failed: {last}")


async def _feed(process: asyncio.subprocess.Process, feed: Callable[[asyncio.StreamWriter], Awaitable[None]]) -> None:
    assert process.stdin is not None
    try:
        await feed(process.stdin)
        process.stdin.close()
    except (BrokenPipeError, ConnectionResetError):
        return  # ffmpeg stopped reading; its exit code and stderr say why
    except BaseException:
        if process.returncode is None:
            process.kill()
        raise


async def image_decodes(ffmpeg: Ffmpeg, path: Path) -> bool:
    """True when ffmpeg can decode the image (a cover picture) at all."""
    try:
        await run_ffmpeg(ffmpeg, ["-i", str(path), "-frames:v", "1", "-f", "null", "-"])
    except FfmpegError:
        return False
    return True
