"""Fixing one chunk from its details: `e` edits its text, `R` makes a new take, `a` plays it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from tui_tts.audio.listen import listen
from tui_tts.errors import FfmpegError, UserError
from tui_tts.ui.screens import ChunkDetailsScreen, describe_chunk

if TYPE_CHECKING:
    from tui_tts.ui.app import DashboardApp


async def open_chunk_details(app: DashboardApp, index: int) -> None:
    """A chunk's details, with the keys that fix it (enter on a cell, or a double-click)."""
    controller = app.controller
    details = await controller.chunk_details(index)
    if details:
        median = await controller.median_seconds_per_char()

        def say(message: str) -> None:
            app.log_line("info", message)
            app.notify(message, timeout=8)

        app.push_screen(ChunkFixScreen(describe_chunk(details, median), index, DashboardFixer(app), say))


class DashboardFixer:
    """The run's side of fixing a chunk from the dashboard: edits and takes go to the controller; a run that had
    finished starts again for them (and joins the book again when they are made)."""

    def __init__(self, app: DashboardApp) -> None:
        self.app = app
        self.controller = app.controller

    def text_of(self, index: int) -> str:
        assert self.controller.plan is not None
        return self.controller.keys.text(self.controller.plan.chunks[index])

    async def fix(self, index: int, text: str | None) -> str:
        try:
            await self.controller.fix_chunk(index, text)
        except UserError as exc:
            return exc.message
        if self.app.finished:
            self.app.start_run()
        how = "with the edited text" if text is not None else "as a new take"
        return f"chunk {index + 1}: making it again {how} (the old take is kept); the book is joined again after"

    async def listen(self, index: int) -> str:
        details = await self.controller.chunk_details(index)
        if details is None or not details.audio_path:
            return f"chunk {index + 1} has no audio yet"
        assert self.controller.plan is not None
        folder = self.controller.data_dir / "runs" / self.controller.plan.run.id / "listen"
        try:
            playback = await listen(self.controller.ffmpeg, Path(details.audio_path), folder / f"chunk-{index + 1}.wav")
        except (FfmpegError, OSError) as exc:
            return f"cannot play chunk {index + 1}: {exc}"
        return f"chunk {index + 1}: {playback.describe()}"


class ChunkFixer(Protocol):
    """What the details screen asks of the run (the dashboard binds it to the run's controller)."""

    def text_of(self, index: int) -> str:
        """The chunk's text as it is read now (its edit, if it has one)."""
        ...

    async def fix(self, index: int, text: str | None) -> str:
        """Make the chunk again, with `text` as its new text when given; returns what to say."""
        ...

    async def listen(self, index: int) -> str:
        """Play the chunk's audio, or write it as a WAV; returns what to say."""
        ...


class ChunkFixScreen(ChunkDetailsScreen):
    """A chunk's details, with the keys that fix it."""

    BINDINGS = [
        *ChunkDetailsScreen.BINDINGS,
        Binding("e", "edit", "Edit the chunk's text (kept for later runs of this input)", id="chunk-edit"),
        Binding("R", "redo", "Make the chunk again (a new take)", id="chunk-redo"),
        Binding("a", "listen", "Listen to the chunk", id="chunk-listen"),
    ]

    def __init__(self, content: Content, index: int, fixer: ChunkFixer, say: Callable[[str], None]) -> None:
        super().__init__(content)
        self.index = index
        self.fixer = fixer
        self.say = say

    def action_edit(self) -> None:
        def edited(text: str | None) -> None:
            if text is not None and text != self.fixer.text_of(self.index):
                self.run_worker(self._then_close(self.fixer.fix(self.index, text)))

        self.app.push_screen(EditChunkScreen(self.index, self.fixer.text_of(self.index)), edited)

    def action_redo(self) -> None:
        self.run_worker(self._then_close(self.fixer.fix(self.index, None)))

    def action_listen(self) -> None:
        self.run_worker(self._say(self.fixer.listen(self.index)))

    async def _say(self, doing: Awaitable[str]) -> None:
        self.say(await doing)

    async def _then_close(self, doing: Awaitable[str]) -> None:
        self.say(await doing)
        self.dismiss(None)


class EditChunkScreen(ModalScreen[str | None]):
    """The chunk's text in an editor: ctrl+s keeps the edit and makes the chunk again, escape leaves it as it was."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save the edit and make the chunk again", id="edit-save"),
        Binding("escape", "cancel", "Leave the chunk as it was", id="edit-cancel"),
    ]

    def __init__(self, index: int, text: str) -> None:
        super().__init__()
        self.index = index
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="edit-dialog"):
            yield Static(Content.assemble((f"Chunk {self.index + 1}", "bold"),
                                          "  ctrl+s saves and makes it again, escape cancels"))  # fmt: skip
            yield TextArea(self.text, id="edit-text", soft_wrap=True)

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_save(self) -> None:
        text = " ".join(self.query_one(TextArea).text.split())
        self.dismiss(text or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
