"""Entry point of the dashboard: build the session with the same factory as headless, then run the app."""

from __future__ import annotations

import sys

from tui_tts.errors import EXIT_OK
from tui_tts.events import LogEmitted
from tui_tts.run.request import RunRequest
from tui_tts.run.session import Session, open_session
from tui_tts.ui.app import DashboardApp
from tui_tts.ui.theme_state import theme_state_path


def show_text_notes(session: Session) -> None:
    """How much of the book is read, and an unexplained loss as a warning: into the log, after the run's first line
    (the app takes the bus's events from its creation)."""
    for level, message in session.text_notes:
        session.bus.emit(LogEmitted(level, message))


async def run_dashboard(request: RunRequest) -> int:
    async with open_session(request) as session:
        if session.nothing_to_do:
            print(session.nothing_to_do, file=sys.stderr)
            return EXIT_OK
        app = DashboardApp(session, cost_to_confirm=session.cost_to_confirm(), theme_file=theme_state_path())
        show_text_notes(session)
        await app.run_async()
        if app.outcome is None and app.error is None:
            await session.set_aside()  # never started (a paid run declined): not left 'active'
    closing = app.closing_lines()  # once the terminal is restored: what happened, as headless says it
    closing.print()
    return closing.exit_code
