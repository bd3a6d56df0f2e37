"""The output formats tui-tts can write: the one list that the config, the flags, `run` and `stitch` all read."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tui_tts.errors import UserError

FormatName = Literal["mp3", "opus", "flac", "wav", "m4b", "m4a", "epub"]
FORMAT_NAMES: tuple[FormatName, ...] = typing.get_args(FormatName)
EXTENSION_ALIASES: dict[str, FormatName] = {"ogg": "opus"}


@dataclass(frozen=True, slots=True)
class FormatSpec:
    """How ffmpeg writes one format."""

    name: FormatName
    muxer: str
    copyable: frozenset[str]  # chunk codecs that can be stream-copied into this format
    encode: tuple[str, ...]  # ffmpeg codec arguments for the encode path; "{bitrate}" is filled in
    extra: tuple[str, ...] = ()
    chapters: bool = False  # an MP4 with chapters, tags and a cover (audiobook)
    read_along: bool = False  # a copy of the EPUB input with narration: AAC in MP4 per chapter, SMIL overlays


# Separately encoded AAC chunks each carry their own priming: an MP4 is always one encode.
_AAC = ("-c:a", "aac", "-b:a", "{bitrate}")
FORMATS: dict[str, FormatSpec] = {
    "mp3": FormatSpec("mp3", "mp3", frozenset({"mp3"}), ("-c:a", "libmp3lame", "-b:a", "{bitrate}")),
    "opus": FormatSpec("opus", "ogg", frozenset(), ("-c:a", "libopus", "-b:a", "{bitrate}")),
    "flac": FormatSpec("flac", "flac", frozenset({"flac"}), ("-c:a", "flac")),
    "wav": FormatSpec(
        "wav", "wav", frozenset({"pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_u8"}),
        ("-c:a", "pcm_s16le"), ("-rf64", "auto"),
    ),
    "m4b": FormatSpec("m4b", "mp4", frozenset(), _AAC, ("-movflags", "+faststart"), chapters=True),
    "m4a": FormatSpec("m4a", "mp4", frozenset(), _AAC, ("-movflags", "+faststart"), chapters=True),
    "epub": FormatSpec("epub", "mp4", frozenset(), _AAC, ("-movflags", "+faststart"), read_along=True),
}  # fmt: skip
assert tuple(FORMATS) == FORMAT_NAMES


def known_extensions() -> str:
    """'.mp3, .opus (or .ogg), ...' for messages."""
    aliases = {name: alias for alias, name in EXTENSION_ALIASES.items()}
    return ", ".join(f".{name}" + (f" (or .{aliases[name]})" if name in aliases else "") for name in FORMAT_NAMES)


def format_of(path: Path) -> FormatName | None:
    """The format an output path's extension names; None when it has no extension. Unknown ones are refused."""
    suffix = path.suffix.lower().lstrip(".")
    if not suffix:
        return None
    for name in FORMAT_NAMES:
        if suffix == name:
            return name
    if suffix in EXTENSION_ALIASES:
        return EXTENSION_ALIASES[suffix]
    raise UserError(f"cannot write .{suffix} files ({path}); use one of {known_extensions()}")
