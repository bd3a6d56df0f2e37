"""M4B audiobooks: chapter markers at the real chunk boundaries, title, author and cover, verified after muxing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tui_tts.errors import FfmpegError

CHAPTER_TOLERANCE = 0.05  # seconds


@dataclass(frozen=True)
class BookMetadata:
    """What an audiobook file carries besides its audio."""

    title: str
    author: str = ""
    cover: bytes | None = field(default=None, repr=False)
    chapters: tuple[tuple[str, int], ...] = ()  # (title, index of the chapter's first chunk), in order
    part: tuple[int, int] | None = None  # (number, count) when a long book is split into parts


def chapter_heads(sections: Sequence[int], titles: Sequence[str]) -> list[tuple[str, int]]:
    """A chapter starts at the first chunk of each new section."""
    heads: list[tuple[str, int]] = []
    previous = None
    for number, section in enumerate(sections):
        if section != previous:
            heads.append((titles[section] if section < len(titles) else f"Chapter {section + 1}", number))
            previous = section
    return heads


def timed_chapters(book: BookMetadata, starts: Sequence[float]) -> list[tuple[str, float]]:
    """(title, start in seconds) per chapter, from where each chunk starts in the output; the first starts at 0."""
    return [(title, 0.0 if number == 0 else starts[first]) for number, (title, first) in enumerate(book.chapters)]


def _escape(value: str) -> str:
    """ffmetadata escaping: '=', ';', '#', '\\' and newlines get a backslash."""
    for char in ("\\", "=", ";", "#", "\n"):
        value = value.replace(char, "\\" + char)
    return value


def write_ffmetadata(
    path: Path, book: BookMetadata, chapters: Sequence[tuple[str, float]], total_seconds: float
) -> None:
    """;FFMETADATA1 with global tags and one [CHAPTER] per chapter (TIMEBASE first: ffmpeg's reader insists)."""
    title = f"{book.title} (Part {book.part[0]} of {book.part[1]})" if book.part else book.title
    lines = [";FFMETADATA1", f"title={_escape(title)}", f"album={_escape(book.title)}", "genre=Audiobook"]
    if book.part:
        lines.append(f"track={book.part[0]}/{book.part[1]}")
    if book.author:
        lines += [f"artist={_escape(book.author)}", f"album_artist={_escape(book.author)}"]
    starts = [start for _, start in chapters] + [total_seconds]
    for (title, start), end in zip(chapters, starts[1:], strict=True):
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={round(start * 1000)}", f"END={round(end * 1000)}",
                  f"title={_escape(title)}"]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")


def cover_file(work_dir: Path, cover: bytes) -> Path:
    extension = "png" if cover.startswith(b"\x89PNG") else "jpg"
    path = work_dir / f"cover.{extension}"
    path.write_bytes(cover)
    return path


def m4b_arguments(audio_input: list[str], metadata_path: Path, cover: Path | None, audio_codec: list[str]) -> list[str]:
    """Inputs and mapping for an MP4 audiobook: audio, then chapters and tags, then an attached cover picture."""
    args = [*audio_input, "-f", "ffmetadata", "-i", str(metadata_path)]
    if cover is not None:
        args += ["-i", str(cover)]
    args += ["-map", "0:a", "-map_metadata", "1", "-map_chapters", "1", *audio_codec]
    if cover is not None:
        args += ["-map", "2:v", "-c:v", "copy", "-disposition:v:0", "attached_pic"]
    return [*args, "-movflags", "+faststart", "-f", "mp4"]


def verify_m4b(path: Path, book: BookMetadata, expected: Sequence[tuple[str, float]]) -> None:
    """Chapters read back (titles, and times within 50 ms), and the cover is there when one was given."""
    from mutagen.mp4 import MP4

    try:
        audio = MP4(path)  # type: ignore[no-untyped-call]
    except Exception as exc:  # mutagen raises several kinds for a broken file
        raise FfmpegError(f"the M4B does not read back: {exc}") from None
    chapters = list(audio.chapters or [])
    if len(chapters) != len(expected):
        raise FfmpegError(f"the M4B has {len(chapters)} chapters, expected {len(expected)}")
    for found, (title, start) in zip(chapters, expected, strict=True):
        if found.title != title or abs(found.start - start) > CHAPTER_TOLERANCE:
            raise FfmpegError(
                f"M4B chapter {found.title!r} at {found.start:.3f} s, expected {title!r} at {start:.3f} s"
            )
    if book.cover and not (audio.tags and audio.tags.get("covr")):
        raise FfmpegError("the M4B has no cover picture")
