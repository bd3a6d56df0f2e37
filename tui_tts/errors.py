"""Errors a user can act on, each mapped to one line of text and an exit code."""

from __future__ import annotations

EXIT_OK = 0
EXIT_CHUNKS_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UserError(Exception):
    """A problem with the user's input, config or environment: one line, no traceback."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(UserError):
    """The config file is missing, unreadable or invalid."""


class InputError(UserError):
    """The input text cannot be used (missing, empty, binary, undecodable)."""


class FfmpegError(UserError):
    """ffmpeg is missing, or it failed to produce a valid output."""


class RunAborted(UserError):
    """The run stopped for a reason retrying will not fix (bad API key, missing endpoint, full disk): exit 2."""


class StoreError(Exception):
    """The database cannot be opened or written (locked for too long, disk full, newer schema)."""
