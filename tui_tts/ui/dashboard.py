"""Entry point of the dashboard: build the session with the same factory as headless, then run the app."""

from __future__ import annotations

import argparse

from tui_tts.session import open_session
from tui_tts.ui.app import DashboardApp
from tui_tts.ui.theme_state import theme_state_path


async def run_dashboard(args: argparse.Namespace) -> int:
    async with open_session(args) as session:
        estimate = session.remaining_cost()
        confirm = estimate.describe() if estimate.paid and not getattr(args, "yes", False) else None
        app = DashboardApp(session, cost_to_confirm=confirm, theme_file=theme_state_path())
        await app.run_async()
    closing = app.closing_lines()  # once the terminal is restored: what happened, as headless says it
    closing.print()
    return closing.exit_code
