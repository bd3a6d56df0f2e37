"""The per-run job journal: each remote job id is appended with one os.write the moment its answer is parsed.

A kill -9 cannot lose a line once os.write has returned (the kernel holds it), and nothing else runs between the
/run answer and the write, so a restart re-attaches to every job whose answer this process had read. The database
gets the same id through the usual batched writer; at reconcile the journal's newest id per chunk wins.
"""

from __future__ import annotations

import os
from pathlib import Path

JOURNAL_NAME = "jobs.journal"
NO_JOB = "-"  # written for a chunk to be made anew: its earlier job must not be re-attached


def journal_path(run_dir: Path) -> Path:
    return run_dir / JOURNAL_NAME


def record_job(path: Path, index: int, job_id: str) -> None:
    """Append 'index<TAB>job_id' in one write (O_APPEND: whole lines, even if two runs shared the file)."""
    line = f"{index}\t{job_id}\n".encode()
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, line)
    finally:
        os.close(descriptor)


def read_jobs(path: Path) -> dict[int, str]:
    """The newest job id per chunk index (none after a NO_JOB line); a torn or foreign line is skipped. Empty if
    there is no journal."""
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return {}
    jobs: dict[int, str] = {}
    for line in text.split("\n")[:-1]:  # the part after the last newline is a write cut short, if anything
        index, tab, job_id = line.partition("\t")
        if tab and index.isdigit() and job_id == NO_JOB:
            jobs.pop(int(index), None)
        elif tab and index.isdigit() and job_id and "\t" not in job_id:
            jobs[int(index)] = job_id
    return jobs
