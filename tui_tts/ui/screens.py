"""Modal screens: a chunk's details, the quit question, and help."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui_tts.models import ChunkDetails
from tui_tts.run.progress import format_duration


def describe_chunk(details: ChunkDetails, median_seconds_per_char: float | None) -> Content:
    """The details of one chunk: text, state, attempts, errors, job, timings, audio per character.

    Built as Content: the chunk's text and a server's error message are shown literally, never parsed as markup.
    """
    parts: list[tuple[str, str] | str] = [
        (f"Chunk {details.index + 1}", "bold"), f"  section {details.section + 1}  ",
        (str(details.state), "bold"), f"  attempts {details.attempts}",
    ]  # fmt: skip
    if details.job_id:
        parts.append(f"\njob {details.job_id}  submissions {details.submissions}"
                     + (f"  worker {details.worker_id}" if details.worker_id else ""))  # fmt: skip
    timing = []
    if details.elapsed is not None:
        timing.append(f"took {details.elapsed:.2f} s")
    if details.delay_ms is not None:
        timing.append(f"queued {details.delay_ms / 1000:.2f} s")
    if details.execution_ms is not None:
        timing.append(f"executed {details.execution_ms / 1000:.2f} s")
    if details.cost:
        timing.append(f"${details.cost:.5f}")
    if timing:
        parts.append("\n" + "  ".join(timing))
    if details.duration:
        per_char = details.duration / max(1, len(details.text))
        parts.append(f"\naudio {format_duration(details.duration)} ({details.duration:.2f} s), "
                     f"{per_char:.3f} s per character")  # fmt: skip
        if median_seconds_per_char and per_char < 0.5 * median_seconds_per_char:
            parts += ["  ", ("suspect: much shorter than its text should be (truncated?)", "bold $error")]
    if details.last_error:
        parts += ["\n", (f"last error: {details.last_error}", "$error")]
    for event in details.events[-10:]:
        moment = time.strftime("%H:%M:%S", time.localtime(event.at))
        parts += ["\n", (f"{moment} {event.kind}: {event.message}", "dim")]
    parts += ["\n\n", details.text]
    if details.edited is not None:
        parts += ["\n\n", ("edited, read as:", "bold"), "\n", details.edited]
    return Content.assemble(*parts)


class ChunkDetailsScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,enter,q", "dismiss", "Close", id="close-details")]

    def __init__(self, content: Content) -> None:
        super().__init__()
        self.content = content

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="details"):
            yield Static(self.content, id="details-text")

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)


class QuitScreen(ModalScreen[str]):
    """Asked when work is in flight: stop (remote jobs may finish; resume picks them up), cancel them, or stay."""

    BINDINGS = [
        Binding("y", "choose('leave')", "Quit", id="quit-leave"),
        Binding("c", "choose('cancel')", "Quit and cancel remote jobs", id="quit-cancel"),
        Binding("n,escape", "choose('stay')", "Stay", id="quit-stay"),
    ]

    def __init__(self, in_flight: int, remote: bool = True) -> None:
        super().__init__()
        self.in_flight = in_flight
        self.remote = remote  # a local engine has no jobs elsewhere to leave running or cancel

    def compose(self) -> ComposeResult:
        with Vertical(id="quit-dialog"):
            if self.remote:
                question = ("Quit and leave remote jobs to finish (the next start picks them up), "
                            "quit and cancel them, or stay?")  # fmt: skip
            else:
                question = "Quit (the chunks in progress are redone next time, from where the run stopped), or stay?"
            yield Static(Content.assemble((f"{self.in_flight} chunk(s) in flight.", "bold"),
                                          " Everything done is saved.\n", question))  # fmt: skip
            yield Button("Quit (y)", id="leave", variant="primary")
            if self.remote:
                yield Button("Quit, cancel jobs (c)", id="cancel", variant="error")
            yield Button("Stay (n)", id="stay")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action == "choose" and parameters == ("cancel",) and not self.remote)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "stay")

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)


MOUSE_HELP = ("click", "select a chunk; double-click opens its details; the wheel scrolls the grid and the log")
GRID_LEGEND = "Grid:  · queued   ▶ running   █ done   ↻ retry   ✗ failed"


def help_rows(bindings: Iterable[Binding], key_display: Callable[[Binding], str]) -> list[tuple[str, str]]:
    """(keys, what they do) for bindings, one row per thing done: `+` and `=` share a row, and so do the arrows."""
    rows: dict[str, list[str]] = {}
    for binding in bindings:
        text = binding.tooltip or binding.description
        if not text:
            continue
        shown = rows.setdefault(text, [])
        for key in binding.key.split(","):
            display = key_display(dataclasses.replace(binding, key=key))
            if display not in shown:
                shown.append(display)
    return [(" ".join(shown), text) for text, shown in rows.items()]


def dialog_bindings() -> list[Binding]:
    """The keys of every dialog, for the help screen."""
    found = []
    for screen in _dialogs(ModalScreen):  # those defined here, and in the modules beside (a chunk's fixes)
        found += [binding for binding in screen.BINDINGS if isinstance(binding, Binding) and binding not in found]
    return found


def _dialogs(base: type[ModalScreen[Any]]) -> list[type[ModalScreen[Any]]]:
    found = []
    for screen in base.__subclasses__():
        if screen.__module__.startswith("tui_tts.ui."):
            found.append(screen)
        found += _dialogs(screen)
    return found


def help_content(keys: list[tuple[str, str]], dialog_keys: list[tuple[str, str]]) -> Content:
    """The help text, from the bindings in force (key, what it does), the dialogs' keys, and the mouse."""
    width = min(16, max((len(key) for key, _ in [*keys, *dialog_keys, MOUSE_HELP]), default=8)) + 2
    lines: list[tuple[str, str] | str] = [("tui-tts dashboard", "bold"), "\n\n"]
    for key, text in [*keys, MOUSE_HELP]:
        lines += ["  ", (key.ljust(width), "bold $accent"), text, "\n"]
    lines += ["\n", ("In dialogs", "bold"), "\n"]
    for key, text in dialog_keys:
        lines += ["  ", (key.ljust(width), "bold $accent"), text, "\n"]
    lines += ["\n", GRID_LEGEND]
    return Content.assemble(*lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close", id="close-help")]

    def __init__(self, content: Content) -> None:
        super().__init__()
        self.content = content

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(self.content, id="help-text")

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)


class ConfirmCostScreen(ModalScreen[bool]):
    """Asked before a paid run starts: what it should cost, and whether to go on."""

    BINDINGS = [
        Binding("y", "choose(True)", "Start the paid run", id="cost-start"),
        Binding("n,escape,q", "choose(False)", "Do not start the paid run", id="cost-quit"),
    ]

    def __init__(self, description: str) -> None:
        super().__init__()
        self.description = description

    def compose(self) -> ComposeResult:
        with Vertical(id="quit-dialog"):
            yield Static(Content.assemble(
                ("This run costs money.", "bold"), f"\nEstimated: {self.description}.\n",
                "The spend shown while it runs is measured from each job's executionTime.",
            ))  # fmt: skip
            yield Button("Start (y)", id="start", variant="primary")
            yield Button("Quit (n)", id="quit")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "start")

    def action_choose(self, start: bool) -> None:
        self.dismiss(start)
