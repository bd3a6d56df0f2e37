"""Disk use of runs: each run's size, and `tui-tts prune` to free the chunk audio of old or surplus runs."""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from tui_tts.errors import EXIT_OK, UserError
from tui_tts.store import RunRecord
from tui_tts.store.ownership import RunOwnership, run_owner, try_acquire

DAY = 86400.0


def run_folder(data_dir: Path, run_id: str) -> Path:
    return data_dir / "runs" / run_id


def folder_bytes(folder: Path, seen: set[tuple[int, int]] | None = None) -> int:
    """What a run's folder holds on disk (chunk audio, stitch leftovers), in bytes; 0 when it is gone.

    With `seen`, a file already counted (audio one run reused from another is a hard link to the same file) is
    counted once across the calls that share it."""
    total = 0
    for path in folder.rglob("*") if folder.is_dir() else ():
        try:
            if path.is_file():
                facts = path.stat()
                if seen is not None:
                    if (facts.st_dev, facts.st_ino) in seen:
                        continue
                    seen.add((facts.st_dev, facts.st_ino))
                total += facts.st_size
        except OSError:  # removed while counting
            continue
    return total


def freed_bytes(folders: list[Path]) -> int:
    """What deleting these folders gives back: audio another run still links to (reused, not copied) stays."""
    inside: dict[tuple[int, int], list[int]] = {}  # (device, inode) -> [links seen here, size, links in all]
    for folder in folders:
        for path in folder.rglob("*") if folder.is_dir() else ():
            try:
                if path.is_file():
                    facts = path.stat()
                    entry = inside.setdefault((facts.st_dev, facts.st_ino), [0, facts.st_size, facts.st_nlink])
                    entry[0] += 1
            except OSError:  # removed while counting
                continue
    return sum(size for seen, size, links in inside.values() if seen >= links)


def megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def is_live(data_dir: Path, run: RunRecord) -> bool:
    """A run a live process owns (its owner lock is held), whatever its recorded state says."""
    return run_owner(data_dir, run.id) is not None


async def prune_command(args: argparse.Namespace) -> int:
    from tui_tts.commands.manage import opened_store

    if args.older_than is None and args.keep is None:
        raise UserError("say which runs to prune: --older-than DAYS, --keep K (the newest K stay), or both")
    async with opened_store(args) as (_settings, data_dir, store):
        runs = [run for run, _counts in await store.runs.listing()]  # newest first
        now = time.time()
        candidates = [run for position, run in enumerate(runs)
                      if (args.keep is None or position >= args.keep)
                      and (args.older_than is None or now - run.created_at >= args.older_than * DAY)]  # fmt: skip
        live = [run for run in candidates if is_live(data_dir, run)]
        chosen = [run for run in candidates if run not in live]
        kept = f"; {len(live)} live run(s) kept (a run a process is still writing is never pruned)" if live else ""
        if not chosen:
            print(f"nothing to prune{kept}")
            return EXIT_OK
        sizes = {run.id: folder_bytes(run_folder(data_dir, run.id)) for run in chosen}
        total = freed_bytes([run_folder(data_dir, run.id) for run in chosen])
        if not args.yes:
            if not sys.stdin.isatty():
                raise UserError(f"refusing to prune {len(chosen)} run(s) ({megabytes(total)}) without --yes "
                                "(there is no terminal to ask)")  # fmt: skip
            answer = input(f"prune {len(chosen)} run(s) and their chunk audio ({megabytes(total)})? [y/N] ")
            if answer.strip().lower() not in {"y", "yes"}:
                print("kept")
                return EXIT_OK
        held: list[RunOwnership] = []
        for run in chosen:  # each run is owned while it is deleted, so none can start meanwhile
            ownership = try_acquire(data_dir, run.id)
            if ownership is None:
                sizes.pop(run.id)
                continue
            held.append(ownership)
            store.runs.delete(run.id)
        await store.flush()
    total = freed_bytes([run_folder(data_dir, ownership.run_id) for ownership in held])
    for ownership in held:
        shutil.rmtree(run_folder(data_dir, ownership.run_id), ignore_errors=True)
        ownership.release()
    chosen = [run for run in chosen if run.id in sizes]
    print(f"pruned {len(chosen)} run(s), freed {megabytes(total)}; their output files were kept{kept}")
    return EXIT_OK
