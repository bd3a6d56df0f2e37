"""Grid geometry: chapters start rows, labels fit, and moving between rows keeps the column."""

from __future__ import annotations

from tui_tts.ui.grid_layout import GridLayout, chapter_label, lay_out


def test_one_section_wraps_without_a_gutter() -> None:
    cells = lay_out([0] * 25, 20, 30)
    assert cells.gutter == 0 and cells.per_row == 10
    assert cells.row_first == (0, 10, 20) and cells.row_end(2) == 25


def test_each_chapter_starts_a_row() -> None:
    sections = [0] * 3 + [1] * 12 + [2] * 1
    cells = lay_out(sections, 34, 13)  # gutter 11 (width // 3), 11 cells per row
    assert isinstance(cells, GridLayout) and cells.gutter == 11 and cells.per_row == 11
    assert cells.row_first == (0, 3, 14, 15)
    assert cells.row_section == (0, 1, 1, 2)
    assert cells.head_row == {0: 0, 1: 1, 2: 3}
    assert [cells.row_of(i) for i in (0, 2, 3, 13, 14, 15)] == [0, 0, 1, 1, 2, 3]


def test_clicks_and_row_steps_map_to_chunks() -> None:
    cells = lay_out([0] * 3 + [1] * 12, 34, 13)
    assert cells.index_at(0, 0) is None  # the label
    assert cells.index_at(0, 11) == 0 and cells.index_at(0, 15) == 2
    assert cells.index_at(0, 17) is None  # past the chapter's last cell
    assert cells.index_at(1, 11 + 2 * 4) == 7
    assert cells.step_rows(7, -1) == 2  # column 4 does not exist above: the row's last cell
    assert cells.step_rows(3, 1) == 14 and cells.step_rows(14, 5) == 14


def test_labels_cut_the_title_never_the_counts() -> None:
    assert chapter_label(3, "Down the Rabbit-Hole", 12, 30, 30) == " 3 Down the Rabbit-Hole 12/30 "
    short = chapter_label(3, "Down the Rabbit-Hole", 12, 30, 16)
    assert short == " 3 Down…  12/30 " and len(short) == 16
