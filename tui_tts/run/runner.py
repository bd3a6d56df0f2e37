"""One run from input text to output audio: the orchestration object the headless CLI and the dashboard both drive."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tui_tts.audio.ffmpeg import Ffmpeg
from tui_tts.audio.probe import EXTENSIONS
from tui_tts.audio.stitch import StitchResult
from tui_tts.config import Settings
from tui_tts.engines.base import Engine
from tui_tts.engines.breaker import EndpointBreaker
from tui_tts.errors import InputError, RunAborted, UserError
from tui_tts.events import ChunkJobSubmitted, EventBus
from tui_tts.models import AudioFacts, Chunk, ChunkDetails, ChunkState, Document
from tui_tts.run.assemble import stitch_run
from tui_tts.run.chunk_files import audio_on_disk
from tui_tts.run.chunk_files import write_atomically as _write_atomically
from tui_tts.run.endpoint_watch import attach_endpoint_watch, check_endpoint
from tui_tts.run.job_journal import journal_path, read_jobs, record_job
from tui_tts.run.limits import ConcurrencyLimit
from tui_tts.run.preview import start_preview
from tui_tts.run.reuse import AudioKeys, SameText, link_or_copy, rekey, remake_chunk, reuse_made_audio
from tui_tts.run.scheduler import ChunkOutcome, Scheduler
from tui_tts.store import ChunkRecord, RunRecord, Store, StoreError
from tui_tts.store.ownership import RunOwnership, creation_lock
from tui_tts.store.ownership import acquire as acquire_run
from tui_tts.store.recorder import EventRecorder
from tui_tts.text.chunking import chunk_document

DATABASE_NAME = "tui-tts.db"


@dataclass(frozen=True, slots=True)
class RunPlan:
    """What a run will do, known before any synthesis starts."""

    run: RunRecord
    chunks: list[Chunk]
    todo: list[Chunk]
    attempts: dict[int, int]
    resume_jobs: dict[int, str]
    resumed: bool
    done: int
    adopted: int
    changed: tuple[str, ...] = ()  # when a new run started because settings differ from the last run of this input
    failed: frozenset[int] = frozenset()  # chunks that had failed for good before this start
    chunks_removed: bool = False  # a finished run whose chunk audio was removed (output.keep_chunks = false)
    reused: int = 0  # chunks whose audio another run (or an earlier start) had already made: linked, not paid again


@dataclass
class RunOutcome:
    """How a run ended."""

    output: StitchResult | None = None
    failed: list[int] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)  # neither done nor failed (left out of a retry-only run)
    interrupted: bool = False
    elapsed: float = 0.0


LEXICON_FILE = "lexicon_file"  # stored beside a run's settings, not part of its identity


def audio_settings(settings: Settings) -> dict[str, object]:
    """The settings that change the audio: the engine, the chunk size, and its section's fields not marked SAME_AUDIO.
    Two runs differing only elsewhere (concurrency, output, a timeout, a key) share chunks."""
    section = settings.engine_section().audio_identity()
    return {"engine": settings.engine, "max_chars": settings.run.max_chars, settings.engine: section}


def run_identity(input_bytes: bytes, settings: Settings, variant: dict[str, object] | None = None) -> tuple[str, str]:
    """(input hash, run key): the input's content hash plus every audio-affecting setting and the chapter choice."""
    input_hash = hashlib.sha256(input_bytes).hexdigest()
    blob = json.dumps({"input": input_hash, **audio_settings(settings), **(variant or {})}, sort_keys=True)
    return input_hash, hashlib.sha256(blob.encode()).hexdigest()


def settings_changes(old: dict[str, object], new: dict[str, object], prefix: str = "") -> list[str]:
    """What differs between two audio-settings dicts, as 'key: old -> new' lines."""
    changes: list[str] = []
    for key in sorted(set(old) | set(new)):
        if key == LEXICON_FILE:
            continue  # where the lexicon was read from; what it does is `lexicon`
        before, after = old.get(key), new.get(key)
        name = f"{prefix}{key}"
        if isinstance(before, dict) and isinstance(after, dict):
            changes += settings_changes(before, after, name + ".")
        elif isinstance(before, dict) or isinstance(after, dict):
            continue  # the section of an engine used on one side only: the 'engine' line says it
        elif before != after:
            changes.append(f"{name}: {before!r} -> {after!r}")
    return changes


