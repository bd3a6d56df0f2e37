"""The chunk grid: one line-API widget, one cell per chunk, for books of 10,000+ chunks.

Rows are rendered on demand and cached as Strips keyed by everything that shapes them; a state change only marks
its row dirty, and dirty rows are flushed at most 30 times a second.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui_tts.models import ChunkState

CELL_WIDTH = 2  # a glyph and a space
STATES = tuple(ChunkState)
GLYPHS = {
    ChunkState.QUEUED: "·",
    ChunkState.RUNNING: "▶",
    ChunkState.DONE: "█",
    ChunkState.RETRY: "↻",
    ChunkState.FAILED: "✗",
}
FLUSH_INTERVAL = 1 / 30


class ChunkGrid(ScrollView, can_focus=True):
    """A cell per chunk, coloured and with a glyph per state, a cursor, and mouse selection."""

    COMPONENT_CLASSES = {f"chunk-grid--{state.value}" for state in STATES} | {"chunk-grid--cursor"}
    BINDINGS = [
        Binding("left", "move(-1)", "Left", show=False),
        Binding("right", "move(1)", "Right", show=False),
        Binding("up", "move_rows(-1)", "Up", show=False),
        Binding("down", "move_rows(1)", "Down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "open", "Details", id="details"),
    ]
    DEFAULT_CSS = """
    ChunkGrid { height: 1fr; }
    ChunkGrid > .chunk-grid--queued { color: $text-muted; }
    ChunkGrid > .chunk-grid--running { color: $accent; text-style: bold; }
    ChunkGrid > .chunk-grid--done { color: $success; }
    ChunkGrid > .chunk-grid--retry { color: $warning; text-style: bold; }
    ChunkGrid > .chunk-grid--failed { color: $error; text-style: bold; }
    ChunkGrid > .chunk-grid--cursor { background: $accent 40%; }
    """

    class ChunkSelected(Message):
        """The person pressed Enter on, or clicked, a chunk."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, total: int, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.states = bytearray(total)  # an index into STATES per chunk
        self.cursor = 0
        self._row_versions: dict[int, int] = {}
        self._dirty: set[int] = set()
        self._cache: dict[tuple[int, int, int, int, int], Strip] = {}
        self.flushes = 0

    def on_mount(self) -> None:
        self.set_interval(FLUSH_INTERVAL, self._flush_dirty_rows)
        self._update_virtual_size()

    # ----- data in -----

    def set_state(self, index: int, state: ChunkState) -> None:
        """Record a state change; the row is repainted at the next flush."""
        if 0 <= index < len(self.states):
            self.states[index] = STATES.index(state)
            self._mark(index)

    def set_states(self, states: list[ChunkState]) -> None:
        self.states = bytearray(STATES.index(state) for state in states)
        self._cache.clear()
        self._row_versions.clear()
        self._update_virtual_size()
        self.refresh()

    def state_of(self, index: int) -> ChunkState:
        return STATES[self.states[index]]

    def _mark(self, index: int) -> None:
        row = index // self.per_row
        self._row_versions[row] = self._row_versions.get(row, 0) + 1
        self._dirty.add(row)

    def _flush_dirty_rows(self) -> None:
        if not self._dirty:
            return
        top = self.scroll_offset.y
        visible = range(top, top + self.size.height)
        for row in self._dirty:
            if row in visible:
                self.refresh_lines(row)
        self._dirty.clear()
        self.flushes += 1

    # ----- geometry -----

    @property
    def per_row(self) -> int:
        return max(1, (self.size.width or 80) // CELL_WIDTH)

    @property
    def rows(self) -> int:
        return -(-len(self.states) // self.per_row)

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(self.per_row * CELL_WIDTH, self.rows)

    def on_resize(self, _event: events.Resize) -> None:
        self._cache.clear()
        self._row_versions.clear()
        self._update_virtual_size()

    # ----- rendering -----

    def render_line(self, y: int) -> Strip:
        row = self.scroll_offset.y + y
        width = self.size.width
        if row >= self.rows:
            return Strip.blank(width, self.rich_style)
        cursor_column = self.cursor - row * self.per_row if self.cursor // self.per_row == row else -1
        key = (row, self._row_versions.get(row, 0), cursor_column, width, self.per_row)
        strip = self._cache.get(key)
        if strip is None:
            if len(self._cache) > 4096:
                self._cache.clear()
            strip = self._cache[key] = self._render_row(row, cursor_column, width)
        return strip

    def _render_row(self, row: int, cursor_column: int, width: int) -> Strip:
        styles = {state: self.get_component_rich_style(f"chunk-grid--{state.value}") for state in STATES}
        cursor_style = self.get_component_rich_style("chunk-grid--cursor")
        start = row * self.per_row
        segments: list[Segment] = []
        for column, code in enumerate(self.states[start : start + self.per_row]):
            state = STATES[code]
            style: Style = styles[state]
            if column == cursor_column:
                style = style + cursor_style
            segments.append(Segment(GLYPHS[state], style))
            segments.append(Segment(" ", cursor_style if column == cursor_column else None))
        return Strip(segments).adjust_cell_length(width, self.rich_style)

    # ----- cursor and selection -----

    def _place_cursor(self, index: int) -> None:
        if not len(self.states):
            return
        old_row = self.cursor // self.per_row
        self.cursor = max(0, min(len(self.states) - 1, index))
        new_row = self.cursor // self.per_row
        for row in {old_row, new_row}:
            self._row_versions[row] = self._row_versions.get(row, 0) + 1
            self.refresh_lines(row)
        self.scroll_to_region_row(new_row)

    def scroll_to_region_row(self, row: int) -> None:
        top = self.scroll_offset.y
        if row < top:
            self.scroll_to(y=row, animate=False)
        elif row >= top + self.size.height:
            self.scroll_to(y=row - self.size.height + 1, animate=False)

    def action_move(self, step: int) -> None:
        self._place_cursor(self.cursor + step)

    def action_move_rows(self, rows: int) -> None:
        self._place_cursor(self.cursor + rows * self.per_row)

    def action_jump(self, index: int) -> None:
        self._place_cursor(index if index >= 0 else len(self.states) - 1)

    def action_open(self) -> None:
        self.post_message(self.ChunkSelected(self.cursor))

    def on_click(self, event: events.Click) -> None:
        row = self.scroll_offset.y + event.y
        index = row * self.per_row + event.x // CELL_WIDTH
        if 0 <= index < len(self.states) and event.x < self.per_row * CELL_WIDTH:
            self._place_cursor(index)
            if event.chain >= 2:
                self.post_message(self.ChunkSelected(index))
