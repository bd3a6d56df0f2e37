"""EPUB3 with synchronized narration: a copy of the book whose chapters carry SMIL media overlays.

Each chunk's text is wrapped in spans with ids in the original XHTML (nothing else in it changes), and each span gets
a `par` whose clip points into its chapter's audio file. The times come from the join (chunk edges counted in
samples); a chunk cut into several spans (it crosses paragraphs or markup) shares its time among them by length.
"""

from __future__ import annotations

import io
import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote
from xml.sax.saxutils import escape, quoteattr

from tui_tts.errors import InputError
from tui_tts.text.captions import split_by_length
from tui_tts.text.epub import Chapter
from tui_tts.text.xhtml_spans import Block, blocks, insert_spans, parse, segments

OPF_NS = "{http://www.idpf.org/2007/opf}"
ACTIVE_CLASS = "-epub-media-overlay-active"
ACTIVE_CSS = f"\n/* tui-tts: the sentence being read aloud */\n.{ACTIVE_CLASS} {{ background-color: #fff3b0; }}\n"
_ITEM = re.compile(r"<(?:\w+:)?item\b[^>]*?\bhref\s*=\s*([\"'])([^\"']*)\1[^>]*?(\s*/?>)")
_TAG = re.compile(r"<[^>]*>")
_STYLED = re.compile(r"""<link\b[^>]*\bstylesheet\b|<style\b""", re.IGNORECASE)
AUDIO_TYPES = {".m4a": "audio/mp4", ".mp4": "audio/mp4", ".mp3": "audio/mpeg"}


@dataclass(frozen=True)
class NarratedChapter:
    """A chapter of the book with its audio file and where each of its chunks is spoken in it."""

    chapter: Chapter
    audio: Path
    duration: float  # seconds, as decoded
    chunks: Sequence[tuple[int, int, int, float, float]]  # (chunk index, start, end in its text, speech from, to)


@dataclass
class Par:
    """One text fragment and its clip."""

    file: str  # the XHTML's path in the zip
    ident: str
    audio: str  # the audio's path in the zip
    begin: float
    end: float
    chunk: int


@dataclass
class OverlayReport:
    pars: list[Par] = field(default_factory=list)
    chunks_unplaced: int = 0  # chunks whose text was not found in the XHTML (no overlay for them)
    active_class: bool = True  # False: a narrated page has no stylesheet, so no class is declared (epubcheck CSS-030)


def check_narratable(source: bytes, name: str) -> None:
    """Refuse, before any synthesis, a book this module cannot narrate: not an EPUB, or not EPUB 3."""
    _read_package(source, name)


def _read_package(source: bytes, name: str) -> tuple[zipfile.ZipFile, str, str, ET.Element]:
    try:
        book = zipfile.ZipFile(io.BytesIO(source))
        opf_path = _opf_path(book)
        opf_text = book.read(opf_path).decode("utf-8")
        package = ET.fromstring(opf_text)
    except (zipfile.BadZipFile, KeyError, ET.ParseError, UnicodeDecodeError) as exc:
        raise InputError(f"{name}: cannot read the EPUB's package ({type(exc).__name__}: {exc})") from None
    if not package.get("version", "").startswith("3"):
        raise InputError(f"{name}: an EPUB {package.get('version') or 2} book; the read-along copy needs EPUB 3 "
                         "(write an audio format instead, or convert the book first)")  # fmt: skip
    return book, opf_path, opf_text, package


