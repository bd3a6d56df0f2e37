"""Command-line flags as a partial config, merged over the config file before validation."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tui_tts.errors import UserError

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
    return overrides
