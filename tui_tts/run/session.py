"""The one factory, from a RunRequest to a prepared run, and the run policy both front ends share.

Policy: which run to continue and with which stored settings, retry-only, and whether a paid run must be confirmed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui_tts.audio.ffmpeg import find_ffmpeg
from tui_tts.config import Settings, data_dir_for, resolve_config_path
from tui_tts.engines.registry import build_engine, engine_spec, load_settings
from tui_tts.errors import UserError
from tui_tts.events import EventBus
from tui_tts.models import Document
from tui_tts.run.budget import attach_budget
from tui_tts.run.cost import CostEstimate, estimate_cost
from tui_tts.run.language import check_voice, voice_named, with_voice
from tui_tts.run.progress import RunStats
from tui_tts.run.request import RunRequest, apply_book_flags, resolve_run
from tui_tts.run.runner import (
    DATABASE_NAME,
    LEXICON_FILE,
    RunController,
    RunPlan,
    audio_settings,
    check_output_path,
    default_output_path,
    run_identity,
    settings_changes,
)
from tui_tts.store import RunRecord, Store
from tui_tts.text.coverage import coverage_notes
from tui_tts.text.lexicon import Lexicon, configured_lexicon
from tui_tts.text.loading import load_document, read_input_bytes, select_chapters


@dataclass
class Session:
    """Everything a run needs, built once and handed to the headless driver or the dashboard."""

    settings: Settings
    input_path: Path
    document: Document
    controller: RunController
    plan: RunPlan
    stats: RunStats
    bus: EventBus
    request: RunRequest = field(default_factory=RunRequest)  # what was asked (for policy: --yes, retry-only)
    nothing_to_do: str | None = None  # why there is no work (a retry of a run without failed chunks)
    text_notes: list[tuple[str, str]] = field(default_factory=list)  # (level, line): how much of the book is read
    notices: tuple[tuple[str, str], ...] = ()  # (level, message) to show before anything is synthesised

    def opening_notes(self) -> list[tuple[str, str]]:
        """(level, message) lines to show before anything is synthesised: audio reused, the voice chosen or misfit."""
        notes = list(self.notices)
        if self.request.redo is not None:
            how = "with its edited text" if self.request.redo_text is not None else "as it is (a new take)"
            notes.insert(0, ("info", f"making chunk {self.request.redo + 1} again {how}; the old take is kept"))
        if self.plan.reused:
            total, todo = len(self.plan.chunks), len(self.plan.todo)
            notes.insert(0, ("info", f"reusing {self.plan.reused:,} of {total:,} chunks; {todo:,} to make"))
        return notes

    def remaining_cost(self) -> CostEstimate:
        """What the chunks still to do should cost (zero for free engines)."""
        return estimate_cost(self.settings, sum(len(chunk.text) for chunk in self.plan.todo), self.stats.spend)

    async def set_aside(self) -> None:
        """The run will not execute now (nothing to do, or its cost was declined): not 'active', as it was before."""
        state = self.plan.run.state if self.plan.resumed else "stopped"
        self.controller.store.runs.set_state(self.plan.run.id, state)
        await self.controller.store.flush()

    def cost_to_confirm(self) -> str | None:
        """The estimate a person must accept before this run spends money, or None when it may just start."""
        estimate = self.remaining_cost()
        if not estimate.paid or self.request.yes:
            return None
        warnings = [message for level, message in self.notices if level == "warning"]
        return estimate.describe() + "".join(f"; warning: {message}" for message in warnings)


@dataclass(frozen=True, slots=True)
class _Target:
    """What exactly will be read, with which settings, into which file."""

    settings: Settings
    input_path: Path
    input_bytes: bytes
    chapters: str
    front_matter: bool
    output: Path
    run: RunRecord | None = None  # the run to continue, by id
    no_chapters: bool = False  # plain text: no chapter detection
    lexicon: Lexicon = field(default_factory=Lexicon)

    @property
    def variant(self) -> dict[str, object]:
        return {
            "chapters": self.chapters,
            "front_matter": self.front_matter,
            "no_chapters": self.no_chapters,
            "lexicon": self.lexicon.identity,
        }


@asynccontextmanager
async def open_session(request: RunRequest) -> AsyncIterator[Session]:
    """Validate everything that can be checked before paying for any synthesis, then prepare the run."""
    base = load_settings(request.config, dict(request.overrides))
    data_dir = data_dir_for(base, request.data_dir)
    database = data_dir / DATABASE_NAME
    controller: RunController | None = None
    try:  # prepare() takes the run's owner lock; it is held until the store is closed (its last state saved)
        async with AsyncExitStack() as stack:
            store: Store | None = None
            if request.resume is None:
                target = _new_target(request, base)
            else:
                if not database.exists():
                    raise UserError(f"no runs yet in {data_dir}")
                store = await stack.enter_async_context(Store(database))
                target = await _stored_target(request, store)
            document = load_document(target.input_path, target.input_bytes, target.front_matter,
                                     detect_chapters=not target.no_chapters)  # fmt: skip
            notes = coverage_notes(document.coverage, request.strict_text, target.input_path.name)
            document = apply_book_flags(document, request.book)
            if target.chapters:
                document = select_chapters(document, target.chapters)
            voice = check_voice(target.settings, document)  # a voice for the text's script, or a warning
            target = dataclasses.replace(target, settings=voice.settings)
            check_output_path(target.output, target.input_path)
            _check_budget_has_a_price(target.settings)
            ffmpeg = find_ffmpeg(target.settings.output.ffmpeg)
            engine = build_engine(target.settings)
            stack.push_async_callback(engine.aclose)
            if store is None:  # created only now that everything that can be checked first was
                store = await stack.enter_async_context(Store(database))
            bus = EventBus()
            controller = RunController(target.settings, store, engine, ffmpeg, data_dir, bus)
            controller.keys.lexicon = target.lexicon
            plan = await controller.prepare(target.input_path, target.input_bytes, document, target.output,
                                            fresh=request.fresh, variant=target.variant,
                                            run_id=target.run.id if target.run else None)  # fmt: skip
            nothing_to_do = None
            if plan.chunks_removed:
                nothing_to_do = (
                    f"run {plan.run.id} is already finished: {plan.run.output_path}; its chunk audio was removed "
                    "(output.keep_chunks = false), so it cannot be joined again; add --fresh to make it anew"
                )
            elif request.only_failed:  # retry: only what had failed for good, nothing else
                failed = [chunk for chunk in plan.todo if chunk.index in plan.failed]
                controller.plan = plan = dataclasses.replace(plan, todo=failed)
                if not failed:
                    nothing_to_do = f"no failed chunks in run {plan.run.id}"
            if request.redo is not None and not nothing_to_do:
                try:
                    await controller.fix_chunk(request.redo, request.redo_text)
                except UserError:  # no such chunk, or not made yet: the run is left as it was
                    whole = plan.done == len(plan.chunks) and plan.run.output_duration is not None
                    store.runs.set_state(plan.run.id, "done" if whole else "stopped")
                    await store.flush()
                    raise
                assert controller.plan is not None
                plan = controller.plan
            stats = RunStats(len(plan.chunks), plan.done)
            stats.spend = await store.chunks.spend(plan.run.id)  # what earlier sessions of this run paid
            session = Session(target.settings, target.input_path, document, controller, plan, stats, bus, request,
                              nothing_to_do, notes, voice.notices)  # fmt: skip
            if nothing_to_do:
                await session.set_aside()
            elif target.settings.run.budget is not None:  # the spend cap, counting what earlier sessions paid
                attach_budget(controller.scheduler, bus, target.settings.run.budget, stats.spend,
                              session.remaining_cost().per_character)  # fmt: skip
            yield session
    finally:
        if controller is not None:
            controller.release()


def _check_budget_has_a_price(settings: Settings) -> None:
    """A spend cap over an engine whose price is not set would count nothing and never stop a job: refused."""
    if settings.run.budget is None or not engine_spec(settings.engine).priced:
        return
    if estimate_cost(settings, 1_000).dollars <= 0:
        raise UserError(f"a budget counts nothing here: no price is set for the {settings.engine} engine "
                        "(runpod.cost_per_second, openai.cost_per_million_characters); set it, or drop --budget "
                        "(run.budget)")  # fmt: skip


def _new_target(request: RunRequest, settings: Settings) -> _Target:
    if request.input is None:
        raise UserError("no input file given")
    output = request.output or default_output_path(request.input, settings.output.format)
    if request.voice is not None:
        settings = with_voice(settings, request.voice)
    return _Target(settings, request.input, read_input_bytes(request.input), request.chapters,
                   request.front_matter, output, no_chapters=not request.detect_chapters,
                   lexicon=_lexicon(settings, request))  # fmt: skip


def _lexicon(settings: Settings, request: RunRequest) -> Lexicon:
    return configured_lexicon(settings.lexicon.path, resolve_config_path(request.config)[0])


async def _stored_target(request: RunRequest, store: Store) -> _Target:
    """The run named by the request, with the settings stored for it; refused when the config no longer matches."""
    assert request.resume is not None
    run = await resolve_run(store, request.resume)
    stored = await store.runs.settings(run.id)
    input_path = Path(run.input_path)
    if not input_path.is_file():
        raise UserError(f"run {run.id}: its input file is gone: {input_path}")
    input_bytes = read_input_bytes(input_path)
    # What was chosen by flags when the run was made comes from the run; the rest (engine section) from the config.
    overrides: dict[str, Any] = {key: dict(value) if isinstance(value, dict) else value
                                 for key, value in request.overrides.items()}  # fmt: skip
    overrides["engine"] = stored.get("engine", "local")
    overrides["run"] = {**overrides.get("run", {}), "max_chars": stored.get("max_chars", 400)}
    if request.output is None:
        overrides["output"] = {**overrides.get("output", {}), "format": run.output_format}
    settings = load_settings(request.config, overrides)
    if not settings.lexicon.path and isinstance(stored.get(LEXICON_FILE), str):  # the run's --lexicon, read again
        settings = load_settings(request.config, {**overrides, "lexicon": {"path": stored[LEXICON_FILE]}})
    stored_section = stored.get(settings.engine)
    stored_voice = stored_section.get("voice") if isinstance(stored_section, dict) else None
    if settings.engine == "local" and not voice_named(settings) and isinstance(stored_voice, str):
        settings = with_voice(settings, stored_voice)  # a voice picked for the text's script, picked again
    target = _Target(settings, input_path, input_bytes, str(stored.get("chapters") or ""),
                     bool(stored.get("front_matter")), request.output or Path(run.output_path), run,
                     bool(stored.get("no_chapters")), _lexicon(settings, request))  # fmt: skip
    variant = {key: value for key, value in target.variant.items() if value}
    input_hash, run_key = run_identity(input_bytes, settings, variant)
    if input_hash != run.input_hash:
        raise UserError(f"run {run.id}: its input file changed since; use 'tui-tts run' to start a new run")
    if run_key != run.run_key:
        changes = settings_changes(stored, {**audio_settings(settings), **variant}) or ["settings stored differently"]
        raise UserError(f"run {run.id} was made with other settings than the config gives now ({'; '.join(changes)}); "
                        "put them back to resume it, or start a new run with 'tui-tts run'")  # fmt: skip
    return target
