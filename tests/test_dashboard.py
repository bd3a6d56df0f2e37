"""The dashboard, driven with Pilot against a real run through the emulator; snapshots with fixed data."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import RichLog

from tui_tts.audio.ffmpeg import find_ffmpeg
from tui_tts.emulator import Emulator, EmulatorConfig, running_emulator
from tui_tts.engines.local import LocalEngine
from tui_tts.engines.registry import load_settings
from tui_tts.events import ChunkFailed, ChunkRetryScheduled, ChunkStarted, ChunkSucceeded, EventBus, LimitChanged
from tui_tts.models import Document, Section
from tui_tts.run.progress import RunStats
from tui_tts.run.request import RunRequest
from tui_tts.run.runner import RunController, RunPlan
from tui_tts.run.session import Session, open_session
from tui_tts.store import RunRecord, Store
from tui_tts.text.chunking import chunk_document
from tui_tts.ui.app import DashboardApp
from tui_tts.ui.chunk_grid import ChunkGrid
from tui_tts.ui.header import RunHeader
from tui_tts.ui.screens import ChunkDetailsScreen, QuitScreen

BOOK = " ".join(f"Sentence number {n} of the little test book." for n in range(160))


async def until(pilot: Pilot[Any], condition: Callable[[], bool], seconds: float = 20) -> None:
    """Wait for a condition by letting the app run (never a fixed sleep)."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition not reached")


async def palette_offers(pilot: Pilot[Any], word: str) -> None:
    """Wait until the command palette's search has found a command named with `word` (it searches in a worker)."""
    from textual.command import CommandList

    def found() -> bool:
        options = pilot.app.screen.query(CommandList)
        return any(word in str(option.prompt).lower() for command in options for option in command.options)

    await until(pilot, found)


def notified(app: DashboardApp, words: str) -> bool:
    return any(words in notification.message for notification in app._notifications)


def header_text(app: DashboardApp) -> str:
    return str(app.query_one(RunHeader).render())


def log_text(app: DashboardApp) -> str:
    return "\n".join(line.text for line in app.query_one(RichLog).lines)


@asynccontextmanager
async def live_dashboard(
    tmp_path: Path, config: EmulatorConfig, cost: str | None = None, **run: Any
) -> AsyncIterator[tuple[DashboardApp, Pilot[Any], Emulator]]:
    book = tmp_path / "book.txt"
    book.write_text(BOOK, encoding="utf-8")
    async with running_emulator(config) as (url, emulator):
        toml = tmp_path / "c.toml"
        settings = {"concurrency": 4, "max_chars": 120, "retry_base_delay": 0.01, **run}
        toml.write_text('engine = "runpod"\n[run]\n' + "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in
                        settings.items()) + f'[runpod]\nendpoint_url = "{url}"\npoll_initial = 0.05\n')  # fmt: skip
        request = RunRequest(input=book, output=tmp_path / "book.wav", config=str(toml),
                             data_dir=str(tmp_path / "data"))  # fmt: skip
        async with open_session(request) as session:
            app = DashboardApp(session, cost_to_confirm=cost)
            async with app.run_test(size=(100, 30)) as pilot:
                yield app, pilot, emulator


