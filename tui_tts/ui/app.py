"""The dashboard app: compose, bindings, and routing between the run's events and the widgets."""

from __future__ import annotations

import time
from collections import deque

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, RichLog

from tui_tts.errors import EXIT_CHUNKS_FAILED, EXIT_INTERRUPTED, EXIT_OK, UserError
from tui_tts.events import (
    ChunkCancelled,
    ChunkFailed,
    ChunkRetryScheduled,
    ChunksRequeued,
    ChunkStarted,
    ChunkSucceeded,
    Event,
    LimitChanged,
    LogEmitted,
    RunAbortRequested,
    StitchFinished,
    StitchProgressed,
)
from tui_tts.models import ChunkState
from tui_tts.progress import format_duration
from tui_tts.session import Session
from tui_tts.stitch_progress import stitch_text
from tui_tts.ui.chunk_grid import ChunkGrid
from tui_tts.ui.header import RunHeader
from tui_tts.ui.screens import ChunkDetailsScreen, ConfirmCostScreen, HelpScreen, QuitScreen, describe_chunk

LOG_LINES = 2000
_STATE_OF = {ChunkStarted: ChunkState.RUNNING, ChunkSucceeded: ChunkState.DONE, ChunkRetryScheduled: ChunkState.RETRY,
             ChunkFailed: ChunkState.FAILED, ChunkCancelled: ChunkState.QUEUED}  # fmt: skip


