"""The dashboard's own actions in the command palette (Ctrl+P): the same actions its keys run."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from tui_tts.ui.app import DashboardApp

# (name in the palette, what it does, the app action it runs)
COMMANDS = (
    ("Pause / resume", "stop dispatching new chunks, or start again (work in flight finishes)", "pause"),
    ("Parallel / sequential", "switch between the parallel limit and one at a time", "toggle_parallel"),
    ("Concurrency +1", "one more chunk at once", "more"),
    ("Concurrency -1", "one fewer chunk at once", "fewer"),
    ("Raise the budget", "a quarter more spend allowed; a run paused at the cap goes on", "raise_budget"),
    ("Retry failed chunks", "put every chunk that failed for good back in the queue", "retry_failed"),
    ("Stitch the output", "join every chunk into the output file (when all are done)", "stitch"),
    ("Chunk details", "the selected chunk's text, attempts, errors and timings", "details"),
    ("Toggle the log", "focus the log and make it bigger; again to go back", "focus_log"),
    ("Help", "every key, the mouse and the grid's legend", "help"),
)


class DashboardCommands(Provider):
    """Offers the run's actions by name; running one is the same as pressing its key."""

    @property
    def dashboard(self) -> DashboardApp:
        return self.app  # type: ignore[return-value]

    async def discover(self) -> Hits:
        for name, help_text, action in COMMANDS:
            yield DiscoveryHit(name, partial(self.dashboard.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, action in COMMANDS:
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(self.dashboard.run_action, action), help=help_text)
