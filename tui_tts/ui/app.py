"""The dashboard app: compose, bindings, and routing between the run's events and the widgets."""

from __future__ import annotations

import contextlib
import time
from collections import deque
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.theme import Theme
from textual.widgets import Footer, RichLog
from textual.worker import WorkerCancelled, WorkerFailed

from tui_tts.errors import EXIT_CHUNKS_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, RunAborted, StoreError, UserError
from tui_tts.events import Event
from tui_tts.models import ChunkState
from tui_tts.run.closing_lines import ClosingLines, closing_lines, error_lines
from tui_tts.run.progress import format_duration
from tui_tts.run.runner import RunOutcome
from tui_tts.run.session import Session
from tui_tts.ui.chunk_fixes import open_chunk_details
from tui_tts.ui.chunk_grid import ChunkGrid
from tui_tts.ui.commands import DashboardCommands
from tui_tts.ui.event_view import event_view
from tui_tts.ui.header import RunHeader, mode_label
from tui_tts.ui.screens import (
    ConfirmCostScreen,
    HelpScreen,
    QuitScreen,
    dialog_bindings,
    help_content,
    help_rows,
)
from tui_tts.ui.stop_signals import detach_from_gone_terminal, install_stop_signals, remove_stop_signals, terminal_gone
from tui_tts.ui.theme_state import load_theme, save_theme

LOG_LINES = 2000


