"""The chunk grid: one line-API widget, one cell per chunk, for books of 10,000+ chunks.

Each chapter starts a row labelled with its number, title and done/total. Rows are rendered on demand and cached as
Strips keyed by everything that shapes them; a state change only marks its row (and its chapter's label row) dirty,
and dirty rows are flushed at most 30 times a second.
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
from tui_tts.ui.grid_layout import CELL_WIDTH, chapter_label, lay_out

STATES = tuple(ChunkState)
CODES = {state: code for code, state in enumerate(STATES)}  # per-event lookups without a tuple scan
DONE = CODES[ChunkState.DONE]
GLYPHS = {
    ChunkState.QUEUED: "·",
    ChunkState.RUNNING: "▶",
    ChunkState.DONE: "█",
    ChunkState.RETRY: "↻",
    ChunkState.FAILED: "✗",
}
FLUSH_INTERVAL = 1 / 30
CURSOR_HELP = "move the cursor (a chapter's first chunk starts its row)"


class ChunkGrid(ScrollView, can_focus=True):
    """A cell per chunk, coloured and with a glyph per state, a cursor, and mouse selection."""

    COMPONENT_CLASSES = {f"chunk-grid--{state.value}" for state in STATES} | {
        "chunk-grid--cursor",
        "chunk-grid--label",
        "chunk-grid--label-done",
    }
    BINDINGS = [
        Binding("left", "move(-1)", "Left", show=False, id="cursor-left", tooltip=CURSOR_HELP),
        Binding("right", "move(1)", "Right", show=False, id="cursor-right", tooltip=CURSOR_HELP),
        Binding("up", "move_rows(-1)", "Up", show=False, id="cursor-up", tooltip=CURSOR_HELP),
        Binding("down", "move_rows(1)", "Down", show=False, id="cursor-down", tooltip=CURSOR_HELP),
        Binding("home", "jump(0)", "First", show=False, id="cursor-first", tooltip=CURSOR_HELP),
        Binding("end", "jump(-1)", "Last", show=False, id="cursor-last", tooltip=CURSOR_HELP),
        Binding("enter", "open", "Details", id="details", show=False, tooltip="the selected chunk's details"),
    ]
    DEFAULT_CSS = """
    ChunkGrid { height: 1fr; }
    ChunkGrid > .chunk-grid--queued { color: $text-muted; }
    ChunkGrid > .chunk-grid--running { color: $accent; text-style: bold; }
    ChunkGrid > .chunk-grid--done { color: $success; }
    ChunkGrid > .chunk-grid--retry { color: $warning; text-style: bold; }
    ChunkGrid > .chunk-grid--failed { color: $error; text-style: bold; }
    ChunkGrid > .chunk-grid--cursor { background: $accent 40%; }
    ChunkGrid > .chunk-grid--label { color: $text-muted; }
    ChunkGrid > .chunk-grid--label-done { color: $success; }
    """

    class ChunkSelected(Message):
        """The person pressed Enter on, or clicked, a chunk."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(
        self, total: int, sections: list[int] | None = None, titles: list[str] | None = None, *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.states = bytearray(total)  # an index into STATES per chunk
        self.sections = sections if sections is not None and len(sections) == total else [0] * total
        self.titles = titles or []
        self.section_total: dict[int, int] = {}
        for section in self.sections:
            self.section_total[section] = self.section_total.get(section, 0) + 1
        self.section_done = dict.fromkeys(self.section_total, 0)
        self.cursor = 0
        self.cells = lay_out(self.sections, 80, self._label_width())
        self._row_versions: dict[int, int] = {}
        self._dirty: set[int] = set()
        self._cache: dict[tuple[int, int, int, int], Strip] = {}
        self.flushes = 0

    def on_mount(self) -> None:
        self.set_interval(FLUSH_INTERVAL, self._flush_dirty_rows)
        self._relayout()

    # ----- data in -----

    def set_state(self, index: int, state: ChunkState) -> None:
        """Record a state change; the row (and its chapter's label) is repainted at the next flush."""
        if 0 <= index < len(self.states):
            old, new = self.states[index], CODES[state]
            self.states[index] = new
            if (old == DONE) != (new == DONE):
                section = self.sections[index]
                self.section_done[section] += 1 if new == DONE else -1
                self._mark_row(self.cells.head_row[section])
            self._mark_row(self.cells.row_of(index))

    def set_states(self, states: list[ChunkState]) -> None:
        self.states = bytearray(CODES[state] for state in states)
        self.section_done = dict.fromkeys(self.section_total, 0)
        for section, state in zip(self.sections, states, strict=True):
            self.section_done[section] += state == ChunkState.DONE
        self._relayout()
        self.refresh()

    def state_of(self, index: int) -> ChunkState:
        return STATES[self.states[index]]

    def chapter_progress(self, section: int) -> tuple[int, int]:
        """(done, total) chunks of one chapter."""
        return self.section_done.get(section, 0), self.section_total.get(section, 0)

    def _mark_row(self, row: int) -> None:
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

    def _label_width(self) -> int:
        longest = max((len(title) for title in self.titles), default=10)
        counts = max((len(f"{total}/{total}") for total in self.section_total.values()), default=3)
        return 3 + longest + 2 + counts

    def _relayout(self) -> None:
        self.cells = lay_out(self.sections, self.size.width or 80, self._label_width())
        self._cache.clear()
        self._row_versions.clear()
        self.virtual_size = Size(self.cells.gutter + self.cells.per_row * CELL_WIDTH, self.cells.rows)

    def on_resize(self, _event: events.Resize) -> None:
        self._relayout()

    def notify_style_update(self) -> None:
        """A theme change restyles the widget: rows cached in the old colours must be drawn again."""
        super().notify_style_update()
        self._cache.clear()
        self.refresh()

    # ----- rendering -----

    def render_line(self, y: int) -> Strip:
        row = self.scroll_offset.y + y
        width = self.size.width
        cells = self.cells
        if row >= cells.rows:
            return Strip.blank(width, self.rich_style)
        first = cells.row_first[row]
        cursor_column = self.cursor - first if first <= self.cursor < cells.row_end(row) else -1
        key = (row, self._row_versions.get(row, 0), cursor_column, width)
        strip = self._cache.get(key)
        if strip is None:
            if len(self._cache) > 4096:
                self._cache.clear()
            strip = self._cache[key] = self._render_row(row, cursor_column, width)
        return strip

    def _render_row(self, row: int, cursor_column: int, width: int) -> Strip:
        styles = {state: self.get_component_rich_style(f"chunk-grid--{state.value}") for state in STATES}
        cursor_style = self.get_component_rich_style("chunk-grid--cursor")
        cells = self.cells
        segments: list[Segment] = []
        if cells.gutter:
            section = cells.row_section[row]
            label = " " * cells.gutter
            done, total = self.chapter_progress(section)
            if cells.head_row[section] == row:
                title = self.titles[section] if section < len(self.titles) else f"Chapter {section + 1}"
                label = chapter_label(section + 1, title, done, total, cells.gutter)
            kind = "chunk-grid--label-done" if done == total else "chunk-grid--label"
            segments.append(Segment(label, self.get_component_rich_style(kind)))
        for column, code in enumerate(self.states[cells.row_first[row] : cells.row_end(row)]):
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
        old_row = self.cells.row_of(self.cursor)
        self.cursor = max(0, min(len(self.states) - 1, index))
        new_row = self.cells.row_of(self.cursor)
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
        self._place_cursor(self.cells.step_rows(self.cursor, rows))

    def action_jump(self, index: int) -> None:
        self._place_cursor(index if index >= 0 else len(self.states) - 1)

    def action_open(self) -> None:
        self.post_message(self.ChunkSelected(self.cursor))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)  # inside the border: the widget's own offset counts the border
        if offset is None:
            return
        index = self.cells.index_at(self.scroll_offset.y + offset.y, offset.x)
        if index is not None:
            self._place_cursor(index)
            if event.chain >= 2:
                self.post_message(self.ChunkSelected(index))
