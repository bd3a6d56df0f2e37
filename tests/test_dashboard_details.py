"""Dashboard details, driven with Pilot: clicks, 80x24, the palette, help, theme, literal text, failures, pauses."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.test_dashboard import (
    fixed_session,
    header_text,
    live_dashboard,
    log_text,
    notified,
    palette_offers,
    play,
    until,
)
from tui_tts.emulator import EmulatorConfig
from tui_tts.models import ChunkDetails, ChunkState
from tui_tts.ui.app import DashboardApp
from tui_tts.ui.chunk_grid import ChunkGrid
from tui_tts.ui.screens import ChunkDetailsScreen, HelpScreen, QuitScreen


async def test_a_double_click_opens_the_chunk_under_the_pointer(tmp_path: Path) -> None:
    session = fixed_session(tmp_path, finished=False)
    opened: list[int] = []

    async def details(index: int) -> dict[str, object]:
        opened.append(index)
        return {}

    session.controller.chunk_details = details  # type: ignore[method-assign]
    app = DashboardApp(session, autostart=False, clock_text="12:00:00")
    async with app.run_test(size=(100, 30)) as pilot:
        grid = app.query_one(ChunkGrid)
        for row, column in ((0, 0), (1, 3), (2, 5)):
            await pilot.click(ChunkGrid, offset=(1 + 2 * column, 1 + row), times=2)  # 1: inside the round border
            assert grid.cursor == grid.cells.row_first[row] + column
            await until(pilot, lambda r=row, c=column: opened[-1:] == [grid.cells.row_first[r] + c])


async def test_at_80x24_the_essential_keys_and_figures_show(tmp_path: Path) -> None:
    session = fixed_session(tmp_path, finished=False)
    app = DashboardApp(session, autostart=False, clock_text="12:00:00")
    async with app.run_test(size=(80, 24)) as pilot:
        await play(session, finished=False)(pilot)
        await pilot.pause()
        visible = [key.key_display for key in app.query("FooterKey") if key.region.right <= 80 and key.region.width]
        for key in ("q", "?", "s", "l", "space", "p", "r"):
            assert key in visible, visible
        second = header_text(app).splitlines()[1]
        assert second.index("/min") + 4 <= 78 and second.index("ETA") < second.index("/min"), second


async def test_the_palette_offers_the_runs_actions(tmp_path: Path) -> None:
    app = DashboardApp(fixed_session(tmp_path, finished=False), autostart=False, clock_text="12:00:00")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"pause")
        await palette_offers(pilot, "pause")
        await pilot.press("enter")
        await until(pilot, lambda: app.scheduler.paused)
        assert "paused" in log_text(app)


async def test_help_comes_from_the_bindings_with_palette_quit_escape_and_mouse(tmp_path: Path) -> None:
    app = DashboardApp(fixed_session(tmp_path, finished=False), autostart=False, clock_text="12:00:00")
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = str(app.screen.query_one("#help-text").render())
        for shown in ("^p", "^q", "^c", "esc", "double-click", "pause / resume", "one more chunk at once"):
            assert shown in text, text


async def test_a_theme_change_repaints_the_grid_and_is_remembered(tmp_path: Path) -> None:
    theme_file = tmp_path / "state" / "dashboard.json"
    session = fixed_session(tmp_path, finished=False)
    app = DashboardApp(session, autostart=False, clock_text="12:00:00", theme_file=theme_file)
    async with app.run_test(size=(100, 30)) as pilot:
        await play(session, finished=False)(pilot)
        grid = app.query_one(ChunkGrid)
        before = [segment.style for segment in grid.render_line(0)]
        app.theme = "gruvbox" if app.theme != "gruvbox" else "nord"
        chosen = app.theme
        await pilot.pause()
        await pilot.pause()
        after = [segment.style for segment in grid.render_line(0)]
        assert before != after
    again = DashboardApp(fixed_session(tmp_path, finished=False), autostart=False, theme_file=theme_file)
    async with again.run_test(size=(100, 30)):
        assert again.theme == chosen


async def test_titles_chunk_text_and_errors_are_shown_literally(tmp_path: Path) -> None:
    session = fixed_session(tmp_path, finished=False)
    title = "Odd [/] and [@click=app.quit]click[/] [$error]x"
    session.plan = dataclasses.replace(session.plan, run=dataclasses.replace(session.plan.run, title=title))
    app = DashboardApp(session, autostart=False, clock_text="12:00:00")
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.pause()
        assert title in header_text(app)
        from tui_tts.ui.screens import describe_chunk

        details = ChunkDetails(
            0, 0, ChunkState.FAILED, 1, "a [b]bold[/b] [/] text", last_error="HTTP 500 [/] <html>[@click=app.quit]"
        )
        app.push_screen(ChunkDetailsScreen(describe_chunk(details, None)))
        await pilot.pause()
        shown = str(app.screen.query_one("#details-text").render())
        assert "a [b]bold[/b] [/] text" in shown and "HTTP 500 [/] <html>[@click=app.quit]" in shown


async def test_pause_resume_and_limits_while_paused_are_told(tmp_path: Path) -> None:
    session = fixed_session(tmp_path, finished=False)
    app = DashboardApp(session, autostart=False, clock_text="12:00:00")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: "paused" in log_text(app))
        await pilot.press("plus")
        await until(pilot, lambda: "applies on resume" in log_text(app))
        assert "x9 on resume" in header_text(app)
        await pilot.press("space")
        await until(pilot, lambda: "resumed at parallel x9" in log_text(app))


async def test_the_quit_question_for_a_local_engine_says_nothing_of_remote_jobs(tmp_path: Path) -> None:
    app = DashboardApp(fixed_session(tmp_path, finished=False), autostart=False)
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(QuitScreen(3, remote=False))
        await pilot.pause()
        text = " ".join(str(widget.render()) for widget in app.screen.query("Static"))
        assert "remote" not in text and "3 chunk(s) in flight" in text
        assert not app.screen.query("#cancel")


async def test_s_during_a_stitch_is_refused(tmp_path: Path) -> None:
    import asyncio

    session = fixed_session(tmp_path, finished=True)
    app = DashboardApp(session, autostart=False)
    release = asyncio.Event()
    calls: list[int] = []

    async def slow_stitch(records: Any) -> Any:
        calls.append(1)
        await release.wait()
        raise asyncio.CancelledError

    async with app.run_test(size=(100, 30)) as pilot:
        app.finished = True
        session.controller.stitch = slow_stitch  # type: ignore[method-assign]
        session.controller.store.chunks.load = lambda *a: asyncio.sleep(0, [])  # type: ignore[method-assign,assignment]
        await pilot.press("s")
        await until(pilot, lambda: len(calls) == 1)
        await pilot.press("s")
        await until(pilot, lambda: notified(app, "already stitching"))
        assert len(calls) == 1 and app.stage.startswith("stitching")
        release.set()


@pytest.mark.slow
async def test_a_database_failure_shows_as_an_error_and_exits_non_zero(tmp_path: Path) -> None:
    async with live_dashboard(tmp_path, EmulatorConfig(latency=0.1, workers=8), max_attempts=2) as (app, pilot, _):
        await until(pilot, lambda: app.session.stats.done >= 3)
        app.controller.store._database.write("INSERT INTO no_such_table VALUES (1)")  # its next commit fails
        await until(pilot, lambda: app.finished)
        assert app.error is not None and "database" in app.error and "no such table" in app.error
        assert "error" in header_text(app).splitlines()[0] and " 0 running" in header_text(app)
        # The log pane takes its line from the same failure a moment later: wait for it, then check it came once.
        await until(pilot, lambda: any("no such table" in line for line in log_text(app).splitlines()))
        await pilot.pause()
        assert sum("no such table" in line for line in log_text(app).splitlines()) == 1
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)
    assert app.exit_code == 2 and app.closing_lines().stderr[0].startswith("tui-tts: error: cannot write the database")


@pytest.mark.slow
async def test_an_abort_stops_the_clock_clears_running_and_is_logged_once(tmp_path: Path) -> None:
    async with live_dashboard(tmp_path, EmulatorConfig(latency=0.3, workers=16), concurrency=8) as (app, pilot, emu):
        await until(pilot, lambda: app.session.stats.done >= 2 and len(app.session.stats.running) >= 4)
        emu.config = dataclasses.replace(emu.config, api_key="now-required")  # every next request: 401
        await until(pilot, lambda: app.finished, 60)
        await until(pilot, lambda: app.scheduler.in_flight == 0 and app.session.stats.stopped is not None)
        app.drain_events()  # anything late would be logged now
        header = header_text(app)
        assert " 0 running" in header, header
        assert app.session.stats.stopped is not None  # the clock is frozen
        lines = [line for line in log_text(app).splitlines() if "HTTP 401" in line or "run stopped" in line]
        assert len(lines) == 1, lines
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)
    assert app.exit_code == 2


@pytest.mark.slow
async def test_ctrl_q_and_the_palettes_quit_ask_first_mid_run_and_stop_with_130(tmp_path: Path) -> None:
    async with live_dashboard(tmp_path, EmulatorConfig(latency=0.4, workers=16)) as (app, pilot, _):
        await until(pilot, lambda: app.scheduler.in_flight == 4)
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, QuitScreen))
        await pilot.press("n")
        await pilot.press("ctrl+p")
        await pilot.press(*"quit")
        await palette_offers(pilot, "quit")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, QuitScreen))
        await pilot.press("y")
        await until(pilot, lambda: not app.is_running)
    assert app.exit_code == 130
    assert app.closing_lines().stderr[0].startswith("stopped: ")
    with sqlite3.connect(tmp_path / "data" / "tui-tts.db") as db:
        assert db.execute("SELECT state FROM runs").fetchone()[0] == "stopped"


async def test_q_during_the_final_stitch_cancels_it_and_keeps_every_chunk(tmp_path: Path) -> None:
    import asyncio

    stitching = asyncio.Event()

    async def endless_stitch(records: Any) -> Any:  # a stitch that would take minutes
        stitching.set()
        await asyncio.Event().wait()

    async with live_dashboard(tmp_path, EmulatorConfig(latency=0.05, workers=16), concurrency=16) as (app, pilot, _):
        app.controller.stitch = endless_stitch  # type: ignore[method-assign]
        await until(pilot, stitching.is_set)
        app.stage = "stitching  10.0%, ETA 05:00"
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, 10)
        run_id = app.session.plan.run.id
    assert app.exit_code == 130
    lines = app.closing_lines().stderr
    assert lines and "done and saved; run the same command" in lines[0], lines
    with sqlite3.connect(tmp_path / "data" / "tui-tts.db") as db:
        state = db.execute("SELECT state FROM runs WHERE id=?", (run_id,)).fetchone()[0]
        done = db.execute("SELECT COUNT(*) FROM chunks WHERE run_id=? AND state='done'", (run_id,)).fetchone()[0]
        total = db.execute("SELECT COUNT(*) FROM chunks WHERE run_id=?", (run_id,)).fetchone()[0]
    assert state == "stopped" and done == total


def test_a_chunks_details_show_its_logged_events_and_a_suspect_duration() -> None:
    import time

    from tui_tts.models import LoggedEvent
    from tui_tts.ui.screens import describe_chunk

    at = time.mktime((2026, 1, 1, 9, 30, 5, 0, 0, -1))
    details = ChunkDetails(4, 1, ChunkState.DONE, 2, "x" * 100, job_id="job-7", submissions=2, worker_id="w1",
                           elapsed=1.25, cost=0.0021, duration=1.0,
                           events=(LoggedEvent(at, "retry", "HTTP 503 busy (retry in 1.5 s)"),))  # fmt: skip
    shown = describe_chunk(details, median_seconds_per_char=0.05).plain
    assert shown.startswith("Chunk 5  section 2  done  attempts 2\njob job-7  submissions 2  worker w1\n")
    assert "took 1.25 s  $0.00210" in shown and "0.010 s per character  suspect" in shown
    assert "09:30:05 retry: HTTP 503 busy (retry in 1.5 s)" in shown and shown.endswith("x" * 100)
