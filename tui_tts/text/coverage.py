"""Coverage you can see: how much of a book's text is read, what is left out and why, and when a loss is a warning."""

from __future__ import annotations

from tui_tts.errors import InputError
from tui_tts.models import TextCoverage

LOSS_LIMIT = 0.02  # an unexplained loss above 2% of the book's text is a warning (an error with --strict-text)


def describe_coverage(coverage: TextCoverage) -> str:
    """One line: the share read, then each reason for what is left out with its size."""
    share = coverage.read / coverage.total if coverage.total else 1.0
    line = f"text: {coverage.read:,} of the book's {coverage.total:,} characters read ({share:.1%}; spaces not counted)"
    parts = [f"{reason} {size:,}" for reason, size in coverage.left_out]
    if coverage.pictures:
        parts.append(f"{coverage.pictures} page{'s' if coverage.pictures != 1 else ''} without text (pictures)")
    if coverage.unexplained:
        parts.append(f"unexplained {coverage.unexplained:,}")
    return line + (f"; left out: {', '.join(parts)}" if parts else "")


def loss_warning(coverage: TextCoverage) -> str | None:
    """A warning when more than LOSS_LIMIT of the book's text is left out for no known reason."""
    if not coverage.total or coverage.unexplained / coverage.total <= LOSS_LIMIT:
        return None
    share = coverage.unexplained / coverage.total
    return (f"{share:.1%} of the book's text ({coverage.unexplained:,} characters) is left out for no known reason; "
            "--strict-text makes this an error")  # fmt: skip


def coverage_notes(coverage: TextCoverage | None, strict: bool, name: str) -> list[tuple[str, str]]:
    """(level, message) lines for the start of a run; with `strict`, an unexplained loss raises InputError."""
    if coverage is None:
        return []
    warning = loss_warning(coverage)
    if warning and strict:
        raise InputError(f"{name}: {warning.partition('; ')[0]} (--strict-text)")
    notes = [("info", describe_coverage(coverage))]
    if warning:
        notes.append(("warning", warning))
    return notes