class DashboardApp(App[int]):
    """One run, live: header, chunk grid, log pane, and keys that steer the scheduler."""

    CSS_PATH = "app.tcss"
    TITLE = "tui-tts"
    BINDINGS = [
        Binding("p", "toggle_parallel", "Parallel/Seq", id="toggle-parallel"),
        Binding("plus,equals_sign", "more", "+1", id="more"),
        Binding("minus", "fewer", "-1", id="fewer"),
        Binding("space", "pause", "Pause", id="pause"),
        Binding("r", "retry_failed", "Retry failed", id="retry"),
        Binding("s", "stitch", "Stitch", id="stitch"),
        Binding("l", "focus_log", "Log", id="log"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("q", "quit_run", "Quit", id="quit"),
    ]

    def __init__(self, session: Session, *, autostart: bool = True, clock_text: str | None = None,
                 cost_to_confirm: str | None = None) -> None:  # fmt: skip
        super().__init__()
        self.cost_to_confirm = cost_to_confirm
        self.session = session
        self.controller = session.controller
        self.scheduler = session.controller.scheduler
        self.autostart = autostart
        self.clock_text = clock_text  # fixed timestamps for snapshot tests
        self.exit_code = EXIT_OK
        self.finished = False
        self.stage = ""
        self._pending: deque[Event] = deque()
        self._unsubscribe = session.bus.subscribe(self._pending.append)

    def compose(self) -> ComposeResult:
        yield RunHeader(id="header")
        chunks = self.session.plan.chunks
        titles = [section.title for section in self.session.document.sections]
        yield ChunkGrid(len(chunks), [chunk.section for chunk in chunks], titles, id="grid")
        yield RichLog(id="log", max_lines=LOG_LINES, markup=False, wrap=True)
        yield Footer()

    def on_mount(self) -> None:
        grid = self.query_one(ChunkGrid)
        todo = {chunk.index for chunk in self.session.plan.todo}
        grid.set_states([ChunkState.QUEUED if c.index in todo else ChunkState.DONE for c in self.session.plan.chunks])
        grid.border_title = f"{len(self.session.plan.chunks)} chunks"
        grid.border_subtitle = "· queued  ▶ running  █ done  ↻ retry  ✗ failed"
        grid.focus()
        self.set_interval(1 / 30, self.drain_events)
        self.set_interval(0.5, self.refresh_header)
        plan = self.session.plan
        if plan.resumed:
            self.log_line("info", f"resuming run {plan.run.id}: {plan.done}/{len(plan.chunks)} done")
        else:
            self.log_line("info", f"new run {plan.run.id}: {len(plan.chunks)} chunks")
        self.refresh_header()
        if self.autostart and self.cost_to_confirm:

            def answered(start: bool | None) -> None:
                if start:
                    self.start_run()
                else:
                    self.finished = True
                    self.quit_now(cancel_jobs=False)

            self.push_screen(ConfirmCostScreen(self.cost_to_confirm), answered)
        elif self.autostart:
            self.start_run()

    # ----- the run -----

    @work(exclusive=True, group="run", exit_on_error=False)
    async def start_run(self) -> None:
        self.finished = False
        try:
            outcome = await self.controller.execute()
        except UserError as exc:
            self.exit_code = exc.exit_code
            self.log_line("error", exc.message)
            self.notify(exc.message, title="Run stopped", severity="error", timeout=30)
            self.finished = True
            return
        self.drain_events()  # the screen must show every event of the run before it says it is over
        self.finished = True
        self.session.stats.stop()
        if outcome.interrupted:
            return
        if outcome.failed or outcome.pending:
            self.exit_code = EXIT_CHUNKS_FAILED
            message = f"{len(outcome.failed)} chunk(s) failed for good: press r to retry them"
            self.log_line("error", message)
            self.notify(message, severity="warning", timeout=30)
        elif outcome.output is not None:
            self.exit_code = EXIT_OK
            self.announce_output(outcome.output.written, outcome.output.duration, outcome.output.size_bytes)
        self.refresh_header()

    def announce_output(self, path: object, duration: float, size: int) -> None:
        stats = self.session.stats
        spend = f", ${stats.spend:.4f}" if stats.spend else ""
        summary = (f"wrote {path}: {format_duration(duration)} of audio, {size / 1e6:.1f} MB, in "
                   f"{format_duration(stats.elapsed)}{spend}, {stats.retries} retries")  # fmt: skip
        self.stage = "done"
        self.log_line("info", summary)
        self.notify(summary, title="Finished", timeout=30)

    # ----- events in, batched -----

    def drain_events(self) -> None:
        if not self._pending:
            return
        grid = self.query_one(ChunkGrid)
        stats = self.session.stats
        while self._pending:
            event = self._pending.popleft()
            stats.apply(event)
            state = _STATE_OF.get(type(event))
            if state is not None:
                grid.set_state(event.index, state)  # type: ignore[attr-defined]
            match event:
                case ChunksRequeued(indexes=indexes):
                    for index in indexes:
                        grid.set_state(index, ChunkState.QUEUED)
                case ChunkRetryScheduled(index=index, error=error, delay=delay):
                    self.log_line("warning", f"chunk {index + 1}: {error}; retry in {delay:.1f} s")
                case ChunkFailed(index=index, error=error):
                    self.log_line("error", f"chunk {index + 1} failed for good: {error}")
                case LimitChanged(old=old, new=new, reason=reason):
                    self.log_line("info", f"limit {old} -> {new} ({reason})")
                case RunAbortRequested(error=error):
                    self.log_line("error", f"run stopped: {error}")
                case LogEmitted(level=level, message=message):
                    self.log_line(level, message)
                case StitchProgressed():
                    self.stage = stitch_text(event)
                case StitchFinished():
                    self.stage = "stitched"
                case _:
                    pass  # pauses, resumes and the rest show through the header
        self.refresh_header()

    def refresh_header(self) -> None:
        plan = self.session.plan
        self.query_one(RunHeader).show(
            plan.run.title, self.controller.engine.describe(), self.session.stats, self.scheduler.limit,
            self.scheduler.paused, self.stage,
        )  # fmt: skip

    def log_line(self, level: str, message: str) -> None:
        """One timestamped line; errors and warnings in the theme's colours. Messages are never parsed as markup."""
        stamp = self.clock_text or time.strftime("%H:%M:%S")
        colours = self.get_css_variables()
        style = {"error": f"bold {colours.get('error', 'red')}", "warning": colours.get("warning", "yellow")}
        self.query_one(RichLog).write(Text.assemble((stamp + " ", "dim"), (message, style.get(level, ""))))

    # ----- keys -----

    def action_toggle_parallel(self) -> None:
        self.scheduler.toggle_parallel()
        self.refresh_header()

    def action_more(self) -> None:
        self.scheduler.set_concurrency(self.scheduler.limit.user + 1)
        self.refresh_header()

    def action_fewer(self) -> None:
        self.scheduler.set_concurrency(self.scheduler.limit.user - 1)
        self.refresh_header()

    def action_pause(self) -> None:
        if self.scheduler.paused:
            self.scheduler.resume()
        else:
            self.scheduler.pause()
        self.refresh_header()

    async def action_retry_failed(self) -> None:
        count = await self.controller.retry_failed()
        self.log_line("info", f"retrying {count} failed chunk(s)" if count else "no failed chunks to retry")
        if count and self.finished:
            self.start_run()

    def action_stitch(self) -> None:
        if not self.finished and self.scheduler.remaining:
            self.notify("not every chunk is done yet", severity="warning")
            return
        self.stitch_again()

    @work(exclusive=True, group="run", exit_on_error=False)
    async def stitch_again(self) -> None:
        from tui_tts.store.runs import load_chunks

        try:
            records = await load_chunks(self.controller.store, self.session.plan.run.id)
            result = await self.controller.stitch(records)
        except UserError as exc:
            self.log_line("error", exc.message)
            self.notify(exc.message, severity="error")
            return
        self.announce_output(result.written, result.duration, result.size_bytes)

    def action_focus_log(self) -> None:
        log = self.query_one(RichLog)
        if log.has_focus:
            log.remove_class("expanded")
            self.query_one(ChunkGrid).focus()
        else:
            log.add_class("expanded")
            log.focus()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    async def on_chunk_grid_chunk_selected(self, message: ChunkGrid.ChunkSelected) -> None:
        details = await self.controller.chunk_details(message.index)
        if details:
            median = await self.controller.median_seconds_per_char()
            self.push_screen(ChunkDetailsScreen(describe_chunk(details, median)))

    def action_quit_run(self) -> None:
        if self.finished or self.scheduler.in_flight == 0:
            self.quit_now(cancel_jobs=False)
            return

        def chosen(choice: str | None) -> None:
            if choice in {"leave", "cancel"}:
                self.quit_now(cancel_jobs=choice == "cancel")

        self.push_screen(QuitScreen(self.scheduler.in_flight), chosen)

    @work(exclusive=True, group="quit", exit_on_error=False)
    async def quit_now(self, cancel_jobs: bool) -> None:
        if cancel_jobs:
            count = await self.controller.cancel_remote_jobs()
            self.log_line("info", f"asked the backend to cancel {count} job(s)")
        if not self.finished:
            self.exit_code = EXIT_INTERRUPTED
            self.controller.interrupt()
            for worker in self.workers:
                if worker.group == "run":
                    await worker.wait()
        self._unsubscribe()
        self.exit(self.exit_code)
