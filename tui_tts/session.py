"""The one factory: from CLI arguments to a prepared run (config, input, store, engine, ffmpeg, controller)."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from tui_tts.audio.ffmpeg import find_ffmpeg
from tui_tts.config import Settings, data_dir_for, load_settings
from tui_tts.cost import CostEstimate, estimate_cost
from tui_tts.engines.factory import build_engine
from tui_tts.events import EventBus
from tui_tts.models import Document
from tui_tts.overrides import run_overrides, with_book_flags
from tui_tts.progress import RunStats
from tui_tts.runner import DATABASE_NAME, RunController, RunPlan, check_output_path, default_output_path
from tui_tts.store import Store
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

    def remaining_cost(self) -> CostEstimate:
        """What the chunks still to do should cost (zero for free engines)."""
        return estimate_cost(self.settings, sum(len(chunk.text) for chunk in self.plan.todo))


@asynccontextmanager
async def open_session(args: argparse.Namespace) -> AsyncIterator[Session]:
    """Validate everything that can be checked before paying for any synthesis, then prepare the run."""
    settings = load_settings(args.config, run_overrides(args))
    input_path = Path(args.input)
    input_bytes = read_input_bytes(input_path)
    include_front_matter = bool(getattr(args, "include_front_matter", False))
    document = with_book_flags(load_document(input_path, input_bytes, include_front_matter), args)
    chapters = getattr(args, "chapters", None) or ""
    if chapters:
        document = select_chapters(document, chapters)
    output = Path(args.output) if args.output else default_output_path(input_path, settings.output.format)
    check_output_path(output, input_path)
    ffmpeg = find_ffmpeg(settings.output.ffmpeg)
    data_dir = data_dir_for(settings, args.data_dir)
    engine = build_engine(settings)
    bus = EventBus()
    controller: RunController | None = None
    try:  # prepare() takes the run's owner lock; it is held until the store is closed (its last state saved)
        async with Store(data_dir / DATABASE_NAME) as store:
            controller = RunController(settings, store, engine, ffmpeg, data_dir, bus)
            variant = {"chapters": chapters, "front_matter": include_front_matter}
            plan = await controller.prepare(
                input_path, input_bytes, document, output, fresh=args.fresh, variant=variant
            )
            stats = RunStats(len(plan.chunks), plan.done)
            spent = await store.fetchone("SELECT SUM(cost) AS spend FROM chunks WHERE run_id=?", (plan.run.id,))
            stats.spend = float(spent["spend"] or 0.0) if spent else 0.0  # what earlier sessions of this run paid
            yield Session(settings, input_path, document, controller, plan, stats, bus)
    finally:
        if controller is not None:
            controller.release()
        await engine.aclose()