def default_output_path(input_path: Path, format_name: str) -> Path:
    return input_path.with_suffix("." + format_name)


def check_output_path(output: Path, input_path: Path) -> None:
    """Refuse, before any work is paid for, an output that cannot be written."""
    parent = output.parent if str(output.parent) else Path(".")
    if output.resolve() == input_path.resolve():
        raise InputError(f"the output would overwrite the input: {output}")
    if output.is_dir():
        raise InputError(f"the output path is a directory: {output}")
    if output.suffix.lower() == ".epub":
        from tui_tts.run.read_along import check_read_along_input

        check_read_along_input(input_path)
    if not parent.is_dir():
        raise InputError(f"the output directory does not exist: {parent}")
    probe = parent / f".tui-tts-write-test-{os.getpid()}"
    try:  # try it for real: permissions, read-only mounts and root all answer the same way
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise InputError(f"the output directory is not writable: {parent} ({exc.strerror})") from None


class RunController:
    """Prepares, executes and stitches one run. Controls (pause, limits, stop) go through `scheduler`."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        engine: Engine,
        ffmpeg: Ffmpeg,
        data_dir: Path,
        bus: EventBus | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.engine = engine
        self.ffmpeg = ffmpeg
        self.data_dir = data_dir
        self.bus = bus or EventBus()
        self.plan: RunPlan | None = None
        self.scheduler = Scheduler(
            self._process,
            self.bus,
            limit=ConcurrencyLimit(settings.run.concurrency, settings.run.parallel),
            max_attempts=settings.run.max_attempts,
            retry_base_delay=settings.run.retry_base_delay,
            retry_max_delay=settings.run.retry_max_delay,
            breaker=EndpointBreaker(settings.run.outage_patience),
            explain_wait=engine.waiting_summary,
        )
        attach_endpoint_watch(engine, self.scheduler, self.bus)
        engine.breaker = self.scheduler.breaker  # remote engines report every answered and unanswered request to it
        self._recorder: EventRecorder | None = None
        self._resume_jobs: dict[int, str] = {}
        self._interrupted = False
        self._started = False
        self.document: Document | None = None
        self.ownership: RunOwnership | None = None  # held from prepare() until release()
        self.keys = AudioKeys(settings)  # what each chunk is read as (edit, lexicon) and its audio's key
        self.same_text = SameText()  # chunks of this run with the same key are made once

    def release(self) -> None:
        """Give up ownership of the run (the session does this when it closes)."""
        if self.ownership is not None:
            self.ownership.release()

    @property
    def store_failure(self) -> StoreError | None:
        """The database write failure that stopped the store's writer, if one did (nothing later is saved)."""
        return self.store.failure

    @property
    def chunk_dir(self) -> Path:
        assert self.plan is not None
        return self.chunk_dir_for(self.plan.run.id)

    def chunk_dir_for(self, run_id: str) -> Path:
        return self.data_dir / "runs" / run_id / "chunks"

    async def prepare(
        self,
        input_path: Path,
        input_bytes: bytes,
        document: Document,
        output: Path,
        fresh: bool = False,
        variant: dict[str, object] | None = None,
        run_id: str | None = None,
    ) -> RunPlan:
        """Find the run this input and these settings already have (unless fresh), or create it; reconcile disk.

        `variant` holds choices that change what is read (e.g. the chapters selected); they are part of the identity.
        `run_id` continues exactly that run (its identity was checked by the caller), never another.
        """
        self.document = document
        variant = {key: value for key, value in (variant or {}).items() if value}
        input_hash, run_key = run_identity(input_bytes, self.settings, variant)
        async with creation_lock(self.data_dir):  # two processes starting at once find one run, and one owner
            if run_id is not None:
                existing = await self.store.runs.get(run_id)
                if existing is None:
                    raise InputError(f"no run {run_id!r}")
            else:
                existing = None if fresh else await self.store.runs.find(run_key)
            if existing is None:
                chunks = chunk_document(document, self.settings.run.max_chars)
                if not chunks:
                    raise InputError(f"input file has no speakable text: {input_path}")
                run = RunRecord(
                    id=time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6], run_key=run_key,
                    input_path=str(input_path.resolve()), input_hash=input_hash, title=document.title,
                    engine=self.settings.engine, output_path=str(output.resolve()),
                    output_format=self.settings.output.format, state="active", total_chunks=len(chunks),
                    created_at=time.time(), finished_at=None, output_duration=None,
                )  # fmt: skip
                self.ownership = acquire_run(self.data_dir, run.id)  # owned before anyone can find it
                identity = {**audio_settings(self.settings), **variant}
                lexicon = {LEXICON_FILE: str(Path(self.keys.lexicon.origin).resolve())} if self.keys.lexicon else {}
                settings_json = json.dumps({**identity, **lexicon}, sort_keys=True)  # the file: resume reads it again
                previous = None if fresh else await self.store.runs.latest_settings_for_input(input_hash)
                changed = settings_changes(json.loads(previous[1]), identity) if previous else []
                await self.store.runs.create(run, settings_json, document, chunks)
                self.keys.edits = await self.store.edits.for_input(input_hash)
                wanted = {chunk.index: self.keys.key(chunk) for chunk in chunks}
                self.store.chunks.set_keys(run.id, wanted.items())
                reused = set() if fresh else set(await reuse_made_audio(self.store, run.id, self.chunk_dir_for(run.id),
                                                                        wanted))  # fmt: skip
                todo = [chunk for chunk in chunks if chunk.index not in reused]
                self.plan = RunPlan(run, chunks, todo, {}, {}, False, len(reused), 0, tuple(changed),
                                    reused=len(reused))  # fmt: skip
            else:
                self.ownership = acquire_run(self.data_dir, existing.id)  # or refuse: another process runs it
        if existing is not None and existing.state == "done" and not self.chunk_dir_for(existing.id).is_dir():
            # Finished, and its chunk audio removed once the output was verified: nothing to redo or to join again.
            chunks = [record.chunk for record in await self.store.chunks.load(existing.id)]
            self.plan = RunPlan(existing, chunks, [], {}, {}, True, len(chunks), 0, chunks_removed=True)
        elif existing is not None:
            self.store.runs.reopen(existing.id, str(output.resolve()), self.settings.output.format)
            run = dataclasses.replace(
                existing, output_path=str(output.resolve()), output_format=self.settings.output.format
            )
            self.plan = await self._reconcile(run, await self.store.chunks.load(existing.id))
        plan = self.plan
        assert plan is not None
        self._recorder = self.store.recorder(plan.run.id)
        self.bus.subscribe(self._recorder)
        self._resume_jobs = dict(plan.resume_jobs)
        return plan

    async def _reconcile(self, run: RunRecord, records: list[ChunkRecord]) -> RunPlan:
        """The files on disk are the truth: a done chunk without valid audio is redone; valid audio is adopted.

        A done chunk's file is checked against its record (a header and a stat, no decoding): cheap for thousands.
        """
        self.keys.edits = await self.store.edits.for_input(run.input_hash)
        remade = set(await rekey(self.store, run.id, self.chunk_dir_for(run.id), records, self.keys))
        if remade:  # edited since (by another run of this input): their old audio is set aside
            records = await self.store.chunks.load(run.id)
        found = await asyncio.to_thread(audio_on_disk, records, self.chunk_dir_for(run.id))
        todo: list[Chunk] = []
        attempts: dict[int, int] = {}
        resume_jobs: dict[int, str] = {}
        adopted: list[tuple[int, str, AudioFacts]] = []
        journal = read_jobs(journal_path(self.data_dir / "runs" / run.id))  # newer than the database, if anything
        for record in records:
            audio = found.get(record.chunk.index)
            if audio is not None:
                path, facts = audio
                if record.state != ChunkState.DONE or record.audio_path != str(path):
                    adopted.append((record.chunk.index, str(path), facts))
                continue
            todo.append(record.chunk)
            attempts[record.chunk.index] = 0 if record.state == ChunkState.FAILED else record.attempts
            # A job id survives only while its job may still deliver (it is cleared when an attempt fails).
            job_id = journal.get(record.chunk.index) or record.job_id
            if job_id and record.state != ChunkState.FAILED and record.chunk.index not in remade:
                resume_jobs[record.chunk.index] = job_id
        self.store.chunks.adopt(run.id, adopted)
        # Audio some run made is reused; a chunk with a job paid for already re-attaches it instead.
        wanted = {chunk.index: self.keys.key(chunk) for chunk in todo if chunk.index not in resume_jobs}
        reused = set(await reuse_made_audio(self.store, run.id, self.chunk_dir_for(run.id), wanted))
        todo = [chunk for chunk in todo if chunk.index not in reused]
        if todo:
            self.store.chunks.requeue(run.id, [chunk.index for chunk in todo])
        await self.store.flush()
        chunks = [record.chunk for record in records]
        pending = {chunk.index for chunk in todo}
        failed = frozenset(r.chunk.index for r in records if r.state == ChunkState.FAILED and r.chunk.index in pending)
        done = len(records) - len(todo)
        return RunPlan(run, chunks, todo, attempts, resume_jobs, True, done, len(adopted), failed=failed,
                       reused=len(reused))  # fmt: skip

    async def execute(self, stitch_output: bool = True) -> RunOutcome:
        """Synthesize what is left, then stitch when every chunk is done. Returns how it ended."""
        assert self.plan is not None, "prepare() first"
        started = time.monotonic()
        self.chunk_dir.mkdir(parents=True, exist_ok=True)
        outcome = RunOutcome()
        first_time, self._started = not self._started, True
        commits_before = self.store.commits
        try:  # before any job is paid for (and after a person said yes): a dormant, sick or silent endpoint stops
            if first_time:
                await check_endpoint(self.engine, self.settings.run.outage_patience, self.bus)
        except UserError:
            self.store.runs.set_state(self.plan.run.id, "stopped")
            await self.store.flush()
            raise
        preview = None
        if first_time and self.plan.todo:  # the growing playable book, beside the workers
            preview = await start_preview(self.store, self.ffmpeg, self.settings, self.data_dir, self.plan.run,
                                          self.plan.chunks, self.bus)  # fmt: skip
        try:  # a later call (after retry_failed) runs what was put back in the queue
            await self.scheduler.run(self.plan.todo if first_time else [], self.plan.attempts)
        finally:
            if preview is not None:
                await preview.close()
            with contextlib.suppress(StoreError):  # a broken store has aborted the run: that is what is said
                self.store.runs.record_stats(self.plan.run.id, self.execution_stats(commits_before))
                await self.store.flush()
        if self.scheduler.abort_reason:
            with contextlib.suppress(StoreError):
                self.store.runs.set_state(self.plan.run.id, "stopped")
                await self.store.flush()
            raise RunAborted(self.scheduler.abort_reason)
        if self._interrupted:
            self.store.runs.set_state(self.plan.run.id, "stopped")
            await self.store.flush()
            outcome.interrupted = True
            outcome.elapsed = time.monotonic() - started
            return outcome
        records = await self.store.chunks.load(self.plan.run.id)
        outcome.failed = [r.chunk.index for r in records if r.state == ChunkState.FAILED]
        outcome.pending = [r.chunk.index for r in records if r.state not in (ChunkState.DONE, ChunkState.FAILED)]
        if outcome.failed or outcome.pending:
            self.store.runs.set_state(self.plan.run.id, "failed")
        elif stitch_output:
            try:
                outcome.output = await self.stitch(records)
            except asyncio.CancelledError:  # the person quit during the join: every chunk is kept, join again later
                self.store.runs.set_state(self.plan.run.id, "stopped")
                await self.store.flush()
                raise
        await self.store.flush()
        outcome.elapsed = time.monotonic() - started
        return outcome

    async def stitch(self, records: list[ChunkRecord]) -> StitchResult:
        """Join every chunk's audio into the run's output file and record it."""
        assert self.plan is not None
        run = self.plan.run
        return await stitch_run(self.store, self.ffmpeg, self.settings, self.data_dir, run, records,
                                Path(run.output_path), run.output_format, self.bus, self.document)  # fmt: skip

    async def stitch_again(self) -> StitchResult:
        """Join the run's chunks again, as the store has them now (the dashboard's `s`)."""
        assert self.plan is not None
        return await self.stitch(await self.store.chunks.load(self.plan.run.id))

    def execution_stats(self, commits_before: int = 0) -> dict[str, object]:
        """Counters of this execution: store commits and rows, concurrency, and the engine's requests."""
        stats: dict[str, object] = {
            "commits": self.store.commits - commits_before,
            "rows_written": self.store.rows_written,
            "state_changes": self._recorder.state_changes if self._recorder else 0,
            "peak_in_flight": self.scheduler.peak_in_flight,
        }
        stats.update(self.engine.counters())
        return stats

    async def retry_failed(self) -> int:
        """Put every chunk that failed for good back in the queue. Returns how many."""
        assert self.plan is not None
        await self.store.flush()
        failed = [r.chunk for r in await self.store.chunks.load(self.plan.run.id) if r.state == ChunkState.FAILED]
        self.scheduler.requeue(failed)
        return len(failed)

    async def fix_chunk(self, index: int, text: str | None = None) -> Chunk:
        """Make one chunk again: a new take, or with `text` as its edited text (kept for later runs of this input).
        The finished file is joined again once the run is done (stitch on demand, or the next `execute`)."""
        assert self.plan is not None
        chunk = await remake_chunk(self.store, self.plan.run, self.chunk_dir, self.keys, index, text)
        self.same_text.forget(self.keys.key(chunk))  # a new take: never the old one shared
        if self._started:
            self.scheduler.requeue([chunk])
        else:
            todo = [c for c in self.plan.todo if c.index != index] + [chunk]
            self.plan = dataclasses.replace(self.plan, todo=todo, done=len(self.plan.chunks) - len(todo))
        return chunk

    async def chunk_details(self, index: int) -> ChunkDetails | None:
        """Everything the store knows of one chunk, with its logged events (None for no such chunk)."""
        assert self.plan is not None
        details = await self.store.chunks.details(self.plan.run.id, index)
        edited = self.keys.edits.get(details.text) if details else None
        return dataclasses.replace(details, edited=edited) if details and edited else details

    async def median_seconds_per_char(self) -> float | None:
        assert self.plan is not None
        return await self.store.chunks.median_seconds_per_char(self.plan.run.id)

    async def cancel_remote_jobs(self) -> int:
        """Ask the backend to cancel every job in flight (when the person quits and chooses to cancel)."""
        return await self.engine.cancel_in_flight()

    def interrupt(self) -> None:
        """Stop gracefully: no new dispatch, work in flight cancelled (remote jobs are re-attached on resume)."""
        self._interrupted = True
        self.scheduler.stop(cancel_in_flight=True)

    async def _process(self, chunk: Chunk, attempt: int) -> ChunkOutcome:
        spoken, key = self.keys.spoken(chunk), self.keys.key(chunk)
        resume_job = self._resume_jobs.pop(chunk.index, None)
        shared = None if resume_job else await self.same_text.made(key)  # a job already paid for is re-attached
        if shared is not None:  # another chunk of this run with the same text was just made: share its audio
            path = self.chunk_dir / f"{chunk.index:06d}{shared[0].suffix}"
            await asyncio.to_thread(link_or_copy, shared[0], path)
            return ChunkOutcome(str(path), shared[1], {})
        making, made = self.same_text.start(key), None
        try:
            sent = chunk if spoken == chunk.text else dataclasses.replace(chunk, text=spoken)
            audio = await self.engine.synthesize(sent, self, resume_job_id=resume_job)
            extension = EXTENSIONS.get(audio.facts.container, audio.facts.container)
            path = self.chunk_dir / f"{chunk.index:06d}.{extension}"
            await asyncio.to_thread(_write_atomically, path, audio.data)
            made = (path, audio.facts)
        finally:
            self.same_text.finish(key, making, made)
        return ChunkOutcome(str(path), audio.facts, audio.job_facts)

    async def job_submitted(self, chunk: Chunk, job_id: str) -> None:
        """JobListener: a remote job exists. Its id goes to the run's journal at once, in this very step of the
        event loop (nothing runs between the parsed answer and the write), then to the database as usual.
        """
        assert self.plan is not None
        record_job(journal_path(self.data_dir / "runs" / self.plan.run.id), chunk.index, job_id)
        self.bus.emit(ChunkJobSubmitted(chunk.index, job_id))