def write_overlay_epub(source: bytes, chapters: Sequence[NarratedChapter], output: Path, name: str) -> OverlayReport:
    """Write the narrated copy of `source` to `output` (a temp file renamed into place)."""
    book, opf_path, opf_text, package = _read_package(source, name)
    base = posixpath.dirname(opf_path)
    manifest = package.find(f"{OPF_NS}manifest")
    assert manifest is not None
    items = {unquote(posixpath.normpath(posixpath.join(base, item.get("href", "")))): item for item in manifest}
    report = OverlayReport()
    sources: dict[str, tuple[str, list[Block]]] = {}
    spans: dict[str, list[tuple[int, int, str]]] = {}
    audio_files: dict[str, Path] = {}
    taken = {item.get("id", "") for item in manifest}
    for number, narrated in enumerate(chapters, start=1):
        audio = posixpath.join(base, "tts-audio", f"chapter-{number:03d}{narrated.audio.suffix}")
        audio_files[audio] = narrated.audio
        _place_chapter(book, base, narrated, audio, sources, spans, report)
    written: dict[str, bytes] = {}
    for file, found in spans.items():
        written[file] = insert_spans(sources[file][0], found).encode("utf-8")
    smil_items, durations = _smil_documents(report.pars, taken)
    for _ident, smil_path, smil in smil_items.values():
        written[smil_path] = smil.encode("utf-8")
    for css in (path for path, item in items.items() if item.get("media-type") == "text/css"):
        written[css] = book.read(css) + ACTIVE_CSS.encode("utf-8")
    opf_text = _reach_non_linear(book, package, items, written, opf_text)
    report.active_class = all(_STYLED.search(sources[file][0]) for file in smil_items)
    package_text = _package(opf_text, base, smil_items, durations, audio_files, taken, report.active_class)
    written[opf_path] = package_text.encode("utf-8")
    _write_zip(book, output, written, audio_files)
    return report


def _opf_path(book: zipfile.ZipFile) -> str:
    container = ET.fromstring(book.read("META-INF/container.xml"))
    for element in container.iter():
        if element.tag.endswith("rootfile") and element.get("full-path"):
            return str(element.get("full-path"))
    raise KeyError("no rootfile in META-INF/container.xml")


def _place_chapter(
    book: zipfile.ZipFile,
    base: str,
    narrated: NarratedChapter,
    audio: str,
    sources: dict[str, tuple[str, list[Block]]],
    spans: dict[str, list[tuple[int, int, str]]],
    report: OverlayReport,
) -> None:
    """Find every chunk of a chapter in its XHTML files: spans to add, and a par per span, timed."""
    chapter = narrated.chapter
    starts = [0]
    for paragraph in chapter.paragraphs:
        starts.append(starts[-1] + len(paragraph) + 2)  # paragraphs are joined by a blank line
    for index, first, stop, begin, end in narrated.chunks:
        pieces: list[tuple[str, int, int]] = []  # (file, source start, source end)
        for number, paragraph in enumerate(chapter.paragraphs):
            low, high = max(first, starts[number]), min(stop, starts[number] + len(paragraph))
            if low >= high:
                continue
            file, block_number = chapter.sources[number]
            file = posixpath.normpath(posixpath.join(base, file))
            if file not in sources:
                sources[file] = _parsed(book, file)
            found = sources[file][1]
            if block_number >= len(found) or found[block_number].text != paragraph:
                continue  # the reader and this parser disagree about this block: leave it as it is
            block = found[block_number]
            if block.in_svg:
                continue  # SVG text is read aloud, but a span is no SVG element: no overlay there
            source_start, source_end = block.source_range(low - starts[number], high - starts[number])
            for seg_start, seg_end in segments(block.node, source_start, source_end):
                pieces.append((file, seg_start, seg_end))
        if not pieces or end <= begin:
            report.chunks_unplaced += bool(not pieces)
            continue
        weights = [max(1, len(_TAG.sub("", sources[file][0][a:b]))) for file, a, b in pieces]  # text, not markup
        for part, ((file, a, b), (clip_begin, clip_end)) in enumerate(
            zip(pieces, split_by_length(begin, end, weights), strict=True)
        ):
            ident = f"tts-c{index + 1:05d}" + (f"-{part + 1}" if part else "")
            spans.setdefault(file, []).append((a, b, ident))
            report.pars.append(Par(file, ident, audio, clip_begin, clip_end, index))


def _parsed(book: zipfile.ZipFile, file: str) -> tuple[str, list[Block]]:
    try:
        text = book.read(file).decode("utf-8")
    except (KeyError, UnicodeDecodeError):
        return "", []
    if re.search(r"""\bid\s*=\s*["']tts-c\d""", text):
        return text, []  # already narrated by tui-tts: ids would clash
    return text, blocks(parse(text))


