"""Command-line flags as a partial config, merged over the config file before validation."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tui_tts.audio.formats import format_of
from tui_tts.errors import UserError
from tui_tts.models import Document
from tui_tts.run.request import BookFlags, apply_book_flags


def run_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """CLI flags as a partial config, merged over the file before validation."""
    overrides: dict[str, Any] = {"run": {}, "output": {}}
    if getattr(args, "engine", None):
        overrides["engine"] = args.engine
    if getattr(args, "concurrency", None):
        overrides["run"]["concurrency"] = args.concurrency
    if getattr(args, "sequential", False):
        overrides["run"]["parallel"] = False
    if getattr(args, "max_chars", None):
        overrides["run"]["max_chars"] = args.max_chars
    if getattr(args, "lexicon", None):
        overrides["lexicon"] = {"path": str(Path(args.lexicon).expanduser().resolve())}
    if getattr(args, "budget", None):
        overrides["run"]["budget"] = args.budget
    output = Path(args.output) if getattr(args, "output", None) else None
    flag = getattr(args, "format", None)
    from_suffix = format_of(output) if output is not None else None
    if flag and from_suffix and from_suffix != flag:
        raise UserError(f"--format {flag} does not match the output file's extension: {output}")
    if output is not None and not from_suffix and not flag:
        raise UserError(f"the output {output} has no extension, so no format: add one, or --format")
    if flag or from_suffix:
        overrides["output"]["format"] = flag or from_suffix
    return _merge_assembly(overrides, args)


def assembly_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Flags that shape the finished file (pauses, loudness, parts), shared by `run` and `stitch`."""
    return _merge_assembly({"output": {}}, args)


def _merge_assembly(overrides: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    if getattr(args, "loudnorm", False):
        overrides["output"]["loudnorm"] = True
    if getattr(args, "part_hours", None) is not None:
        overrides["output"]["part_hours"] = args.part_hours
    if getattr(args, "captions", None):
        overrides["output"]["captions"] = args.captions
    if getattr(args, "no_seams", False):
        overrides["seams"] = {**overrides.get("seams", {}), "enabled": False}
    return overrides


def book_flags(args: argparse.Namespace) -> BookFlags:
    cover = getattr(args, "cover", None)
    return BookFlags(getattr(args, "title", None), getattr(args, "author", None), Path(cover) if cover else None)


def with_book_flags(document: Document, args: argparse.Namespace) -> Document:
    """--title, --author and --cover over what the book itself says."""
    return apply_book_flags(document, book_flags(args))
