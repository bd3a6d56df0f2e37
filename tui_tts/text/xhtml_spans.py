"""Spans added to XHTML by source offset: every byte of the original stays as it was, only `<span id>` tags go in.

The document is read into a small tree that remembers where each tag and each piece of text sits in the source; its
text blocks are found by the same rules as the EPUB reader (text/epub.py), so a chunk's offsets in a chapter's text
lead back to places in the source, and a chunk becomes one or more well-nested spans there.
"""

from __future__ import annotations

import html
import typing
from dataclasses import dataclass, field
from html.parser import HTMLParser

from tui_tts.text.epub import BLOCKS, LEAF_BLOCKS, _is_note

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
SKIPPED = {"script", "style", "nav", "head"}
# Elements a span may hold as they are (HTML phrasing content); any other is entered, never wrapped.
PHRASING = {"a", "abbr", "b", "bdi", "bdo", "br", "cite", "code", "data", "del", "dfn", "em", "i", "img", "ins", "kbd",
            "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var", "wbr"}  # fmt: skip
OPAQUE = {"svg", "math", "ruby", "select", "textarea", "option", "title", "button"}  # never entered: a span is no
# child of theirs


@dataclass(eq=False)
class Node:
    """An element or a text node, with its place in the source: [start, end)."""

    name: str  # tag name; "#text", or "#other" for comments, declarations and instructions
    start: int
    end: int = -1
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)
    parent: Node | None = None
    text: str = ""  # a text node's decoded text
    offsets: list[int] = field(default_factory=list)  # where each decoded character starts in the source
    ends: list[int] = field(default_factory=list)  # and where it ends (a character reference: the whole of it)
    removed: bool = False  # skipped by the reader (script, style, notes): its text is never read

    def get(self, key: str, default: str = "") -> str:
        return self.attrs.get(key, default)

    def strings(self) -> list[Node]:
        """Text nodes inside, in order, that the reader reads."""
        found: list[Node] = []
        for child in self.children:
            if child.removed:
                continue
            if child.name == "#text":
                found.append(child)
            elif child.name != "#other":
                found.extend(child.strings())
        return found

    def get_text(self, separator: str = "") -> str:
        return separator.join(node.text for node in self.strings())

    def find_block(self) -> bool:
        return any(not c.removed and (c.name in BLOCKS or c.find_block()) for c in self.children if c.name[0] != "#")


class _Scanner(HTMLParser):
    """Every event with its start offset in the source; character references are kept apart from data."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self.lines = [0]
        for number, char in enumerate(source):
            if char == "\n":
                self.lines.append(number + 1)
        self.events: list[tuple[str, int, object]] = []

    def _at(self) -> int:
        line, column = self.getpos()
        return self.lines[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.events.append(("start", self._at(), (tag, {k: v or "" for k, v in attrs})))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.events.append(("empty", self._at(), (tag, {k: v or "" for k, v in attrs})))

    def handle_endtag(self, tag: str) -> None:
        self.events.append(("end", self._at(), tag))

    def handle_data(self, data: str) -> None:
        self.events.append(("data", self._at(), data))

    def handle_entityref(self, name: str) -> None:
        self.events.append(("ref", self._at(), html.unescape(f"&{name};")))

    def handle_charref(self, name: str) -> None:
        self.events.append(("ref", self._at(), html.unescape(f"&#{name};")))

    def unknown_decl(self, data: str) -> None:
        if data.startswith("CDATA["):
            self.events.append(("cdata", self._at(), data[6:]))
        else:
            self.events.append(("other", self._at(), None))

    def handle_comment(self, data: str) -> None:
        self.events.append(("other", self._at(), None))

    def handle_decl(self, decl: str) -> None:
        self.events.append(("other", self._at(), None))

    def handle_pi(self, data: str) -> None:
        self.events.append(("other", self._at(), None))


def parse(source: str) -> Node:
    """The document as a tree of elements and text nodes, each with its source span."""
    scanner = _Scanner(source)
    scanner.feed(source)
    scanner.close()
    events = scanner.events
    ends = [at for _, at, _ in events[1:]] + [len(source)]
    root = Node("#root", 0, len(source))
    stack = [root]
    text: Node | None = None
    for (kind, at, payload), end in zip(events, ends, strict=True):
        parent = stack[-1]
        if kind in ("data", "ref"):
            assert isinstance(payload, str)
            if text is None or text.parent is not parent:
                text = Node("#text", at, parent=parent)
                parent.children.append(text)
            if kind == "data":
                text.offsets.extend(range(at, at + len(payload)))
                text.ends.extend(range(at + 1, at + len(payload) + 1))
            else:
                text.offsets.extend([at] * len(payload))
                text.ends.extend([end] * len(payload))
            text.text += payload
            text.end = end
            continue
        text = None
        if kind == "cdata":
            assert isinstance(payload, str)
            first = at + len("<![CDATA[")
            node = Node("#text", at, end, parent=parent, text=payload, offsets=list(range(first, first + len(payload))),
                        ends=list(range(first + 1, first + len(payload) + 1)))  # fmt: skip
            parent.children.append(node)
        elif kind in ("start", "empty"):
            tag, attrs = typing.cast(tuple[str, dict[str, str]], payload)
            node = Node(tag, at, end, dict(attrs), parent=parent)
            parent.children.append(node)
            if kind == "start" and tag not in VOID:
                stack.append(node)
        elif kind == "end":
            names = [node.name for node in stack]
            if payload in names[1:]:  # close up to the most recent open element of that name, like the reader
                while stack[-1].name != payload:
                    stack.pop().end = at
                stack.pop().end = end
        else:
            parent.children.append(Node("#other", at, end, parent=parent))
    while len(stack) > 1:
        stack.pop().end = len(source)
    return root


def _walk(node: Node) -> list[Node]:
    found = [node]
    for child in node.children:
        found.extend(_walk(child))
    return found


@dataclass(frozen=True)
class Block:
    """A text block as the reader sees it: its folded text, and for each character the text node and index."""

    node: Node
    text: str
    places: list[tuple[Node, int]]

    def source_range(self, first: int, stop: int) -> tuple[int, int]:
        """Source offsets from before character `first` to after character `stop - 1` of the block's text."""
        node, index = self.places[first]
        last, last_index = self.places[stop - 1]
        return node.offsets[index], last.ends[last_index]