def clock(seconds: float) -> str:
    """SMIL full clock value, h:mm:ss.fff."""
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    return f"{hours}:{minutes:02d}:{millis // 1000:02d}.{millis % 1000:03d}"


def _fresh_id(wanted: str, taken: set[str]) -> str:
    ident, number = wanted, 1
    while ident in taken:
        number += 1
        ident = f"{wanted}-{number}"
    taken.add(ident)
    return ident


def _smil_documents(pars: list[Par], taken: set[str]) -> tuple[dict[str, tuple[str, str, str]], dict[str, float]]:
    """A SMIL document per narrated XHTML: {xhtml path: (manifest id, zip path, text)}, and each one's duration."""
    by_file: dict[str, list[Par]] = {}
    for par in pars:
        by_file.setdefault(par.file, []).append(par)
    documents: dict[str, tuple[str, str, str]] = {}
    durations: dict[str, float] = {}
    for file, found in by_file.items():
        folder = posixpath.dirname(file)
        stem = posixpath.splitext(posixpath.basename(file))[0]
        smil_path = posixpath.join(folder, f"{stem}.tts.smil")
        ident = _fresh_id(f"tts-smil-{stem}", taken)
        text_href = posixpath.relpath(file, folder)
        lines = ['<?xml version="1.0" encoding="UTF-8"?>',
                 '<smil xmlns="http://www.w3.org/ns/SMIL" xmlns:epub="http://www.idpf.org/2007/ops" version="3.0">',
                 "  <body>", f"    <seq id=\"seq-1\" epub:textref={quoteattr(text_href)}>"]  # fmt: skip
        for number, par in enumerate(found, start=1):
            audio_href = posixpath.relpath(par.audio, folder)
            lines += [f'      <par id="par-{number}">',
                      f"        <text src={quoteattr(text_href + '#' + par.ident)}/>",
                      f"        <audio src={quoteattr(audio_href)} clipBegin=\"{clock(par.begin)}\" "
                      f"clipEnd=\"{clock(par.end)}\"/>", "      </par>"]  # fmt: skip
        lines += ["    </seq>", "  </body>", "</smil>", ""]
        documents[file] = (ident, smil_path, "\n".join(lines))
        durations[ident] = sum(round(par.end, 3) - round(par.begin, 3) for par in found)
    return documents, durations


def _package(
    opf: str,
    base: str,
    smil_items: dict[str, tuple[str, str, str]],
    durations: dict[str, float],
    audio_files: dict[str, Path],
    taken: set[str],
    active_class: bool,
) -> str:
    """The OPF with the overlays: media-overlay on each narrated XHTML item, new items, media:duration, and the
    active class when every narrated page has a stylesheet to declare it in."""
    for file, (ident, _path, _text) in smil_items.items():
        href = posixpath.relpath(file, base or ".")
        for match in _ITEM.finditer(opf):
            if posixpath.normpath(unquote(match.group(2))) == href:
                close = match.start(3)
                opf = opf[:close] + f' media-overlay="{ident}"' + opf[close:]
                break
    new_items = []
    for _file, (ident, path, _text) in smil_items.items():
        href = posixpath.relpath(path, base or ".")
        new_items.append(f'<item id="{ident}" href={quoteattr(href)} media-type="application/smil+xml"/>')
    for number, (path, audio) in enumerate(audio_files.items(), start=1):
        ident = _fresh_id(f"tts-audio-{number:03d}", taken)
        media_type = AUDIO_TYPES.get(audio.suffix.lower(), "audio/mp4")
        new_items.append(f'<item id="{ident}" href={quoteattr(posixpath.relpath(path, base or "."))} '
                         f'media-type="{media_type}"/>')  # fmt: skip
    opf = _insert_before(opf, "</manifest>", "".join(f"  {item}\n  " for item in new_items))
    metas = [f'<meta property="media:duration" refines="#{ident}">{clock(seconds)}</meta>'
             for ident, seconds in durations.items()]  # fmt: skip
    metas.append(f'<meta property="media:duration">{clock(sum(durations.values()))}</meta>')
    if active_class:
        metas.append(f'<meta property="media:active-class">{escape(ACTIVE_CLASS)}</meta>')
    return _insert_before(opf, "</metadata>", "".join(f"  {meta}\n  " for meta in metas))


