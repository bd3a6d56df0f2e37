"""The last lines a run prints, and its exit code: the same words whether it ran headless or in the dashboard."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO

from tui_tts.errors import EXIT_CHUNKS_FAILED, EXIT_INTERRUPTED, EXIT_OK
from tui_tts.run.progress import format_duration
from tui_tts.run.runner import RunOutcome


@dataclass(frozen=True, slots=True)
class ClosingLines:
    """What to tell the person on stderr, what scripts read on stdout (the files written), and the exit code."""

    exit_code: int
    stderr: list[str] = field(default_factory=list)
    stdout: list[str] = field(default_factory=list)

    def print(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        """Write the lines; a closed terminal or pipe (the window was closed) is not an error worth a traceback."""
        for stream, lines in ((err or sys.stderr, self.stderr), (out or sys.stdout, self.stdout)):
            try:
                for line in lines:
                    stream.write(line + "\n")
                stream.flush()
            except (OSError, ValueError):  # EIO or EPIPE on a gone terminal; ValueError on a closed file object
                continue


def closing_lines(outcome: RunOutcome, done: int, total: int, run_id: str) -> ClosingLines:
    """The lines for how a run ended: written (path, duration, size), stopped (resume hint), or failed chunks."""
    if outcome.interrupted:
        return ClosingLines(
            EXIT_INTERRUPTED, [f"stopped: {done}/{total} done and saved; run the same command to resume"]
        )
    if outcome.failed:
        return ClosingLines(EXIT_CHUNKS_FAILED, [
            f"{len(outcome.failed)} chunk(s) failed for good; the rest is saved. Run the same command (or "
            f"'tui-tts retry {run_id}') to retry them."
        ])  # fmt: skip
    if outcome.pending:
        return ClosingLines(EXIT_CHUNKS_FAILED, [
            f"{len(outcome.pending)} chunk(s) are still to do: 'tui-tts resume {run_id}'"
        ])  # fmt: skip
    if outcome.output is None:
        return ClosingLines(EXIT_OK)
    result = outcome.output
    how = "stream copy" if result.copied else "one encode"
    if result.path.suffix.lower() == ".epub":  # a narrated EPUB: its chapters' audio, one encode each
        how = "one encode per chapter"
    wrote = (f"wrote {result.written} ({format_duration(result.duration)} of audio, {result.size_bytes / 1e6:.1f} MB, "
             f"{how}) in {outcome.elapsed:.1f} s")  # fmt: skip
    return ClosingLines(EXIT_OK, [wrote], [str(path) for path in result.files])


def error_lines(message: str, exit_code: int) -> ClosingLines:
    """A run that ended on an error: one line, no traceback."""
    return ClosingLines(exit_code, [f"tui-tts: error: {message}"])
