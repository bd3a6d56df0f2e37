"""What a front end asks of a run, as one frozen, typed object: the command line builds it, `open_session` takes it."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui_tts.errors import UserError
from tui_tts.models import Document
from tui_tts.store import RunRecord, Store


@dataclass(frozen=True, slots=True)
class BookFlags:
    """Tags for the finished file over what the book itself says (--title, --author, --cover)."""

    title: str | None = None
    author: str | None = None
    cover: Path | None = None


@dataclass(frozen=True, slots=True)
class RunRequest:
    """A run to start or continue.

    `overrides` is a partial config merged over the config file (flags such as --engine or --concurrency).
    With `resume` set, the run named by it (an id, a unique prefix or 'last') is continued with the settings stored
    for it: `input`, `chapters`, `front_matter` and `detect_chapters` are then taken from the run, never from here.
    """

    input: Path | None = None
    output: Path | None = None
    config: str | None = None
    data_dir: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    chapters: str = ""
    front_matter: bool = False
    book: BookFlags = BookFlags()
    fresh: bool = False
    yes: bool = False  # a paid run may start without asking
    resume: str | None = None
    only_failed: bool = False  # redo only the chunks that had failed for good
    detect_chapters: bool = True  # plain text: chapter headings become chapters (--no-chapters turns it off)
    strict_text: bool = False  # an unexplained loss of the book's text is an error, not a warning
    voice: str | None = None  # --voice: the voice of whichever engine the run uses
    redo: int | None = None  # `redo RUN CHUNK`: make this chunk (0-based) of the resumed run again ...
    redo_text: str | None = None  # ... reading this text instead (an edit kept for later runs of the input)


def apply_book_flags(document: Document, flags: BookFlags) -> Document:
    """--title, --author and --cover over what the book itself says."""
    if flags.title is not None and not flags.title.strip():
        raise UserError("--title must not be empty")
    image = read_cover(flags.cover) if flags.cover else document.cover
    author = document.author if flags.author is None else flags.author
    return dataclasses.replace(document, title=flags.title or document.title, author=author, cover=image)


def read_cover(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise UserError(f"--cover is a directory, not an image: {path}") from None
    except OSError as exc:
        raise UserError(f"cannot read the cover image {path}: {exc.strerror}") from None
    if not (data.startswith(b"\xff\xd8\xff") or data.startswith(b"\x89PNG\r\n\x1a\n")):
        raise UserError(f"the cover must be a JPEG or PNG image: {path}")
    return data


async def resolve_run(store: Store, reference: str) -> RunRecord:
    """A run by id, unique id prefix, or 'last'."""
    if reference in {"last", "latest"}:
        runs = await store.runs.listing()
        if not runs:
            raise UserError("no runs yet")
        return runs[0][0]
    matches = await store.runs.with_prefix(reference)
    exact = [run for run in matches if run.id == reference]
    if exact:
        return exact[0]
    if not matches:
        raise UserError(f"no run matches {reference!r} (see 'tui-tts runs')")
    if len(matches) > 1:
        raise UserError(f"{reference!r} matches {len(matches)} runs; give more of the id")
    return matches[0]
