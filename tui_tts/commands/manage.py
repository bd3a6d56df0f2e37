"""Run management, pueue-style: `runs`, `show`, `resume`, `retry`, `stitch` and `rm`."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tui_tts.audio.formats import FORMATS, format_of
from tui_tts.commands.interrupts import interruptible
from tui_tts.commands.overrides import assembly_overrides, with_book_flags
from tui_tts.commands.prune import folder_bytes, megabytes, run_folder
from tui_tts.config import Settings, data_dir_for
from tui_tts.engines.registry import load_settings
from tui_tts.errors import EXIT_INTERRUPTED, EXIT_OK, UserError
from tui_tts.models import Document
from tui_tts.run.assemble import missing_text
from tui_tts.run.progress import format_duration
from tui_tts.run.request import resolve_run
from tui_tts.run.runner import DATABASE_NAME
from tui_tts.store import RunRecord, Store
from tui_tts.store.ownership import acquire as acquire_run
from tui_tts.store.ownership import creation_lock, with_live_state


@asynccontextmanager
async def opened_store(args: argparse.Namespace) -> AsyncIterator[tuple[Settings, Path, Store]]:
    settings = load_settings(args.config, assembly_overrides(args))
    data_dir = data_dir_for(settings, args.data_dir)
    if not (data_dir / DATABASE_NAME).exists():
        raise UserError(f"no runs yet in {data_dir}")
    async with Store(data_dir / DATABASE_NAME) as store:
        yield settings, data_dir, store


async def runs_command(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    data_dir = data_dir_for(settings, args.data_dir)
    rows = []
    if (data_dir / DATABASE_NAME).exists():
        async with Store(data_dir / DATABASE_NAME) as store:
            rows = await store.runs.listing()
    seen: set[tuple[int, int]] = set()  # audio shared by runs (hard links) counts once, with the newest run
    listing = [{**_run_summary(with_live_state(data_dir, run), counts),
                "size_bytes": folder_bytes(run_folder(data_dir, run.id), seen)} for run, counts in rows]  # fmt: skip
    if args.json:
        print(json.dumps(listing, indent=2))
        return EXIT_OK
    if not listing:
        print("no runs yet")
        return EXIT_OK
    print(f"{'ID':<23} {'STATE':<11} {'DONE':>11} {'FAILED':>6} {'SIZE':>9}  {'CREATED':<16}  INPUT -> OUTPUT")
    for item in listing:
        done = f"{item['done']}/{item['total']}"
        size = megabytes(item["size_bytes"])
        print(f"{item['id']:<23} {item['state']:<11} {done:>11} {item['failed']:>6} {size:>9}  "
              f"{item['created']:<16}  {Path(item['input']).name} -> {item['output']}")  # fmt: skip
    total = sum(int(item["size_bytes"]) for item in listing)
    print(f"{len(listing)} run(s), {megabytes(total)} of chunk audio ('tui-tts prune' frees it)")
    return EXIT_OK


def _run_summary(run: RunRecord, counts: dict[str, int]) -> dict[str, Any]:
    return {
        "id": run.id, "state": run.state, "done": counts.get("done", 0), "failed": counts.get("failed", 0),
        "total": run.total_chunks, "created": time.strftime("%Y-%m-%d %H:%M", time.localtime(run.created_at)),
        "input": run.input_path, "output": run.output_path, "engine": run.engine, "format": run.output_format,
    }  # fmt: skip


async def show_command(args: argparse.Namespace) -> int:
    async with opened_store(args) as (_settings, data_dir, store):
        run = with_live_state(data_dir, await resolve_run(store, args.run))
        records = await store.chunks.load(run.id)
        totals = await store.chunks.totals(run.id)
        settings = await store.runs.settings(run.id)
        execution = await store.runs.last_stats(run.id)
        titles = await store.runs.section_titles(run.id)
    states: dict[str, int] = {}
    for record in records:
        states[record.state] = states.get(record.state, 0) + 1
    failures = [{"chunk": r.chunk.index + 1, "attempts": r.attempts, "error": r.last_error}
                for r in records if r.state == "failed"]  # fmt: skip
    chars = sum(len(r.chunk.text) for r in records)
    report = {
        **_run_summary(run, states), "chunks_by_state": states, "characters": chars, "settings": settings,
        "audio_seconds": round(totals.audio_seconds, 2), "spend": round(totals.spend, 6),
        "submissions": totals.submissions, "attempts": totals.attempts,
        "mean_chunk_seconds": round(totals.mean_elapsed, 3),
        "execution_seconds": round(totals.execution_ms / 1000, 2),
        "synthesis_wall_seconds": round((totals.last_finished or 0) - totals.first_started, 2)
        if totals.first_started else 0,
        "output_duration": run.output_duration, "last_execution": execution, "failures": failures,
        "missing_from_output": missing_text(records, titles) if run.output_duration else [],
    }  # fmt: skip
    if args.json:
        print(json.dumps(report, indent=2))
        return EXIT_OK
    print(f"run {run.id}  ({run.state}, engine {run.engine})")
    print(f"  input   {run.input_path}  ({chars} characters, {run.total_chunks} chunks)")
    print(
        f"  output  {run.output_path}" + (f"  ({format_duration(run.output_duration)})" if run.output_duration else "")
    )
    print("  chunks  " + ", ".join(f"{count} {state}" for state, count in sorted(states.items())))
    print(f"  audio   {format_duration(report['audio_seconds'])} made; {report['attempts']} attempts, "
          f"{report['submissions']} remote submissions, mean {report['mean_chunk_seconds']} s per chunk")  # fmt: skip
    if report["spend"]:
        print(f"  spend   ${report['spend']:.4f} for {report['execution_seconds']} s of execution")
    for failure in failures[:20]:
        print(f"  failed  chunk {failure['chunk']} after {failure['attempts']} attempt(s): {failure['error']}")
    if len(failures) > 20:
        print(f"  ... and {len(failures) - 20} more (see --json)")
    for line in report["missing_from_output"]:
        print(f"  missing from the output: {line}")
    return EXIT_OK


async def stitch_command(args: argparse.Namespace) -> int:
    from tui_tts.audio.ffmpeg import find_ffmpeg
    from tui_tts.events import EventBus
    from tui_tts.run.assemble import stitch_run
    from tui_tts.run.runner import check_output_path
    from tui_tts.run.stitch_progress import StitchPrinter

    async with opened_store(args) as (settings, data_dir, store):
        run = await resolve_run(store, args.run)
        ownership = acquire_run(data_dir, run.id, doing="; stop it first")  # held until this returns (or dies)
        output = Path(args.output) if args.output else Path(run.output_path)
        format_name = format_of(output) if args.output else run.output_format
        if format_name is None:
            raise UserError(f"the output {output} has no extension, so no format: add one")
        check_output_path(output, Path(run.input_path))
        ffmpeg = find_ffmpeg(settings.output.ffmpeg)
        records = await store.chunks.load(run.id)
        document = None
        if FORMATS[format_name].chapters:  # title, author and cover come from the book itself, when it is still there
            from tui_tts.text.loading import load_document

            try:
                document = load_document(Path(run.input_path))
            except UserError:
                document = Document(run.title, ())
            document = with_book_flags(document, args)
        bus, printer = EventBus(), StitchPrinter()
        bus.subscribe(printer)
        with interruptible() as interrupted:  # Ctrl-C or SIGTERM: ffmpeg stopped, the temp file removed, exit 130
            try:
                result = await stitch_run(store, ffmpeg, settings, data_dir, run, records, output, format_name, bus,
                                          document, allow_gaps=args.allow_gaps)  # fmt: skip
            except (asyncio.CancelledError, UserError):
                if not interrupted():
                    raise
                printer.finish()
                print(f"stopped: nothing was written to {output}", file=sys.stderr)
                return EXIT_INTERRUPTED
            finally:
                printer.finish()
        gaps = missing_text(records, await store.runs.section_titles(run.id)) if args.allow_gaps else []
    ownership.release()
    for line in gaps:
        print(f"missing: {line}", file=sys.stderr)
    left_out = f", {len(gaps)} chunk(s) left out" if gaps else ""
    print(f"wrote {result.written} ({format_duration(result.duration)}, {result.size_bytes / 1e6:.1f} MB{left_out})",
          file=sys.stderr)  # fmt: skip
    print("\n".join(str(path) for path in result.files))
    return EXIT_OK


async def rm_command(args: argparse.Namespace) -> int:
    async with opened_store(args) as (_settings, data_dir, store), creation_lock(data_dir):
        run = await resolve_run(store, args.run)
        ownership = acquire_run(data_dir, run.id, doing="; stop it first")  # never delete a live run
        try:
            folder = data_dir / "runs" / run.id
            size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0
            if not args.yes:
                if not sys.stdin.isatty():
                    raise UserError("refusing to delete without --yes (there is no terminal to ask)")
                answer = input(f"remove run {run.id} and its chunk audio ({size / 1e6:.1f} MB)? [y/N] ")
                if answer.strip().lower() not in {"y", "yes"}:
                    print("kept")
                    return EXIT_OK
            store.runs.delete(run.id)
            await store.flush()
            shutil.rmtree(folder, ignore_errors=True)
        finally:
            ownership.release()
    print(f"removed run {run.id} ({size / 1e6:.1f} MB of chunk audio); its output file, if any, was kept")
    return EXIT_OK
