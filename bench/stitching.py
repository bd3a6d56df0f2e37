"""Stitching N chunk files of about 3 s: ours (concat demuxer; seam-aware) against pydub in memory and a byte copy."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.common import PYTHON, ROOT, Measured, measure

PYDUB_TIMEOUT = 900.0


def make_chunks(folder: Path, count: int, ffmpeg: str) -> dict[str, list[Path]]:
    """N WAV (24 kHz mono) and N MP3 chunks of about 3 s; a few distinct tones, copied N times."""
    variants: dict[str, list[Path]] = {"wav": [], "mp3": []}
    for number in range(5):
        tone = folder / f"tone{number}.wav"
        subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i",
                        f"sine=frequency={300 + 60 * number}:duration={2.8 + 0.1 * number}", "-ar", "24000", "-ac",
                        "1", str(tone)], check=True)  # fmt: skip
        mp3 = tone.with_suffix(".mp3")
        subprocess.run([ffmpeg, "-v", "error", "-y", "-i", str(tone), "-b:a", "64k", str(mp3)], check=True)
        variants["wav"].append(tone)
        variants["mp3"].append(mp3)
    chunks: dict[str, list[Path]] = {"wav": [], "mp3": []}
    for kind, sources in variants.items():
        target = folder / kind
        target.mkdir()
        for index in range(count):
            path = target / f"{index:06d}.{kind}"
            shutil.copyfile(sources[index % len(sources)], path)
            chunks[kind].append(path)
    return chunks


def run(sizes: list[int], pydub_limit: int) -> list[dict[str, object]]:
    from tui_tts.audio.ffmpeg import find_ffmpeg

    ffmpeg = find_ffmpeg().path
    rows: list[dict[str, object]] = []
    for count in sizes:
        with tempfile.TemporaryDirectory(prefix="tui-tts-bench-stitch-") as folder_name:
            folder = Path(folder_name)
            chunks = make_chunks(folder, count, ffmpeg)
            for kind in ("wav", "mp3"):
                listing = folder / f"{kind}.txt"
                listing.write_text("\n".join(str(p) for p in chunks[kind]))
                results: dict[str, Measured | None] = {}
                for method in ("ours", "seams", "copy", "pydub"):
                    if method == "pydub" and count > pydub_limit:
                        results[method] = None
                        continue
                    output = folder / f"out-{method}-{kind}.{kind}"
                    script = str(ROOT / "bench" / "stitch_worker.py")
                    timeout = PYDUB_TIMEOUT if method == "pydub" else 600
                    result = measure([PYTHON, script, method, str(listing), str(output)], timeout=timeout)
                    if result.returncode not in (0, -9):
                        raise RuntimeError(f"stitch method {method} failed: {result.stderr[-500:]}")
                    results[method] = result
                    output.unlink(missing_ok=True)
                rows.append(_row(count, kind, results))
    return rows


def _row(count: int, kind: str, results: dict[str, Measured | None]) -> dict[str, object]:
    ours, seams, copy, pydub = results["ours"], results["seams"], results["copy"], results["pydub"]
    assert ours is not None and seams is not None and copy is not None
    row: dict[str, object] = {
        "chunks": count, "format": kind, "ours_wall": ours.wall, "ours_cpu": ours.cpu, "ours_rss_mb": ours.peak_rss_mb,
        "copy_wall": copy.wall, "ours_vs_copy": ours.wall / copy.wall if copy.wall else None,
        "seams_wall": seams.wall, "seams_cpu": seams.cpu, "seams_rss_mb": seams.peak_rss_mb,
        "seams_vs_ours": seams.wall / ours.wall,
    }  # fmt: skip
    if pydub is not None:
        timed_out = pydub.returncode == -9
        row.update(pydub_wall=pydub.wall, pydub_cpu=pydub.cpu, pydub_rss_mb=pydub.peak_rss_mb,
                   pydub_timed_out=timed_out, pydub_vs_ours=pydub.wall / ours.wall,
                   pydub_vs_seams=pydub.wall / seams.wall)  # fmt: skip
    return row
