"""Command-line flags as a partial config, merged over the config file before validation."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from tui_tts.errors import UserError
from tui_tts.models import Document

AUDIO_FORMATS = ("mp3", "opus", "flac", "wav", "m4b")


def run_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """CLI flags as a partial config, merged over the file before validation."""
    overrides: dict[str, Any] = {"run": {}, "output": {}}
    for key, value in getattr(args, "settings_overrides", {}).items():
        overrides[key] = {**overrides.get(key, {}), **value} if isinstance(value, dict) else value
    if args.engine:
        overrides["engine"] = args.engine
    if args.concurrency:
        overrides["run"]["concurrency"] = args.concurrency
    if args.sequential:
        overrides["run"]["parallel"] = False
    if args.max_chars:
        overrides["run"]["max_chars"] = args.max_chars
    from_suffix = Path(args.output).suffix.lower().lstrip(".") if args.output else ""
    from_suffix = {"ogg": "opus"}.get(from_suffix, from_suffix)
    if args.format and from_suffix in AUDIO_FORMATS and from_suffix != args.format:
        raise UserError(f"--format {args.format} does not match the output file's extension: {args.output}")
    if args.format or from_suffix in AUDIO_FORMATS:
        overrides["output"]["format"] = args.format or from_suffix
    return _merge_assembly(overrides, args)


def assembly_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Flags that shape the finished file (pauses, loudness, parts), shared by `run` and `stitch`."""
    return _merge_assembly({"output": {}}, args)


def _merge_assembly(overrides: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    if getattr(args, "loudnorm", False):
        overrides["output"]["loudnorm"] = True
    if getattr(args, "part_hours", None) is not None:
        overrides["output"]["part_hours"] = args.part_hours
    if getattr(args, "no_seams", False):
        overrides["seams"] = {**overrides.get("seams", {}), "enabled": False}
    return overrides


def with_book_flags(document: Document, args: argparse.Namespace) -> Document:
    """--title, --author and --cover over what the book itself says."""
    title, author, cover = getattr(args, "title", None), getattr(args, "author", None), getattr(args, "cover", None)
    if title is not None and not title.strip():
        raise UserError("--title must not be empty")
    image = read_cover(Path(cover)) if cover else document.cover
    return dataclasses.replace(document, title=title or document.title,
                               author=document.author if author is None else author, cover=image)  # fmt: skip


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
