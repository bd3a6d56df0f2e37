"""Where each chunk's cell sits in the grid: every chapter starts a new row, labelled in a left gutter.

Pure geometry (no Textual), so it is cheap to test and to recompute on resize: a book of 10,000 chunks lays out in
a few milliseconds, and finding a chunk's row is a binary search.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

CELL_WIDTH = 2  # a glyph and a space
MAX_GUTTER = 32


@dataclass(frozen=True, slots=True)
class GridLayout:
    """Rows of cells; `row_first[r]` is the first chunk on row r, and `head_row[s]` is the row section s starts on."""

    gutter: int  # columns of chapter label before the cells (0: one section, no labels)
    per_row: int  # cells per row
    row_first: tuple[int, ...]
    row_section: tuple[int, ...]
    head_row: dict[int, int]
    total: int

    @property
    def rows(self) -> int:
        return len(self.row_first)

    def row_of(self, index: int) -> int:
        return bisect.bisect_right(self.row_first, index) - 1

    def row_end(self, row: int) -> int:
        """One past the last chunk on the row."""
        return self.row_first[row + 1] if row + 1 < self.rows else self.total

    def index_at(self, row: int, x: int) -> int | None:
        """The chunk under column x of a row, if any."""
        if not 0 <= row < self.rows or x < self.gutter:
            return None
        index = self.row_first[row] + (x - self.gutter) // CELL_WIDTH
        return index if index < self.row_end(row) and (x - self.gutter) // CELL_WIDTH < self.per_row else None

    def step_rows(self, index: int, rows: int) -> int:
        """The chunk `rows` rows up or down from index, in the same column where that row is long enough."""
        row = self.row_of(index)
        column = index - self.row_first[row]
        target = max(0, min(self.rows - 1, row + rows))
        return min(self.row_first[target] + column, self.row_end(target) - 1)


def lay_out(sections: Sequence[int], width: int, label_width: int) -> GridLayout:
    """Rows for chunks whose sections are `sections`, at `width` columns; labels want `label_width` columns."""
    distinct = len(set(sections))
    gutter = min(MAX_GUTTER, label_width + 1, width // 3) if distinct > 1 else 0
    per_row = max(1, (width - gutter) // CELL_WIDTH)
    row_first: list[int] = []
    row_section: list[int] = []
    head_row: dict[int, int] = {}
    index = 0
    while index < len(sections):
        section = sections[index]
        head_row.setdefault(section, len(row_first))
        stop = index
        while stop < len(sections) and sections[stop] == section and stop - index < per_row:
            stop += 1
        if gutter == 0:  # one section: rows simply wrap
            stop = min(len(sections), index + per_row)
        row_first.append(index)
        row_section.append(section)
        index = stop
    return GridLayout(gutter, per_row, tuple(row_first), tuple(row_section), head_row, len(sections))


def chapter_label(number: int, title: str, done: int, total: int, width: int) -> str:
    """`' 3 Down the Rabbit-Hole  12/30'` fitted to width: the title is cut (with an ellipsis), never the counts."""
    counts = f" {done}/{total} "
    head = f"{number:>2} "
    room = width - len(head) - len(counts)
    if room <= 0:
        return (head + counts.strip())[:width].ljust(width)
    name = title if len(title) <= room else title[: max(0, room - 1)].rstrip() + "…"
    return head + name.ljust(room) + counts