@pytest.mark.slow
async def test_keys_steer_the_scheduler_and_show_in_the_header(tmp_path: Path) -> None:
    async with live_dashboard(tmp_path, EmulatorConfig(latency=0.4, workers=16)) as (app, pilot, _):
        await until(pilot, lambda: app.scheduler.in_flight == 4)
        assert "PARALLEL x4" in header_text(app)
        await pilot.press("b")  # no cap to raise: said, not silently ignored
        await until(pilot, lambda: notified(app, "no spend cap to raise"))
        await pilot.press("p")
        assert "SEQUENTIAL" in header_text(app) and app.scheduler.limit.effective == 1
        await until(pilot, lambda: app.scheduler.in_flight <= 1)
        await pilot.press("p", "plus", "plus")
        assert "PARALLEL x6" in header_text(app) and app.scheduler.limit.effective == 6
        await until(pilot, lambda: app.scheduler.in_flight == 6)
        await pilot.press("minus")
        assert app.scheduler.limit.user == 5
        await pilot.press("space")
        assert "PAUSED" in header_text(app) and app.scheduler.paused
        await until(pilot, lambda: app.scheduler.in_flight == 0)
        app.drain_events()
        done = app.session.stats.done
        await pilot.pause(0.6)  # longer than a job: nothing new may start while paused
        app.drain_events()
        assert app.session.stats.done == done and app.scheduler.in_flight == 0
        await pilot.press("space")
        assert not app.scheduler.paused
        await until(pilot, lambda: app.scheduler.in_flight > 0)
        await pilot.press("right", "right", "enter")
        await until(pilot, lambda: isinstance(app.screen, ChunkDetailsScreen))
        details = str(app.screen.query_one("#details-text").render())
        assert "Chunk 3" in details and "Sentence number" in details
        await pilot.press("escape")
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, QuitScreen))
        await pilot.press("n")
        assert not isinstance(app.screen, QuitScreen) and app.is_running
        await pilot.press("q", "y")
        await until(pilot, lambda: not app.is_running)
    assert app.exit_code == 130
    with __import__("sqlite3").connect(tmp_path / "data" / "tui-tts.db") as db:
        assert db.execute("SELECT COUNT(*) FROM chunks WHERE state='running'").fetchone()[0] == 0


@pytest.mark.slow
async def test_errors_reach_the_log_and_r_retries_failed_chunks(tmp_path: Path) -> None:
    failing = EmulatorConfig(latency=0.02, workers=8, fail_rate=1.0)
    async with live_dashboard(tmp_path, failing, max_attempts=2) as (app, pilot, emulator):
        await until(pilot, lambda: app.finished)
        assert app.session.stats.failed == len(app.session.plan.chunks)
        assert "FAILED: handler raised" in log_text(app) and "failed for good" in log_text(app)
        grid = app.query_one(ChunkGrid)
        assert grid.state_of(0).value == "failed"
        closing = app.closing_lines()  # what leaving now would print: as headless says it
        assert closing.exit_code == 1 and "chunk(s) failed for good; the rest is saved" in closing.stderr[0]
        emulator.config = dataclasses.replace(emulator.config, fail_rate=0.0)  # the endpoint recovers
        await pilot.press("r")
        await until(pilot, lambda: app.finished and app.session.stats.done == len(app.session.plan.chunks))
        await until(pilot, lambda: app.stage == "done")
        assert "wrote" in log_text(app) and (tmp_path / "book.wav").exists()
        closing = app.closing_lines()
        assert closing.exit_code == 0 and closing.stdout == [str(tmp_path / "book.wav")]
        assert grid.state_of(0).value == "done"
        await pilot.press("q")
    assert app.exit_code == 0


@pytest.mark.slow
async def test_a_paid_run_waits_for_confirmation(tmp_path: Path) -> None:
    from tui_tts.ui.screens import ConfirmCostScreen

    async with live_dashboard(tmp_path, EmulatorConfig(latency=0.05), cost="about $3.20") as (app, pilot, emulator):
        await until(pilot, lambda: isinstance(app.screen, ConfirmCostScreen))
        await pilot.pause(0.3)
        assert emulator.stats()["total_requests"] == 0  # nothing is sent before the person says yes
        await pilot.press("y")
        await until(pilot, lambda: app.finished)
        assert app.exit_code == 0 and emulator.stats()["submitted"] == len(app.session.plan.chunks)
        await pilot.press("q")
    (tmp_path / "no").mkdir()
    async with live_dashboard(tmp_path / "no", EmulatorConfig(latency=0.05), cost="about $3.20") as (app, pilot, emu):
        await until(pilot, lambda: isinstance(app.screen, ConfirmCostScreen))
        await pilot.press("n")
        await until(pilot, lambda: not app.is_running)
        assert emu.stats()["total_requests"] == 0
        assert app.closing_lines().stderr[0].startswith("not started: nothing was sent")


# ----- snapshots with fixed data -----


CHAPTERS = ("Down the Rabbit-Hole", "The Pool of Tears", "A Caucus-Race and a Long Tale")