def _reach_non_linear(
    book: zipfile.ZipFile, package: ET.Element, items: dict[str, ET.Element], written: dict[str, bytes], opf: str
) -> str:
    """Non-linear documents must be linked from somewhere (epubcheck OPF-096); many books never link their cover or
    contents page. Those get a hidden landmarks list in the navigation document, or, when it has one already,
    become linear. Nothing a reader reads changes."""
    spine = package.find(f"{OPF_NS}spine")
    by_id = {item.get("id"): path for path, item in items.items()}
    hidden = [by_id.get(ref.get("idref")) for ref in (spine if spine is not None else []) if ref.get("linear") == "no"]
    linked: set[str] = set()
    for path, item in items.items():
        if item.get("media-type") != "application/xhtml+xml" or path not in book.namelist():
            continue
        content = written.get(path) or book.read(path)
        folder = posixpath.dirname(path)
        for href in re.findall(rb"""\bhref\s*=\s*["']([^"'#]+)""", content):
            linked.add(posixpath.normpath(posixpath.join(folder, unquote(href.decode("utf-8", "replace")))))
    unreached = [path for path in hidden if path is not None and path not in linked]
    navs = [path for path, item in items.items() if "nav" in item.get("properties", "").split()]
    if not unreached or not navs:
        return opf
    nav = navs[0]
    text = (written.get(nav) or book.read(nav)).decode("utf-8")
    end = text.rfind("</body>")
    if end < 0 or re.search(r"""epub:type\s*=\s*["'][^"']*\blandmarks\b""", text):
        for path in unreached:  # no place for a list: make them part of the reading order instead
            ident = next(key for key, value in by_id.items() if value == path)
            itemref = r"""(<(?:\w+:)?itemref\b[^>]*?\bidref\s*=\s*["']""" + re.escape(str(ident))
            opf = re.sub(itemref + r"""["'][^>]*?)\s+linear\s*=\s*["']no["']""", r"\1", opf)
        return opf
    entries = []
    for path in unreached:
        kind = "toc" if path == nav else "cover" if "cover" in path.lower() else "frontmatter"
        href = posixpath.relpath(path, posixpath.dirname(nav))
        label = escape(posixpath.basename(path))
        entries.append(f'<li><a epub:type="{kind}" href={quoteattr(href)}>{label}</a></li>')
    landmarks = ('<nav xmlns:epub="http://www.idpf.org/2007/ops" epub:type="landmarks" hidden="hidden"><ol>'
                 + "".join(entries) + "</ol></nav>\n")  # fmt: skip
    written[nav] = (text[:end] + landmarks + text[end:]).encode("utf-8")
    return opf


def _insert_before(text: str, closing: str, insert: str) -> str:
    match = re.search(r"</(?:\w+:)?" + re.escape(closing[2:-1]) + r"\s*>", text)
    if match is None:
        raise InputError(f"the EPUB's package has no {closing}")
    return text[: match.start()] + insert + text[match.start() :]


def _write_zip(book: zipfile.ZipFile, output: Path, written: dict[str, bytes], audio_files: dict[str, Path]) -> None:
    """mimetype first and stored, every other entry as it was unless changed, then the new ones; renamed into place."""
    partial = output.with_name(f".{output.name}.part")
    try:
        with zipfile.ZipFile(partial, "w") as out:
            out.writestr(zipfile.ZipInfo("mimetype"), b"application/epub+zip", compress_type=zipfile.ZIP_STORED)
            for info in book.infolist():
                if info.filename == "mimetype":
                    continue
                data = written.pop(info.filename, None)
                out.writestr(info, book.read(info) if data is None else data, compress_type=info.compress_type)
            for path, data in written.items():
                out.writestr(path, data, compress_type=zipfile.ZIP_DEFLATED)
            for path, audio in audio_files.items():
                out.write(audio, path, compress_type=zipfile.ZIP_STORED)
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
