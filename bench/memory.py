"""Peak RSS of a whole run (local engine, real speech, stitched) for a book and for one ten times larger."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.common import PYTHON, measure
from tui_tts.samples import SAMPLE


def run(quick: bool) -> list[dict[str, object]]:
    base = 2 if quick else 25  # the sample is ~2,100 characters: 25 copies make a ~52k-character book
    rows = []
    for factor in (1, 10):
        copies = base * factor
        with tempfile.TemporaryDirectory(prefix="tui-tts-bench-mem-") as folder_name:
            folder = Path(folder_name)
            source = folder / "book.txt"
            source.write_text("\n\n".join([SAMPLE.read_text(encoding="utf-8")] * copies), encoding="utf-8")
            result = measure([PYTHON, "-m", "tui_tts", "run", str(source), "--data-dir", str(folder / "data"),
                              "--format", "wav", "--headless", "--concurrency", "2"])  # fmt: skip
            if result.returncode != 0:
                raise RuntimeError(f"memory run failed: {result.stderr[-500:]}")
            rows.append({"characters": len(source.read_text(encoding="utf-8")), "wall": result.wall,
                         "peak_rss_mb": result.peak_rss_mb})  # fmt: skip
    return rows
