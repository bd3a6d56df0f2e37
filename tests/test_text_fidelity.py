"""Never lose text: EPUBs shaped like real books that lost it (a nested hidden TOC over 2,000 spine documents, SVG
pages, deep nesting, other scripts) read at least 98% of their visible text, and books that read well read the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.epub_builder import SVG, Doc, nav, write_epub, xhtml
from tests.test_cli import tui_tts
from tests.test_epub import build_epub
from tui_tts.errors import InputError
from tui_tts.models import Document
from tui_tts.text.chunking import chunk_document
from tui_tts.text.coverage import coverage_notes, describe_coverage, loss_warning
from tui_tts.text.loading import load_document

SAMPLE = Path(__file__).parent.parent / "tui_tts" / "samples" / "alice-rabbit-hole.txt"
DEVANAGARI = ["नारायणं", "नमस्कृत्य", "नरं", "चैव", "नरोत्तमम", "देवीं", "सरस्वतीं", "ततो", "जयम", "उदीरयेत"]


def chars(text: str) -> int:
    """Visible characters, spaces not counted: the oracle the tests hold the loader to."""
    return len("".join(text.split()))


def share_read(document: Document, visible: list[str]) -> float:
    read = sum(chars(section.text) for section in document.sections)
    return read / sum(chars(text) for text in visible)


def verse(parva: int, adhyaya: int, line: int) -> str:
    words = [DEVANAGARI[(parva * 7 + adhyaya * 3 + line + n) % len(DEVANAGARI)] for n in range(6)]
    return " ".join(words)


def hidden_toc_book(path: Path, parvas: int = 3, adhyayas: int = 25) -> tuple[Path, list[str]]:
    """The mahabharata's shape: a title page per parva, then its adhyayas, each a spine document of bare <span>s
    and <br/>s straight in <body>; the nav nests every adhyaya in an <ol hidden="">."""
    docs, entries, visible = [], [], []
    for p in range(1, parvas + 1):
        title = f"पर्व {p}"
        docs.append(Doc(f"b{p:02}000.xhtml", xhtml(f'<h1 class="title">{title}</h1>', lang="sa")))
        visible.append(title)
        children = []
        for a in range(1, adhyayas + 1):
            lines = [verse(p, a, n) for n in range(12)]
            body = "".join(f'<span class="num" id="ln{n}">{n}</span><span>{line}</span><br/>'
                           for n, line in enumerate(lines, 1))  # fmt: skip
            name = f"b{p:02}{a:03}.xhtml"
            docs.append(Doc(name, xhtml(body, lang="sa")))
            visible += [f"{n}{line}" for n, line in enumerate(lines, 1)]
            children.append((name, f"{title} अध्याय {a}"))
        entries.append((f"b{p:02}000.xhtml", title, children))
    return write_epub(path, "महाभारत", docs, nav(entries, hidden=True), lang="sa"), visible


def test_a_nested_hidden_toc_reads_every_spine_document(tmp_path: Path) -> None:
    book, visible = hidden_toc_book(tmp_path / "mahabharata.epub")
    document = load_document(book)
    assert share_read(document, visible) >= 0.98
    assert len(document.sections) == 3 + 3 * 25  # each parva's title page, then each adhyaya: the nav names them
    assert document.sections[1].title == "पर्व 1 अध्याय 1" and verse(1, 1, 0) in document.sections[1].text
    assert document.coverage is not None and loss_warning(document.coverage) is None


def test_many_spine_documents_per_toc_entry_are_all_read(tmp_path: Path) -> None:
    docs, visible, entries = [], [], []
    for chapter in range(1, 4):
        for part in range(1, 5):
            text = f"Chapter {chapter}, file {part}: the story goes on without a new entry in the contents."
            heading = f"<h1>Chapter {chapter}</h1>" if part == 1 else ""
            docs.append(Doc(f"c{chapter}-{part}.xhtml", xhtml(f"{heading}<p>{text}</p>")))
            visible += [f"Chapter {chapter}"] if part == 1 else []
            visible.append(text)
        entries.append((f"c{chapter}-1.xhtml", f"Chapter {chapter}", []))
    document = load_document(write_epub(tmp_path / "grouped.epub", "Grouped", docs, nav(entries)))
    assert [s.title for s in document.sections] == ["Chapter 1", "Chapter 2", "Chapter 3"]
    assert share_read(document, visible) == 1.0
    last = document.sections[2].text
    assert last.endswith("Chapter 3, file 4: the story goes on without a new entry in the contents.")


def test_svg_text_is_read_in_reading_order(tmp_path: Path) -> None:
    ns = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 600 800"'
    page_one = (f'<svg {ns}><title>not shown</title><image width="600" height="800" xlink:href="p1.jpg"/>'
                '<text x="10" y="40">Once upon a time</text><text x="10" y="80"><tspan>a crane</tspan> '
                "<tspan>came to the door.</tspan></text></svg>")  # fmt: skip
    picture = f'<svg {ns}><image width="600" height="800" xlink:href="p2.jpg"/></svg>'
    inline = xhtml(f'<h1>The End</h1><p>Before the picture.</p><svg {ns}><text x="0" y="20">Fin.</text></svg>')
    docs = [Doc("p1.svg", page_one, SVG), Doc("p2.svg", picture, SVG), Doc("end.xhtml", inline)]
    toc = nav([("p1.svg", "The Crane", []), ("end.xhtml", "The End", [])])
    document = load_document(write_epub(tmp_path / "svg.epub", "Tsuru", docs, toc))
    assert [(s.title, s.text) for s in document.sections] == [
        ("The Crane", "Once upon a time\n\na crane came to the door."),
        ("The End", "The End\n\nBefore the picture.\n\nFin."),
    ]
    assert document.coverage is not None and document.coverage.pictures == 1
    assert "1 page without text (pictures)" in describe_coverage(document.coverage)


def test_deep_nesting_and_text_outside_blocks(tmp_path: Path) -> None:
    deep = "<div>" * 5000 + "Bare text in the deepest div.<p>A paragraph down there.</p>" + "</div>" * 5000
    body = f"<h1>Deep</h1>Text straight in the body.<p>Before.</p>{deep}<span>After, in a span.</span>"
    document = load_document(write_epub(tmp_path / "deep.epub", "Deep", [Doc("deep.xhtml", xhtml(body))],
                                        nav([("deep.xhtml", "Deep", [])])))  # fmt: skip
    assert document.sections[0].text.split("\n\n") == [
        "Deep", "Text straight in the body.", "Before.", "Bare text in the deepest div.", "A paragraph down there.",
        "After, in a span.",
    ]  # fmt: skip


ARABIC = ["الفصل الأول", "كان يا ما كان في قديم الزمان، رجل يحب القراءة.", "الفصل الثاني",
          "وفي الصباح خرج إلى السوق واشترى كتاباً جديداً."]  # fmt: skip
JAPANESE = ["第一章", "吾輩は猫である。名前はまだ無い。", "第二章", "どこで生れたかとんと見当がつかぬ。"]
SCRIPTS = {
    "arabic": ("ar", "rtl", ARABIC),
    "japanese": ("ja", "rtl", JAPANESE),
    "braille": ("en", "", ["⠠⠉⠓⠁⠏⠞⠑⠗ ⠼⠁", "⠠⠁⠇⠊⠉⠑ ⠺⠁⠎ ⠃⠑⠛⠊⠝⠝⠊⠝⠛⠲", "⠠⠉⠓⠁⠏⠞⠑⠗ ⠼⠃", "⠠⠎⠓⠑ ⠋⠑⠇⠇⠲"]),
}


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_other_scripts_read_whole(tmp_path: Path, script: str) -> None:
    lang, direction, (title_one, text_one, title_two, text_two) = SCRIPTS[script]
    style = ' style="writing-mode: vertical-rl"' if script == "japanese" else ""
    docs = [Doc(f"{n}.xhtml", xhtml(f"<h1>{title}</h1><p>{text}</p>", lang=lang, attributes=style))
            for n, (title, text) in enumerate([(title_one, text_one), (title_two, text_two)])]  # fmt: skip
    toc = nav([("0.xhtml", title_one, []), ("1.xhtml", title_two, [])])
    document = load_document(write_epub(tmp_path / f"{script}.epub", script, docs, toc, lang=lang, direction=direction))
    assert share_read(document, [title_one, text_one, title_two, text_two]) == 1.0
    assert [s.title for s in document.sections] == [title_one, title_two]
    assert "".join(chunk.text for chunk in chunk_document(document, 400)).count(text_two[:4]) == 1


def test_an_unexplained_loss_warns_and_strict_text_refuses(tmp_path: Path) -> None:
    from tui_tts.models import TextCoverage

    lossy = TextCoverage(total=1000, read=900, left_out=(("notes", 50),))
    assert coverage_notes(lossy, False, "b.epub")[1] == (
        "warning", "5.0% of the book's text (50 characters) is left out for no known reason; --strict-text makes "
        "this an error")  # fmt: skip
    with pytest.raises(InputError, match=r"b.epub: 5.0% of the book's text \(50 characters\) is left out"):
        coverage_notes(lossy, True, "b.epub")
    fine = TextCoverage(total=1000, read=700, left_out=(("front matter", 100), ("notes", 190)))
    assert [level for level, _ in coverage_notes(fine, True, "b.epub")] == ["info"]
    assert describe_coverage(fine) == ("text: 700 of the book's 1,000 characters read (70.0%; spaces not counted); "
                                       "left out: front matter 100, notes 190, unexplained 10")  # fmt: skip


def test_books_that_read_well_read_the_same(tmp_path: Path) -> None:
    """Pinned on main before this work: the fixtures' chapters and their sizes do not change."""
    book = build_epub(tmp_path / "book.epub")
    assert [(s.title, len(s.text)) for s in load_document(book).sections] == [
        ("Chapter One", 52), ("Chapter Two", 33), ("Chapter Three", 45)]  # fmt: skip
    assert [(s.title, len(s.text)) for s in load_document(book, include_front_matter=True).sections] == [
        ("Title Page", 40), ("Chapter One", 52), ("Chapter Two", 33), ("Chapter Three", 45), ("Notes", 32)]  # fmt: skip
    assert [(s.title, len(s.text)) for s in load_document(SAMPLE).sections] == [("alice-rabbit-hole", 2098)]
    coverage = load_document(book).coverage
    assert coverage is not None and (coverage.total, coverage.read, coverage.unexplained) == (258, 108, 0)


