"""Modal screens: a chunk's details, the quit question, and help."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui_tts.progress import format_duration


def describe_chunk(details: dict[str, Any], median_seconds_per_char: float | None) -> str:
    """The details of one chunk as markup: text, state, attempts, errors, job, timings, audio per character."""
    lines = [f"[b]Chunk {details['idx'] + 1}[/b]  section {details['section'] + 1}  [b]{details['state']}[/b]  "
             f"attempts {details['attempts']}"]  # fmt: skip
    if details.get("job_id"):
        lines.append(f"job {details['job_id']}  submissions {details.get('submissions') or 0}"
                     + (f"  worker {details['worker_id']}" if details.get("worker_id") else ""))  # fmt: skip
    timing = []
    if details.get("elapsed") is not None:
        timing.append(f"took {details['elapsed']:.2f} s")
    if details.get("delay_ms") is not None:
        timing.append(f"queued {details['delay_ms'] / 1000:.2f} s")
    if details.get("execution_ms") is not None:
        timing.append(f"executed {details['execution_ms'] / 1000:.2f} s")
    if details.get("cost"):
        timing.append(f"${details['cost']:.5f}")
    if timing:
        lines.append("  ".join(timing))
    if details.get("duration"):
        per_char = details["duration"] / max(1, len(details["text"]))
        note = ""
        if median_seconds_per_char and per_char < 0.5 * median_seconds_per_char:
            note = "  [b $error]suspect: much shorter than its text should be (truncated?)[/]"
        lines.append(f"audio {format_duration(details['duration'])} ({details['duration']:.2f} s), "
                     f"{per_char:.3f} s per character{note}")  # fmt: skip
    if details.get("last_error"):
        lines.append(f"[$error]last error: {details['last_error']}[/]")
    for event in details.get("events", [])[-10:]:
        lines.append(f"[dim]{event}[/dim]")
    lines += ["", details["text"]]
    return "\n".join(lines)


class ChunkDetailsScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,enter,q", "dismiss", "Close", id="close-details")]

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.markup = markup

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="details"):
            yield Static(self.markup, id="details-text", markup=True)

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)


class QuitScreen(ModalScreen[str]):
    """Asked when work is in flight: leave remote jobs to finish (resume picks them up), cancel them, or stay."""

    BINDINGS = [
        Binding("y", "choose('leave')", "Quit", id="quit-leave"),
        Binding("c", "choose('cancel')", "Quit and cancel jobs", id="quit-cancel"),
        Binding("n,escape", "choose('stay')", "Stay", id="quit-stay"),
    ]

    def __init__(self, in_flight: int) -> None:
        super().__init__()
        self.in_flight = in_flight

    def compose(self) -> ComposeResult:
        with Vertical(id="quit-dialog"):
            yield Static(f"[b]{self.in_flight} chunk(s) in flight.[/b] Everything done is saved.\n"
                         "Quit and leave remote jobs to finish (the next start picks them up), "
                         "quit and cancel them, or stay?")  # fmt: skip
            yield Button("Quit (y)", id="leave", variant="primary")
            yield Button("Quit, cancel jobs (c)", id="cancel", variant="error")
            yield Button("Stay (n)", id="stay")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "stay")

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)


HELP = """[b]tui-tts dashboard[/b]

  p        parallel <-> sequential
  + / -    one more / one fewer at once
  space    pause / resume dispatch (work in flight finishes)
  r        retry the chunks that failed for good
  s        stitch the output (when every chunk is done; again to re-make it)
  l        focus the log (and make it bigger); again to go back
  enter    the selected chunk's details (arrows or the mouse move the cursor)
  q        quit; asks first when work is in flight (everything done is saved)
  ?        this help

Grid:  · queued   ▶ running   █ done   ↻ retry   ✗ failed"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close", id="close-help")]

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Static(HELP)

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)


class ConfirmCostScreen(ModalScreen[bool]):
    """Asked before a paid run starts: what it should cost, and whether to go on."""

    BINDINGS = [
        Binding("y", "choose(True)", "Start", id="cost-start"),
        Binding("n,escape,q", "choose(False)", "Quit", id="cost-quit"),
    ]

    def __init__(self, description: str) -> None:
        super().__init__()
        self.description = description

    def compose(self) -> ComposeResult:
        with Vertical(id="quit-dialog"):
            yield Static(f"[b]This run costs money.[/b]\nEstimated: {self.description}.\n"
                         "The spend shown while it runs is measured from each job's executionTime.")  # fmt: skip
            yield Button("Start (y)", id="start", variant="primary")
            yield Button("Quit (n)", id="quit")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "start")

    def action_choose(self, start: bool) -> None:
        self.dismiss(start)