def blocks(root: Node) -> list[Block]:
    """The leaf text blocks, in order, by the reader's rules (text/epub.py: `_blocks`)."""
    for node in _walk(root):
        if node.name in SKIPPED or (node.name[0] != "#" and _is_note(node)):
            node.removed = True
            for inner in _walk(node):
                inner.removed = True
    body = next((n for n in _walk(root) if n.name == "body" and not n.removed), root)
    found: list[Block] = []

    def visit(node: Node) -> None:
        if node.removed or node.name[0] == "#":
            return
        if node.name in LEAF_BLOCKS or (node.name in BLOCKS and not node.find_block()):
            block = _folded(node)
            if block.text:
                found.append(block)
            return
        for child in node.children:
            visit(child)

    visit(body)
    return found


def _folded(node: Node) -> Block:
    """' '.join(text.split()) over the strings joined by spaces, remembering where each character came from."""
    places: list[tuple[Node, int]] = []
    chars: list[str] = []
    pending_space = False
    for number, string in enumerate(node.strings()):
        if number:
            pending_space = True
        for index, char in enumerate(string.text):
            if char.isspace():
                pending_space = True
                continue
            if pending_space and chars:
                chars.append(" ")
                places.append((string, index))
            pending_space = False
            chars.append(char)
            places.append((string, index))
    return Block(node, "".join(chars), places)


def segments(node: Node, start: int, stop: int) -> list[tuple[int, int]]:
    """Source ranges that wrap [start, stop) of node's content in well-nested spans: runs of whole phrasing
    siblings and pieces of text; partly covered or non-phrasing elements are entered."""
    found: list[tuple[int, int]] = []
    run: list[int] = []

    def close() -> None:
        if run:
            found.append((run[0], run[1]))
            run.clear()

    for child in node.children:
        if child.end <= start or child.start >= stop:
            close()
            continue
        if child.name == "#text":
            piece = (max(child.start, start), min(child.end, stop))
        elif start <= child.start and child.end <= stop and (child.name in PHRASING or child.name[0] == "#"):
            piece = (child.start, child.end)
        else:
            close()
            if child.name not in OPAQUE and not child.removed:
                found.extend(segments(child, start, stop))
            continue
        if run:
            run[1] = piece[1]
        else:
            run.extend(piece)
    close()
    return found


def insert_spans(source: str, spans: list[tuple[int, int, str]]) -> str:
    """The source with `<span id="ID">` ... `</span>` around each (start, end, id) range (ranges never nest)."""
    inserts: list[tuple[int, int, str]] = []
    for start, end, ident in spans:
        inserts.append((start, 1, f'<span id="{ident}">'))
        inserts.append((end, 0, "</span>"))
    inserts.sort(key=lambda item: (item[0], item[1]))
    pieces: list[str] = []
    previous = 0
    for at, _order, tag in inserts:
        pieces.append(source[previous:at])
        pieces.append(tag)
        previous = at
    pieces.append(source[previous:])
    return "".join(pieces)