class DashboardApp(App[int]):
    """One run, live: header, chunk grid, log pane, and keys that steer the scheduler."""

    CSS_PATH = "app.tcss"
    TITLE = "tui-tts"
    COMMANDS = App.COMMANDS | {DashboardCommands}
    NOTIFICATION_TIMEOUT = 6
    BINDINGS = [
        Binding("q", "quit_run", "Quit", id="quit", tooltip="quit; asks first when work is in flight (done is saved)"),
        Binding("question_mark", "help", "Help", id="help", tooltip="this help"),
        Binding("space", "pause", "Pause", id="pause", tooltip="pause / resume dispatch (work in flight finishes)"),
        Binding("p", "toggle_parallel", "Par/Seq", id="toggle-parallel", tooltip="parallel <-> sequential"),
        Binding("plus,equals_sign", "more", "+1", id="more", tooltip="one more chunk at once"),
        Binding("minus", "fewer", "-1", id="fewer", tooltip="one fewer chunk at once"),
        Binding("r", "retry_failed", "Retry", id="retry", tooltip="retry the chunks that failed for good"),
        Binding("s", "stitch", "Stitch", id="stitch", tooltip="stitch the output (when every chunk is done)"),
        Binding("b", "raise_budget", "Budget", id="budget", show=False, tooltip="raise the spend cap by a quarter"),
        Binding("l", "focus_log", "Log", id="log", tooltip="focus the log (and make it bigger); again to go back"),
        Binding("ctrl+q", "quit", "Quit", id="ctrl-quit", show=False, priority=True, tooltip="the same as q"),
        Binding("ctrl+c", "help_quit", "Stop", id="interrupt", show=False,
                tooltip="stop gracefully now, without asking (again: quit at once)"),
    ]  # fmt: skip

    def __init__(self, session: Session, *, autostart: bool = True, clock_text: str | None = None,
                 cost_to_confirm: str | None = None, theme_file: Path | None = None) -> None:  # fmt: skip
        super().__init__()
        self.theme_file = theme_file  # where the chosen theme is remembered (None: not remembered, as in tests)
        self.cost_to_confirm = cost_to_confirm
        self.session = session
        self.controller = session.controller
        self.scheduler = session.controller.scheduler
        if self.scheduler.budget is not None:
            self.scheduler.budget.stops = False  # at the spend cap a person decides (b, space), the run waits
        self.autostart = autostart
        self.clock_text = clock_text  # fixed timestamps for snapshot tests
        self.exit_code = EXIT_OK
        self.finished = False
        self.stage = ""
        self.outcome: RunOutcome | None = None  # how the run ended, for the lines printed after the app exits
        self.error: str | None = None  # why the run failed, when it did
        self.stopping = False
        self._pending: deque[Event] = deque()
        self._unsubscribe = session.bus.subscribe(self._pending.append)

    def compose(self) -> ComposeResult:
        yield RunHeader(id="header")
        chunks = self.session.plan.chunks
        titles = [section.title for section in self.session.document.sections]
        yield ChunkGrid(len(chunks), [chunk.section for chunk in chunks], titles, id="grid")
        yield RichLog(id="log", max_lines=LOG_LINES, markup=False, wrap=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        if self.theme_file is not None:
            saved = load_theme(self.theme_file)
            if saved in self.available_themes:
                self.theme = saved
            self.theme_changed_signal.subscribe(self, self.remember_theme)
        grid = self.query_one(ChunkGrid)
        todo = {chunk.index for chunk in self.session.plan.todo}
        grid.set_states([ChunkState.QUEUED if c.index in todo else ChunkState.DONE for c in self.session.plan.chunks])
        grid.border_title = f"{len(self.session.plan.chunks)} chunks"
        grid.border_subtitle = "· queued  ▶ running  █ done  ↻ retry  ✗ failed"
        grid.focus()
        self.set_interval(1 / 30, self.drain_events)
        install_stop_signals(self.stop_gracefully, self.on_hangup)
        self.set_interval(0.5, self.refresh_header)
        self.set_interval(0.5, self.check_store)
        plan = self.session.plan
        if plan.resumed:
            self.log_line("info", f"resuming run {plan.run.id}: {plan.done}/{len(plan.chunks)} done")
        else:
            self.log_line("info", f"new run {plan.run.id}: {len(plan.chunks)} chunks")
        for level, message in self.session.opening_notes():  # before anything is synthesised
            self.log_line(level, message)
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

    def remember_theme(self, theme: Theme) -> None:
        if self.theme_file is not None:
            save_theme(self.theme_file, theme.name)

    # ----- the run -----

    @work(exclusive=True, group="run", exit_on_error=False)
    async def start_run(self) -> None:
        self.finished = False
        try:
            outcome = await self.controller.execute()
        except RunAborted as exc:  # the scheduler has already logged why
            self.show_failure(exc.message, exc.exit_code, logged=True)
            return
        except UserError as exc:
            self.show_failure(exc.message, exc.exit_code)
            return
        except StoreError as exc:
            self.show_failure(str(exc), EXIT_USAGE)  # "cannot write the database …" says it
            return
        except Exception as exc:  # a bug must still end the run visibly, never leave a dashboard that looks live
            self.show_failure(f"unexpected {type(exc).__name__}: {exc}", EXIT_CHUNKS_FAILED)
            return
        self.drain_events()  # the screen must show every event of the run before it says it is over
        self.finished = True
        self.outcome = outcome
        self.session.stats.stop()
        if outcome.interrupted:
            self.exit_code = EXIT_INTERRUPTED
            self.stage = "stopped"
            return
        if outcome.failed or outcome.pending:
            self.exit_code = EXIT_CHUNKS_FAILED
            message = f"{len(outcome.failed)} chunk(s) failed for good: press r to retry them"
            self.log_line("error", message)
            self.notify(message, severity="warning", timeout=10)
        elif outcome.output is not None:
            self.exit_code = EXIT_OK
            self.announce_output(outcome.output.written, outcome.output.duration, outcome.output.size_bytes)
        self.refresh_header()

    def check_store(self) -> None:
        """A failed database write ends the scheduler's workers without ending the run: show it, stop the rest."""
        failure = self.controller.store_failure
        if failure is not None and not self.finished:
            self.show_failure(str(failure), EXIT_USAGE)

    def show_failure(self, message: str, exit_code: int, logged: bool = False) -> None:
        """The run cannot go on: say why, in the log, a notice and the header; stop the clock; exit non-zero."""
        if self.error is not None:  # the first failure is the one to tell; what follows from it is noise
            return
        self.scheduler.stop(cancel_in_flight=True)
        self.drain_events()
        self.settle_running_cells()
        self.session.stats.stop()
        self.exit_code = exit_code
        self.error = message
        self.finished = True
        self.stage = "error"
        if not logged:
            self.log_line("error", message)
        self.notify(message, title="Run stopped", severity="error", timeout=30)
        self.refresh_header()

    def settle_running_cells(self) -> None:
        """Chunks still marked running when the run ended will not finish in this session: show them queued."""
        grid = self.query_one(ChunkGrid)
        for index in list(self.session.stats.running):
            grid.set_state(index, ChunkState.QUEUED)
        self.session.stats.running.clear()

    def closing_lines(self) -> ClosingLines:
        """What to print once the app has left the screen: the same last lines as headless mode."""
        stats, plan = self.session.stats, self.session.plan
        if self.error is not None:
            return error_lines(self.error, self.exit_code)
        if self.outcome is None:  # quit before the run started (a paid run not confirmed)
            return ClosingLines(self.exit_code, [f"not started: nothing was sent (run {plan.run.id})"])
        return closing_lines(self.outcome, stats.done, len(plan.chunks), plan.run.id)

    def announce_output(self, path: object, duration: float, size: int) -> None:
        stats = self.session.stats
        spend = f", ${stats.spend:.4f}" if stats.spend else ""
        summary = (f"wrote {path}: {format_duration(duration)} of audio, {size / 1e6:.1f} MB, in "
                   f"{format_duration(stats.elapsed)}{spend}, {stats.retries} retries")  # fmt: skip
        self.stage = "done"
        self.log_line("info", summary)
        self.notify(f"{path}", title="Finished", timeout=6)  # the log holds the whole line; keep the log visible

    # ----- events in, batched -----

    def drain_events(self) -> None:
        if not self._pending or not self.query(ChunkGrid):  # nothing new, or the app is closing
            return
        grid = self.query_one(ChunkGrid)
        stats = self.session.stats
        while self._pending:
            event = self._pending.popleft()
            stats.apply(event)
            view = event_view(event, self.scheduler.limit, self.scheduler.paused)
            for index, state in view.cells:
                grid.set_state(index, state)
            if view.line is not None:
                self.log_line(view.line.level, view.line.text)
            if view.stage is not None:
                self.stage = view.stage
        self.refresh_header()

    def refresh_header(self) -> None:
        plan = self.session.plan
        for header in self.query(RunHeader):  # none while the app is closing, when a timer may still fire
            header.show(plan.run.title, self.controller.engine.describe(), self.session.stats, self.scheduler.limit,
                        self.scheduler.paused, self.stage)  # fmt: skip

    def log_line(self, level: str, message: str) -> None:
        """One timestamped line; errors and warnings in the theme's colours. Messages are never parsed as markup."""
        stamp = self.clock_text or time.strftime("%H:%M:%S")
        colours = self.get_css_variables()
        style = {"error": f"bold {colours.get('error', 'red')}", "warning": colours.get("warning", "yellow")}
        for log in self.query(RichLog):  # none while the app is closing
            log.write(Text.assemble((stamp + " ", "dim"), (message, style.get(level, ""))))

    # ----- keys -----

    def action_toggle_parallel(self) -> None:
        self.scheduler.toggle_parallel()
        self.tell_limit()

    def action_more(self) -> None:
        self.scheduler.set_concurrency(self.scheduler.limit.user + 1)
        self.tell_limit()

    def action_fewer(self) -> None:
        self.scheduler.set_concurrency(self.scheduler.limit.user - 1)
        self.tell_limit()

    def tell_limit(self) -> None:
        """A change of limit shows at once, in the header; while paused also as a notice (nothing moves to show it)."""
        self.refresh_header()
        if self.scheduler.paused:
            self.notify(f"{mode_label(self.scheduler.limit, True)}", title="Limit changed")

    def action_pause(self) -> None:
        if self.scheduler.paused:
            self.scheduler.resume()
        else:
            self.scheduler.pause()
        self.refresh_header()

    def action_raise_budget(self) -> None:
        gate = self.scheduler.budget
        if gate is None or gate.budget is None:
            self.notify("no spend cap to raise (--budget or run.budget sets one)", severity="warning")
            return
        gate.raise_budget(0.25)

    async def action_retry_failed(self) -> None:
        count = await self.controller.retry_failed()
        self.log_line("info", f"retrying {count} failed chunk(s)" if count else "no failed chunks to retry")
        if count and self.finished:
            self.start_run()

    def action_stitch(self) -> None:
        if self.stage.startswith("stitching"):
            self.notify("already stitching; wait for it to finish", severity="warning")
            return
        if not self.finished and self.scheduler.remaining:
            self.notify("not every chunk is done yet", severity="warning")
            return
        self.stage = "stitching"
        self.refresh_header()
        self.stitch_again()

    @work(exclusive=True, group="run", exit_on_error=False)
    async def stitch_again(self) -> None:
        started = time.monotonic()
        try:
            result = await self.controller.stitch_again()
        except (UserError, StoreError) as exc:
            self.stage = "stitch failed"
            message = exc.message if isinstance(exc, UserError) else str(exc)
            self.log_line("error", message)
            self.notify(message, severity="error")
            self.refresh_header()
            return
        self.outcome = RunOutcome(output=result, elapsed=time.monotonic() - started)
        self.exit_code = EXIT_OK
        self.announce_output(result.written, result.duration, result.size_bytes)

    def action_focus_log(self) -> None:
        log = self.query_one(RichLog)
        if log.has_focus:
            log.remove_class("expanded")
            self.query_one(ChunkGrid).focus()
        else:
            log.add_class("expanded")
            log.focus()

    def action_details(self) -> None:
        self.query_one(ChunkGrid).action_open()

    def action_help(self) -> None:
        """Help generated from the bindings in force now, so it cannot drift from the keys."""
        maps = (self._bindings.key_to_bindings, self.query_one(ChunkGrid)._bindings.key_to_bindings)
        own = [binding for keys in maps for bindings in keys.values() for binding in bindings]  # app's, then grid's
        rows = help_rows([b for b in own if b.id or b.action == "command_palette"], self.get_key_display)
        dialogs = [(keys, text.lower()) for keys, text in help_rows(dialog_bindings(), self.get_key_display)]
        self.push_screen(HelpScreen(help_content(rows, dialogs)))

    async def on_chunk_grid_chunk_selected(self, message: ChunkGrid.ChunkSelected) -> None:
        await open_chunk_details(self, message.index)

    # ----- every way out: one graceful stop -----

    async def action_quit(self) -> None:
        """Ctrl+Q and Quit in the command palette: the same as q."""
        self.action_quit_run()

    def action_help_quit(self) -> None:
        """Ctrl-C: stop gracefully without asking, as the README promises (again: leave at once)."""
        self.stop_gracefully()

    def action_quit_run(self) -> None:
        if self.finished or self.stopping:
            self.quit_now(cancel_jobs=False)
            return
        if self.scheduler.in_flight == 0 and not self.scheduler.remaining:
            self.quit_now(cancel_jobs=False)
            return

        def chosen(choice: str | None) -> None:
            if choice in {"leave", "cancel"}:
                self.quit_now(cancel_jobs=choice == "cancel")

        remote = self.controller.engine.cancels_remote_jobs
        self.push_screen(QuitScreen(self.scheduler.in_flight, remote), chosen)

    def stop_gracefully(self) -> None:
        """Signals and Ctrl-C: stop without a question; a second one leaves at once (the store is consistent)."""
        if self.stopping:
            self._unsubscribe()
            self.exit(EXIT_INTERRUPTED if not self.finished else self.exit_code)
            return
        self.notify("stopping gracefully; Ctrl-C again quits at once", title="Stopping")
        self.quit_now(cancel_jobs=False)

    def on_hangup(self) -> None:
        """SIGHUP: `kill -HUP`, or the terminal window was closed; then nothing more may be written to it."""
        if terminal_gone():
            detach_from_gone_terminal(self._driver)
        self.stop_gracefully()

    def on_unmount(self) -> None:
        remove_stop_signals()

    @work(exclusive=True, group="quit", exit_on_error=False)
    async def quit_now(self, cancel_jobs: bool) -> None:
        self.stopping = True
        if cancel_jobs:
            count = await self.controller.cancel_remote_jobs()
            self.log_line("info", f"asked the backend to cancel {count} job(s)")
        if not self.finished:
            self.exit_code = EXIT_INTERRUPTED
            # A join is local work that the same command redoes for free: cancel it rather than wait minutes.
            stitching = self.stage.startswith("stitching")
            doing = "the join is cancelled (the same command joins again)" if stitching else "waiting for work"
            self.log_line("info", f"stopping: {doing}; everything done is saved")
            self.stage = "stopping"
            self.refresh_header()
            self.controller.interrupt()
            for worker in self.workers:
                if worker.group == "run":
                    if stitching:
                        worker.cancel()
                    with contextlib.suppress(WorkerCancelled, WorkerFailed):
                        await worker.wait()
            if self.outcome is None and self.error is None:  # the run had not started yet: nothing ran
                self.outcome = RunOutcome(interrupted=True)
        self._unsubscribe()
        self.exit(self.exit_code)
