"""(X)HTML and SVG markup to text blocks in reading order, with the size of what is set aside (navigation, notes)."""

from __future__ import annotations

import html
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "dd", "dt", "td", "th", "figcaption",
          "div", "section", "article", "aside"}  # fmt: skip
LEAF_BLOCKS = BLOCKS - {"div", "section", "article", "aside"}
SVG_TEXT = "text"  # an SVG <text> element (its <tspan>s inside) is one visible line
UNSEEN = ["script", "style", "head", "title", "desc", "metadata", "template"]  # never shown on a page
NOTE_TYPES = {"footnote", "footnotes", "endnote", "endnotes", "rearnote", "rearnotes", "noteref", "note"}
NOTE_ROLES = {"doc-noteref", "doc-footnote", "doc-endnote", "doc-endnotes", "doc-backlink"}
NOTE_MARK = re.compile(r"^\s*[\[(]?\s*(\d{1,3}|[*†‡§]|[ivxlc]{1,5})\s*[\])]?\s*$", re.IGNORECASE)
_STARTS_BLOCK = [*BLOCKS, SVG_TEXT]
_RAW_UNSEEN = re.compile(r"<!--.*?-->|<!\[CDATA\[|\]\]>|<\?.*?\?>|<!DOCTYPE[^>]*>|<(" + "|".join(UNSEEN) +
                         r")\b[^>]*?(?:/>|>.*?</\1\s*>)", re.S | re.I)  # fmt: skip
_TAG = re.compile(r"<[^>]*>")
_UNSEEN_SET = set(UNSEEN)
_BLOCK_SET = set(_STARTS_BLOCK)
NAV = "nav"  # navigation: set aside whole, its size counted
_KINDS = {"br": "br", "img": "picture", "image": "picture", NAV: "nav", "rt": "ruby", "rp": "ruby"}


@dataclass
class MarkupText:
    """One document's text: blocks in reading order (each with the ids it is the first block of) and its sizes."""

    blocks: list[tuple[str, set[str]]] = field(default_factory=list)
    total: int = 0  # visible characters (whitespace not counted) in the document's body
    navigation: int = 0  # inside <nav>
    notes: int = 0  # footnotes, endnotes and note markers
    ruby: int = 0  # ruby readings (<rt>, <rp>): furigana over the words that are read, never read twice
    pictures: int = 0  # <img> and SVG <image> elements


def visible_chars(text: str) -> int:
    """Characters that are not whitespace: the measure of coverage, whatever the spacing of the source."""
    return len("".join(text.split()))


def raw_visible_chars(content: bytes) -> int:
    """The document's visible text counted without a parser (tags cut out, entities decoded): the yardstick the
    reading is held to, so that whatever the parsing loses shows as an unexplained loss."""
    text = content.decode("utf-8", errors="replace")
    return visible_chars(html.unescape(_TAG.sub(" ", _RAW_UNSEEN.sub(" ", text))))


def markup_text(content: bytes) -> MarkupText:
    """Parse with Python's own HTML parser: libxml2's drops everything after 256 levels of nesting."""
    from bs4 import BeautifulSoup
    from bs4.element import NavigableString

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        soup = BeautifulSoup(content, "html.parser")
    found = _sorted_tags(soup)
    for tag in found["unseen"]:
        tag.decompose()
    for line_break in found["br"]:
        line_break.replace_with(NavigableString(" "))
    body = soup.body or soup
    result = MarkupText(total=raw_visible_chars(content), pictures=len(found["picture"]))
    for tag in found["nav"]:
        result.navigation += visible_chars(tag.get_text())
        tag.decompose()
    for tag in found["note"]:
        result.notes += visible_chars(tag.get_text())
        tag.decompose()
    for tag in found["ruby"]:
        result.ruby += visible_chars("".join(str(s) for s in tag.descendants if isinstance(s, NavigableString)))
    result.blocks = _Walker().walk(body, found["block"])
    return result


