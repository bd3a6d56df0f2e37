"""An M4B audiobook (seam-aware join, AAC, chapters, cover) against one plain `ffmpeg -i book.wav -c:a aac` of the
same audio: what the audiobook costs beyond the one encode it cannot avoid."""

from __future__ import annotations

import statistics
import subprocess
import tempfile
from pathlib import Path

from bench.common import PYTHON, ROOT, Measured, measure
from bench.stitching import make_chunks


def run(minutes: float, repetitions: int) -> list[dict[str, object]]:
    from tui_tts.audio.ffmpeg import find_ffmpeg
    from tui_tts.audio.probe import probe_file

    ffmpeg = find_ffmpeg().path
    count = max(2, round(minutes * 60 / 3.2))  # chunks of about 3 s, plus the pauses between them
    with tempfile.TemporaryDirectory(prefix="tui-tts-bench-m4b-") as folder_name:
        folder = Path(folder_name)
        chunks = make_chunks(folder, count, ffmpeg)["wav"]
        listing = folder / "wav.txt"
        listing.write_text("\n".join(str(path) for path in chunks))
        cover = folder / "cover.png"
        subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=navy:s=600x600", "-frames:v", "1",
                        str(cover)], check=True)  # fmt: skip
        worker = str(ROOT / "bench" / "stitch_worker.py")
        book_wav = folder / "book.wav"  # the same audio as the M4B's: the seam-aware join, as WAV
        prepared = measure([PYTHON, worker, "seams", str(listing), str(book_wav)])
        if prepared.returncode != 0:
            raise RuntimeError(f"preparing book.wav failed: {prepared.stderr[-500:]}")
        audio_minutes = probe_file(book_wav).duration / 60
        results: dict[str, list[Measured]] = {"m4b": [], "plain": []}
        for _ in range(repetitions):  # alternated, so that both see the same load
            m4b = measure([PYTHON, worker, "m4b", str(listing), str(folder / "book.m4b"), str(cover)])
            plain = measure([ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-y", "-i", str(book_wav),
                             "-c:a", "aac", "-b:a", "64k", str(folder / "plain.m4a")])  # fmt: skip
            for name, result in (("m4b", m4b), ("plain", plain)):
                if result.returncode != 0:
                    raise RuntimeError(f"{name} failed: {result.stderr[-500:]}")
                results[name].append(result)
    rows = []
    for name, label in (("m4b", "M4B (seams, chapters, cover)"), ("plain", "plain ffmpeg AAC encode")):
        runs = results[name]
        rows.append({"case": label, "audio_min": audio_minutes, "wall": statistics.median(r.wall for r in runs),
                     "cpu": statistics.median(r.cpu for r in runs),
                     "peak_rss_mb": max(r.peak_rss_mb for r in runs)})  # fmt: skip
    rows[0]["vs_plain_cpu"] = float(rows[0]["cpu"]) / float(rows[1]["cpu"])  # type: ignore[arg-type]
    rows[0]["vs_plain_wall"] = float(rows[0]["wall"]) / float(rows[1]["wall"])  # type: ignore[arg-type]
    return rows
