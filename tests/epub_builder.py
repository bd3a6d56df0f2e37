"""EPUB 3 books for the tests, written with zipfile exactly as given (ebooklib's writer re-parses and cuts markup)."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

XHTML = "application/xhtml+xml"
SVG = "image/svg+xml"


@dataclass(frozen=True)
class Doc:
    """One spine document: its file name, its whole markup and its media type."""

    name: str
    markup: str
    media_type: str = XHTML


def xhtml(body: str, lang: str = "en", title: str = "page", attributes: str = "") -> str:
    return ('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n<html xmlns="http://www.w3.org/1999/xhtml" '
            f'xmlns:epub="http://www.idpf.org/2007/ops" xml:lang="{lang}" lang="{lang}"{attributes}><head>'
            f"<title>{escape(title)}</title></head><body>{body}</body></html>")  # fmt: skip


def nav(entries: list[tuple[str, str, list[tuple[str, str]]]], hidden: bool = False) -> str:
    """A nav document: (href, title, children); children lists go in an inner <ol>, `hidden=""` if asked."""
    items = []
    for href, title, children in entries:
        inner = "".join(f'<li><a href="{h}">{escape(t)}</a></li>' for h, t in children)
        sub = f"<ol{' hidden=' + chr(34) * 2 if hidden else ''}>{inner}</ol>" if children else ""
        items.append(f'<li><a href="{href}">{escape(title)}</a>{sub}</li>')
    return xhtml(f'<nav epub:type="toc" id="toc"><h1>Contents</h1><ol>{"".join(items)}</ol></nav>', title="Contents")


def write_epub(path: Path, title: str, docs: list[Doc], nav_markup: str, lang: str = "en", author: str = "",
               direction: str = "") -> Path:  # fmt: skip
    manifest = ['<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>']
    spine = []
    for number, doc in enumerate(docs):
        manifest.append(f'<item id="d{number}" href="{doc.name}" media-type="{doc.media_type}"/>')
        spine.append(f'<itemref idref="d{number}"/>')
    direction_attribute = f' page-progression-direction="{direction}"' if direction else ""
    opf = ('<?xml version="1.0" encoding="utf-8"?>\n<package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
           'unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
           f'<dc:identifier id="id">urn:test:{escape(path.stem)}</dc:identifier><dc:title>{escape(title)}</dc:title>'
           f"<dc:language>{lang}</dc:language><dc:creator>{escape(author)}</dc:creator>"
           '<meta property="dcterms:modified">2024-01-01T00:00:00Z</meta></metadata>'
           f"<manifest>{''.join(manifest)}</manifest>"
           f"<spine{direction_attribute}>{''.join(spine)}</spine></package>")  # fmt: skip
    container = ('<?xml version="1.0"?>\n<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:'
                 'container"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-'
                 'package+xml"/></rootfiles></container>')  # fmt: skip
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        book.writestr("META-INF/container.xml", container, compress_type=zipfile.ZIP_DEFLATED)
        book.writestr("OEBPS/content.opf", opf, compress_type=zipfile.ZIP_DEFLATED)
        book.writestr("OEBPS/nav.xhtml", nav_markup, compress_type=zipfile.ZIP_DEFLATED)
        for doc in docs:
            book.writestr(f"OEBPS/{doc.name}", doc.markup, compress_type=zipfile.ZIP_DEFLATED)
    return path
