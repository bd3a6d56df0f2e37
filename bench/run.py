"""The one benchmark entry point: `uv run python bench/run.py [--quick]`.

Prints a readable table per section, then, as its last line, one JSON object of the headline figures.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import audiobook, dashboard, faults, memory, orchestration, stitching
from bench.common import warm_bytecode


def table(title: str, rows: list[dict[str, object]], columns: list[str]) -> None:
    print(f"\n## {title}\n")
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column)
            value = "" if value is None else value
            cells.append(f"{value:.3g}" if isinstance(value, float) and not math.isnan(value) else str(value))
        print("| " + " | ".join(cells) + " |")


def machine() -> str:
    import os

    from tui_tts.audio.ffmpeg import find_ffmpeg

    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {memory_gib:.0f} GiB, Python "
            f"{platform.python_version()}, ffmpeg {find_ffmpeg().version}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small version of everything (well under a minute)")
    args = parser.parse_args()
    print(f"# tui-tts benchmarks{' (quick)' if args.quick else ''}: {machine()}")
    warm_bytecode()

    stitch_sizes = [40] if args.quick else [100, 1000, 3000]
    stitch_rows = stitching.run(stitch_sizes, pydub_limit=3000)
    table("Stitching (wall s, peak RSS MB)", stitch_rows, ["chunks", "format", "ours_wall", "ours_rss_mb", "copy_wall",
          "ours_vs_copy", "seams_wall", "seams_cpu", "seams_rss_mb", "seams_vs_ours", "pydub_wall", "pydub_rss_mb",
          "pydub_vs_ours", "pydub_vs_seams"])  # fmt: skip

    book_rows = audiobook.run(2 if args.quick else 50, 1 if args.quick else 2)
    table("M4B against one plain AAC encode of the same audio (medians)", book_rows,
          ["case", "audio_min", "wall", "cpu", "peak_rss_mb", "vs_plain_cpu", "vs_plain_wall"])  # fmt: skip

    orchestration_rows = orchestration.run(args.quick)
    columns = ["case", "makespan", "ideal", "makespan_vs_ideal", "cpu_s_per_1000", "requests_per_chunk",
               "submissions_per_chunk", "commits_per_chunk", "peak_rss_mb", "floor_cpu_s_per_1000",
               "vs_floor"]  # fmt: skip
    table("Orchestration against the emulator", orchestration_rows, columns)

    memory_rows = memory.run(args.quick)
    table("Memory against book size (local engine, whole run)", memory_rows, ["characters", "wall", "peak_rss_mb"])

    tui = dashboard.run(args.quick)
    tui_rows = [{"run": kind, **tui[kind]} for kind in ("headless", "tui")]  # type: ignore[dict-item]
    table(f"Dashboard overhead ({tui['chunks']} chunks)", tui_rows, ["run", "wall", "cpu", "peak_rss_mb"])
    print(f"\nkey-to-screen: {tui['key_to_screen_ms']}")

    fault_rows = faults.run(args.quick)
    table("Fault campaign against the emulator", fault_rows, ["case", "exit", "chunks", "submissions_per_chunk",
          "paid_twice_per_kill", "failed", "wall", "outage_lines", "limit_lines"])  # fmt: skip

    biggest = max(row["chunks"] for row in stitch_rows)  # type: ignore[type-var]
    at_biggest = [row for row in stitch_rows if row["chunks"] == biggest]
    big_case = max(
        orchestration_rows,
        key=lambda row: (row["chunks"], row["mode"] == "run", not row["faults"], -float(row["makespan"])),
    )  # type: ignore[arg-type]
    runsync = [row for row in orchestration_rows if row["mode"] == "runsync"]
    big_runsync = max(runsync, key=lambda row: row["chunks"])  # type: ignore[arg-type,return-value]
    mp3_at_biggest = [row for row in at_biggest if row["format"] == "mp3"]
    headline = {
        "stitch_vs_pydub": min(float(row.get("pydub_vs_ours", math.nan)) for row in at_biggest),  # type: ignore[arg-type]
        "stitch_vs_copy": max(float(row["ours_vs_copy"]) for row in at_biggest),  # type: ignore[arg-type]
        "stitch_peak_rss_mb": max(float(row["ours_rss_mb"]) for row in stitch_rows),  # type: ignore[arg-type]
        "seams_vs_pydub": min(float(row.get("pydub_vs_seams", math.nan)) for row in at_biggest),  # type: ignore[arg-type]
        "seams_peak_rss_mb": max(float(row["seams_rss_mb"]) for row in stitch_rows),  # type: ignore[arg-type]
        "makespan_vs_ideal": float(big_case["makespan_vs_ideal"]),  # type: ignore[arg-type]
        "orchestrator_cpu_s_per_1000": float(big_case["cpu_s_per_1000"]),  # type: ignore[arg-type]
        "commits_per_chunk": float(big_case["commits_per_chunk"]),  # type: ignore[arg-type]
        "orchestrator_vs_floor": float(big_case["vs_floor"]),  # type: ignore[arg-type]
        "runsync_cpu_s_per_1000": float(big_runsync["cpu_s_per_1000"]),  # type: ignore[arg-type]
        "runsync_vs_floor": float(big_runsync["vs_floor"]),  # type: ignore[arg-type]
        "seams_vs_plain_mp3": float(mp3_at_biggest[0]["seams_vs_ours"]),  # type: ignore[arg-type]
        "m4b_vs_plain_aac_cpu": float(book_rows[0]["vs_plain_cpu"]),  # type: ignore[arg-type]
        "requests_per_chunk": float(runsync[-1]["requests_per_chunk"]) if runsync else math.nan,  # type: ignore[arg-type]
        "peak_rss_mb": max(float(row["peak_rss_mb"]) for row in memory_rows),  # type: ignore[arg-type]
        "tui_cpu_vs_headless": float(tui["tui_cpu_vs_headless"]),  # type: ignore[arg-type]
        "key_to_screen_p95_ms": tui["key_to_screen_ms"]["p95"],  # type: ignore[index]
        "paid_twice_per_kill": max(float(row.get("paid_twice_per_kill", 0.0)) for row in fault_rows),  # type: ignore[arg-type]
        "outages_survived": sum(row["exit"] == 0 for row in fault_rows if "outage" in str(row["case"])),
    }
    print()
    print(json.dumps({key: round(value, 3) if isinstance(value, float) else value for key, value in headline.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
