"""Standard output and error that a closed pipe cannot break: `tui-tts runs | head -1` and `run ... | head -1`.

The first failed write sends the rest of that stream to /dev/null. The run goes on, signals still reach it, and no
traceback is printed into the broken pipe.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sys
from typing import TextIO


class PipeSafeStream(io.TextIOBase):
    """Wraps a text stream; a write or flush into a closed pipe silences the stream instead of raising."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self._stream = stream
        self.closed_pipe = False

    def write(self, text: str) -> int:
        if self.closed_pipe:
            return len(text)
        try:
            return self._stream.write(text)
        except (BrokenPipeError, ConnectionResetError):
            self._silence()
            return len(text)
        except OSError as exc:  # EIO: the terminal hung up (its window closed); the run goes on to its stop
            if exc.errno != errno.EIO:
                raise
            self._silence()
            return len(text)

    def flush(self) -> None:
        if self.closed_pipe:
            return
        try:
            self._stream.flush()
        except (BrokenPipeError, ConnectionResetError):
            self._silence()
        except OSError as exc:
            if exc.errno != errno.EIO:
                raise
            self._silence()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._stream.encoding

    def writable(self) -> bool:
        return True

    def __getattr__(self, name: str) -> object:  # buffer, errors, ...: as the wrapped stream has them
        return getattr(self._stream, name)

    def _silence(self) -> None:
        """From now on this stream's descriptor is /dev/null, so the exit-time flush cannot fail either."""
        self.closed_pipe = True
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)


def protect_standard_streams() -> None:
    """Make sys.stdout and sys.stderr pipe-safe (idempotent)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, PipeSafeStream):
            setattr(sys, name, PipeSafeStream(stream))