def lossy_book(path: Path) -> Path:
    """Text after </body>: a browser shows it, the reader does not take it; the yardstick counts it."""
    story = "<h1>One</h1><p>A short story that is read aloud.</p>"
    page = xhtml(story).replace("</html>", "") + "<p>" + "Lost words after the body. " * 4 + "</p></html>"
    return write_epub(path, "Lossy", [Doc("one.xhtml", page)], nav([("one.xhtml", "One", [])]))


@pytest.mark.slow
def test_an_unexplained_loss_is_shown_and_strict_text_stops_the_run(tmp_path: Path) -> None:
    book = lossy_book(tmp_path / "lossy.epub")
    listing = tui_tts("run", str(book), "--list-chapters")
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.startswith("Lossy: 1 chapters\n")  # no author: none shown (it said "by None")
    assert "unexplained 88" in listing.stdout.splitlines()[1]
    assert "warning: 74.6% of the book's text (88 characters) is left out for no known reason" in listing.stdout
    data = tmp_path / "data"
    strict = tui_tts("run", str(book), "--strict-text", "--headless", "--data-dir", str(data))
    assert strict.returncode == 2 and strict.stderr.count("\n") == 1, strict.stderr
    assert strict.stderr.startswith("tui-tts: error: lossy.epub: 74.6% of the book's text (88 characters) is left out")
    assert not (data / "tui-tts.db").exists()  # refused before anything was made


