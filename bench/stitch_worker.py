"""One stitching method over a list of chunk files, in a process of its own: ours (plain or seamed), pydub, a copy."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path


def ours(paths: list[Path], output: Path, work: Path, seamed: bool = False) -> None:
    """The concat demuxer join, or (seamed) the seam-aware join: every chunk decoded, trimmed, paused, one encode."""
    from tui_tts.audio.ffmpeg import find_ffmpeg
    from tui_tts.audio.probe import probe_file
    from tui_tts.audio.seams import Pauses, plan_seams
    from tui_tts.audio.stitch import ChunkAudio, stitch

    pieces = [ChunkAudio(path, probe_file(path)) for path in paths]
    format_name = output.suffix.lstrip(".")
    # A paragraph every five chunks, a chapter every hundred: every kind of boundary is exercised.
    plan = plan_seams([n // 100 for n in range(len(paths))], [n % 5 == 4 for n in range(len(paths))], Pauses())
    asyncio.run(stitch(find_ffmpeg(), pieces, output, format_name, "64k", work, seams=plan if seamed else None))


def audiobook(paths: list[Path], output: Path, work: Path, cover: Path) -> None:
    """The M4B path of `tui-tts run -o book.m4b`: the seam-aware join into AAC, chapters every 20 chunks, a cover."""
    from tui_tts.audio.ffmpeg import find_ffmpeg
    from tui_tts.audio.m4b import BookMetadata, chapter_heads
    from tui_tts.audio.probe import probe_file
    from tui_tts.audio.seams import Pauses, plan_seams
    from tui_tts.audio.stitch import ChunkAudio, stitch

    pieces = [ChunkAudio(path, probe_file(path)) for path in paths]
    sections = [n // 20 for n in range(len(paths))]
    plan = plan_seams(sections, [n % 5 == 4 for n in range(len(paths))], Pauses())
    titles = [f"Chapter {n + 1}" for n in range(sections[-1] + 1)]
    book = BookMetadata("Bench Book", "Bench Author", cover.read_bytes(), tuple(chapter_heads(sections, titles)))
    asyncio.run(stitch(find_ffmpeg(), pieces, output, "m4b", "64k", work, book=book, seams=plan))


def pydub_way(paths: list[Path], output: Path) -> None:
    """The old code path: decode every chunk into memory, `+=` them, export."""
    import imageio_ffmpeg
    from pydub import AudioSegment

    AudioSegment.converter = imageio_ffmpeg.get_ffmpeg_exe()
    combined = AudioSegment.empty()
    for path in paths:
        kind = path.suffix.lstrip(".")  # naming the codec skips ffprobe, which the bundled ffmpeg lacks
        combined += AudioSegment.from_file(path, format=kind, codec=None if kind == "wav" else kind)
    combined.export(output, format=output.suffix.lstrip("."), bitrate="64k")


def byte_copy(paths: list[Path], output: Path) -> None:
    """The floor: the same bytes copied into one file (not valid audio for WAV; a speed reference only)."""
    with output.open("wb") as sink:
        for path in paths:
            with path.open("rb") as source:
                shutil.copyfileobj(source, sink)


def main() -> None:
    method, list_file, output = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    paths = [Path(line) for line in list_file.read_text().splitlines() if line]
    if method in ("ours", "seams"):
        ours(paths, output, output.parent / f"work-{output.stem}", seamed=method == "seams")
    elif method == "m4b":
        audiobook(paths, output, output.parent / f"work-{output.stem}", Path(sys.argv[4]))
    elif method == "pydub":
        pydub_way(paths, output)
    else:
        byte_copy(paths, output)


if __name__ == "__main__":
    main()
