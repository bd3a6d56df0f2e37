"""Entry point of the dashboard: build the session with the same factory as headless, then run the app."""

from __future__ import annotations

import sys

from tui_tts.errors import EXIT_OK
from tui_tts.request import RunRequest
from tui_tts.session import open_session
from tui_tts.ui.app import DashboardApp


async def run_dashboard(request: RunRequest) -> int:
    async with open_session(request) as session:
        if session.nothing_to_do:
            print(session.nothing_to_do, file=sys.stderr)
            return EXIT_OK
        app = DashboardApp(session, cost_to_confirm=session.cost_to_confirm())
        code = await app.run_async()
        return app.exit_code if code is None else int(code)