@pytest.mark.slow
def test_a_run_starts_by_saying_how_much_of_the_book_is_read(tmp_path: Path) -> None:
    book = lossy_book(tmp_path / "lossy.epub")
    run = tui_tts("run", str(book), "--headless", "--data-dir", str(tmp_path / "d"), "-o", str(tmp_path / "o.wav"))
    assert run.returncode == 0, run.stderr
    lines = run.stderr.splitlines()
    assert lines[1].startswith("text: 30 of the book's 118 characters read (25.4%")
    assert lines[2].startswith("warning: 74.6% of the book's text (88 characters) is left out for no known reason")


async def test_the_dashboard_log_shows_the_coverage_and_the_warning(tmp_path: Path) -> None:
    from tests.test_dashboard import log_text
    from tui_tts.run.request import RunRequest
    from tui_tts.run.session import open_session
    from tui_tts.ui.app import DashboardApp
    from tui_tts.ui.dashboard import show_text_notes

    request = RunRequest(input=lossy_book(tmp_path / "lossy.epub"), output=tmp_path / "o.wav",
                         data_dir=str(tmp_path / "data"))  # fmt: skip
    async with open_session(request) as session:
        app = DashboardApp(session, autostart=False, clock_text="12:00:00")
        show_text_notes(session)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause(0.1)
            log = log_text(app)
    assert "text: 30 of the book's 118 characters read (25.4%" in log
    assert "74.6% of the book's text (88 characters) is left out" in log  # in the warning colour