def _sorted_tags(soup: Any) -> dict[str, list[Any]]:
    """One pass over the tree (bs4's find_all is slow on big books): the tags each later step needs, by kind.

    Nothing inside an unseen element (<head>, <script>, ...) is listed, nor anything inside a <nav> or a note (they
    go whole, so only the outermost are listed)."""
    from bs4.element import Tag

    found: dict[str, list[Any]] = {kind: [] for kind in ("unseen", "br", "picture", "nav", "note", "ruby", "block")}
    stack: list[tuple[Any, bool]] = [(iter(list(soup.children)), False)]
    while stack:
        children, set_aside = stack[-1]
        node = next(children, None)
        if node is None:
            stack.pop()
            continue
        if not isinstance(node, Tag):
            continue
        name = node.name
        if name in _UNSEEN_SET:
            found["unseen"].append(node)
            continue
        kind = _KINDS.get(name)
        if kind in ("br", "picture") or (kind and not set_aside):
            found[kind].append(node)
        inside = set_aside or kind == "nav"
        if not inside and is_note(node):
            found["note"].append(node)
            inside = True
        if name in _BLOCK_SET and not inside:
            found["block"].append(node)
        stack.append((iter(list(node.children)), inside))
    return found


class _Walker:
    """Leaf blocks are read whole; text between blocks (inline runs straight in <body> or a <div>) is a paragraph.

    Iterative, with the elements that hold a block found in one pass: any depth of nesting, linear time.
    text/xhtml_spans.py takes the same steps over its offset-keeping tree (the read-along spans locate block n of a
    file by it); change one, change both: tests/test_block_agreement.py holds them together."""

    def __init__(self) -> None:
        self.blocks: list[tuple[str, set[str]]] = []
        self.pending: set[str] = set()
        self.run: list[str] = []
        self.run_ids: set[str] = set()
        self.holds_block: set[int] = set()  # id() of every element with a block inside

    def walk(self, root: Any, blocks: list[Any]) -> list[tuple[str, set[str]]]:
        """`blocks`: every block element under root (those removed since mark only their old containers)."""
        from bs4.element import NavigableString, PreformattedString, Tag

        for tag in blocks:
            parent = tag.parent
            while parent is not None and id(parent) not in self.holds_block:
                self.holds_block.add(id(parent))
                parent = parent.parent
        if self.is_leaf(root):
            self.leaf(root)
            return self.blocks
        self.enter(root)
        stack = [iter(list(root.children))]
        while stack:
            child = next(stack[-1], None)
            if child is None:
                stack.pop()
                self.flush()
            elif isinstance(child, Tag):
                if self.is_leaf(child):
                    self.flush()
                    self.enter(child)
                    self.leaf(child)
                elif id(child) in self.holds_block:
                    self.flush()
                    self.enter(child)
                    stack.append(iter(list(child.children)))
                else:
                    self.run.append(child.get_text())
                    self.run_ids.update(_ids(child), [str(child["id"])] if child.get("id") else [])
            elif isinstance(child, NavigableString) and not isinstance(child, PreformattedString):
                self.run.append(str(child))
        return self.blocks

    def is_leaf(self, node: Any) -> bool:
        if node.name in LEAF_BLOCKS or node.name == SVG_TEXT:
            return True
        return node.name in BLOCKS and id(node) not in self.holds_block

    def enter(self, node: Any) -> None:
        if node.get("id"):
            self.pending.add(str(node["id"]))

    def leaf(self, node: Any) -> None:
        self.emit(" ".join(node.get_text(" ").split()), _ids(node))

    def flush(self) -> None:
        text = " ".join("".join(self.run).split())
        ids, self.run, self.run_ids = self.run_ids, [], set()
        self.emit(text, ids)

    def emit(self, text: str, inner: set[str]) -> None:
        if text:
            self.blocks.append((text, self.pending | inner))
            self.pending = set()
        else:
            self.pending.update(inner)


def _ids(node: Any) -> set[str]:
    """The ids of every element inside this one (its own is taken when it is entered)."""
    from bs4.element import Tag

    return {str(t["id"]) for t in node.descendants if isinstance(t, Tag) and t.get("id")}


def is_note(tag: Any) -> bool:
    """A footnote, an endnote or a marker pointing to one: set aside, never read aloud (any tree with .name, .get()
    and .get_text(): text/xhtml_spans.py applies it to its own)."""
    types = set(str(tag.get("epub:type", "")).split())
    roles = set(str(tag.get("role", "")).split())
    if types & NOTE_TYPES or roles & NOTE_ROLES:
        return True
    if tag.name == "sup" and NOTE_MARK.match(tag.get_text()):
        return True  # a superscript number or mark: a note reference, never worth reading aloud
    # [1], (2), * linking to a note
    return bool(tag.name == "a" and "#" in str(tag.get("href", "")) and NOTE_MARK.match(tag.get_text()))