def fixed_session(tmp_path: Path, finished: bool, chapters: bool = False) -> Session:
    settings = load_settings(None, {"run": {"concurrency": 8, "max_chars": 60}})
    document = Document("alice", (Section("alice", BOOK),))
    if chapters:  # the same text as three chapters of different lengths
        cuts = [0, len(BOOK) // 6, len(BOOK) // 2, len(BOOK)]
        parts = [BOOK[a:b].strip() for a, b in itertools.pairwise(cuts)]
        document = Document("alice", tuple(Section(title, part) for title, part in zip(CHAPTERS, parts, strict=True)))
    chunks = chunk_document(document, 60)
    run = RunRecord("20260101-000000-abcdef", "key", "/books/alice.txt", "hash", "alice", "local", "/books/alice.mp3",
                    "mp3", "active", len(chunks), 0.0, None, None)  # fmt: skip
    plan = RunPlan(run, chunks, list(chunks), {}, {}, False, 0, 0)
    bus = EventBus()
    controller = RunController(settings, Store(tmp_path / "unused.db"), LocalEngine(settings.local), find_ffmpeg(),
                               tmp_path, bus)  # fmt: skip
    controller.plan = plan
    clock = iter([1000.0] + [1125.0] * 10_000)
    stats = RunStats(len(chunks), 0, clock=lambda: next(clock))
    return Session(settings, Path("/books/alice.txt"), document, controller, plan, stats, bus)


def play(session: Session, finished: bool) -> Callable[[Pilot[Any]], Any]:
    async def run_before(pilot: Pilot[Any]) -> None:
        bus = session.bus
        total = len(session.plan.chunks)
        upto = total if finished else total * 2 // 3
        for index in range(upto):
            bus.emit(ChunkStarted(index, 1))
            if index % 17 == 5 and not finished:
                bus.emit(ChunkRetryScheduled(index, 1, "POST /run: HTTP 503 upstream busy", 1.5))
            elif index == 40 and not finished:
                bus.emit(ChunkFailed(index, 5, "job 7f3a FAILED: CUDA error: out of memory"))
            elif index < upto - 6 or finished:
                bus.emit(ChunkSucceeded(index, 1, f"/c/{index}.wav", "pcm_s16le", 22050, 1, 3.2, 0.8))
        if not finished:
            bus.emit(LimitChanged(8, 6, "after error: POST /run: HTTP 503 upstream busy"))
            session.controller.scheduler.set_concurrency(8)
        await pilot.pause()
        pilot.app.drain_events()  # type: ignore[attr-defined]
        pilot.app.query_one(ChunkGrid)._flush_dirty_rows()  # not left to the 30 Hz timer: a loaded machine may lag it
        await pilot.pause()

    return run_before


@pytest.mark.parametrize(
    ("finished", "chapters"), [(False, False), (True, False), (False, True)], ids=["mid-run", "finished", "chapters"]
)
def test_dashboard_snapshots(tmp_path: Path, snap_compare: Any, finished: bool, chapters: bool) -> None:
    session = fixed_session(tmp_path, finished, chapters)
    app = DashboardApp(session, autostart=False, clock_text="12:00:00")
    assert snap_compare(app, terminal_size=(100, 30), run_before=play(session, finished))


async def test_chapters_get_labelled_rows_with_their_own_progress(tmp_path: Path) -> None:
    session = fixed_session(tmp_path, finished=False, chapters=True)
    app = DashboardApp(session, autostart=False, clock_text="12:00:00")
    async with app.run_test(size=(100, 30)) as pilot:
        await play(session, finished=False)(pilot)
        grid = app.query_one(ChunkGrid)
        sections = [chunk.section for chunk in session.plan.chunks]
        lines = [grid.render_line(y).text for y in range(grid.cells.rows)]
        for section, title in enumerate(CHAPTERS):
            done = sum(1 for chunk in session.plan.chunks if chunk.section == section and
                       grid.state_of(chunk.index).value == "done")  # fmt: skip
            total = sections.count(section)
            assert grid.chapter_progress(section) == (done, total)
            head = lines[grid.cells.head_row[section]]
            assert head.startswith(f"{section + 1:>2} {title[:8]}") and f" {done}/{total} " in head
        # a chapter's first chunk starts its own row, so the cell under the gutter's edge is that chunk
        first_of_second = sections.index(1)
        assert grid.cells.index_at(grid.cells.head_row[1], grid.cells.gutter) == first_of_second
        grid.action_jump(first_of_second)
        grid.action_move_rows(-1)
        assert sections[grid.cursor] == 0
