"""Spans added to XHTML by source offset: every byte of the original stays as it was, only `<span id>` tags go in.

The document is read into a small tree that remembers where each tag and each piece of text sits in the source; its
text blocks are found by the reader's rules (text/html_text.py: the same element sets, the same note test, and the
same walk, step for step, over this tree instead of BeautifulSoup's), so the n-th block here is the n-th block the
reader read, a chunk's offsets in a chapter's text lead back to places in the source, and a chunk becomes one or more
well-nested spans there. Blocks inside SVG get no spans (a span is no SVG element).
"""

from __future__ import annotations

import html
import typing
from dataclasses import dataclass, field
from html.parser import HTMLParser

from tui_tts.text.html_text import BLOCKS, LEAF_BLOCKS, NAV, SVG_TEXT, UNSEEN, is_note

# Closed as soon as opened, as BeautifulSoup (the reader's parser) closes them
VOID = {"area", "base", "basefont", "bgsound", "br", "col", "command", "embed", "frame", "hr", "image", "img",
        "input", "isindex", "keygen", "link", "menuitem", "meta", "nextid", "param", "source", "spacer", "track",
        "wbr"}  # fmt: skip
_UNSEEN = set(UNSEEN)
RUBY_TEXT = {"rt", "rp"}  # their strings are BeautifulSoup's RubyTextString and get_text leaves them out
_STARTS_BLOCK = {*BLOCKS, SVG_TEXT}
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
    removed: bool = False  # set aside by the reader (unseen, navigation, notes): never read, never entered
    cdata: bool = False  # a CDATA section's text
    holds_block: bool = False  # an element with a text block somewhere inside

    def get(self, key: str, default: str = "") -> str:
        return self.attrs.get(key, default)

    def strings(self, breaks: bool = True) -> list[Node]:
        """Text nodes inside, in order, that the reader reads; with `breaks`, a space for each <br> (the reader
        turns them into spaces before reading)."""
        found: list[Node] = []
        stack = [iter(self.children)]
        while stack:
            child = next(stack[-1], None)
            if child is None:
                stack.pop()
            elif child.removed or child.name == "#other" or child.name in RUBY_TEXT:
                continue
            elif child.name == "#text":
                found.append(child)
            elif child.name == "br":
                found.extend([_space(child)] if breaks else [])
            else:
                stack.append(iter(child.children))
        return found

    def get_text(self, separator: str = "") -> str:
        return separator.join(node.text for node in self.strings(breaks=False))


def _space(node: Node) -> Node:
    return Node("#text", node.start, node.end, parent=node.parent, text=" ", offsets=[node.start], ends=[node.end])


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
                        ends=list(range(first + 1, first + len(payload) + 1)), cdata=True)  # fmt: skip
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


@dataclass(frozen=True)
class Block:
    """A text block as the reader sees it: the element whose children hold it, its folded text, and for each
    character the text node and index."""

    node: Node
    text: str
    places: list[tuple[Node, int]]
    in_svg: bool = False  # inside an <svg>: read aloud, but no span can go there

    def source_range(self, first: int, stop: int) -> tuple[int, int]:
        """Source offsets from before character `first` to after character `stop - 1` of the block's text."""
        node, index = self.places[first]
        last, last_index = self.places[stop - 1]
        return node.offsets[index], last.ends[last_index]


def blocks(root: Node) -> list[Block]:
    """The text blocks, in order and numbered as html_text.markup_text numbers them."""
    return _Walker().walk(_mark(root))


def _mark(root: Node) -> Node:
    """html_text._sorted_tags on this tree: set aside what the reader removes, mark the elements that hold a block;
    the element the reader starts from (the first <body>)."""
    body: Node | None = None
    found: list[Node] = []
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, inside = stack.pop()
        if node.name[0] == "#" and node is not root:
            continue
        if node.name in _UNSEEN:
            node.removed = True
            continue
        body = body or (node if node.name == "body" else None)
        if (node.name == NAV and not inside) or (not inside and node is not root and is_note(node)):
            node.removed = inside = True
        if node.name in _STARTS_BLOCK and not inside:
            found.append(node)
        stack.extend((child, inside) for child in reversed(node.children))
    for node in found:
        parent = node.parent
        while parent is not None and not parent.holds_block:
            parent.holds_block = True
            parent = parent.parent
    return body or root


class _Walker:
    """html_text._Walker on this tree: leaf blocks read whole (strings joined by spaces), the text between blocks in
    an element that holds blocks read as one run (strings joined as they are)."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.run: list[Node] = []
        self.run_parent: Node | None = None

    def walk(self, root: Node) -> list[Block]:
        if _is_leaf(root):
            self.emit(root, root.strings(), " ")
            return self.blocks
        stack = [(root, iter(root.children))]
        while stack:
            parent, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                self.flush()
            elif child.removed or child.name in ("#other", *RUBY_TEXT) or (child.name == "#text" and child.cdata):
                continue  # the reader's run skips comments, declarations and CDATA straight in a container
            elif child.name == "#text" or child.name == "br":
                self.add(parent, [child] if child.name == "#text" else [_space(child)])
            elif _is_leaf(child):
                self.flush()
                self.emit(child, child.strings(), " ")
            elif child.holds_block:
                self.flush()
                stack.append((child, iter(child.children)))
            else:
                self.add(parent, child.strings())
        return self.blocks

    def add(self, parent: Node, strings: list[Node]) -> None:
        self.run_parent = parent
        self.run.extend(strings)

    def flush(self) -> None:
        if self.run_parent is not None:
            self.emit(self.run_parent, self.run, "")
        self.run, self.run_parent = [], None

    def emit(self, node: Node, strings: list[Node], separator: str) -> None:
        block = _folded(node, strings, separator)
        if block.text:
            self.blocks.append(block)


def _is_leaf(node: Node) -> bool:
    if node.name in LEAF_BLOCKS or node.name == SVG_TEXT:
        return True
    return node.name in BLOCKS and not node.holds_block


def _folded(node: Node, strings: list[Node], separator: str) -> Block:
    """' '.join(separator.join(strings).split()), remembering where each character came from."""
    places: list[tuple[Node, int]] = []
    chars: list[str] = []
    pending_space = False
    for number, string in enumerate(strings):
        if number and separator:
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
    in_svg, parent = node.name == "svg", node.parent
    while parent is not None and not in_svg:
        in_svg, parent = parent.name == "svg", parent.parent
    return Block(node, "".join(chars), places, in_svg)


def segments(node: Node, start: int, stop: int) -> list[tuple[int, int]]:
    """Source ranges that wrap [start, stop) of node's content in well-nested spans: runs of whole phrasing
    siblings and pieces of text; partly covered or non-phrasing elements are entered (CDATA only whole)."""
    found: list[tuple[int, int]] = []
    stack: list[tuple[typing.Iterator[Node], list[int]]] = [(iter(node.children), [])]
    while stack:
        children, run = stack[-1]
        child = next(children, None)
        if child is None or child.end <= start or child.start >= stop:
            if run:
                found.append((run[0], run[1]))
                run.clear()
            if child is None:
                stack.pop()
            continue
        whole = start <= child.start and child.end <= stop
        if child.name == "#text" and not child.cdata:
            piece = (max(child.start, start), min(child.end, stop))
        elif whole and (child.name in PHRASING or child.name[0] == "#"):
            piece = (child.start, child.end)
        else:
            if run:
                found.append((run[0], run[1]))
                run.clear()
            if child.name[0] != "#" and child.name not in OPAQUE and not child.removed:
                stack.append((iter(child.children), []))
            continue
        if run:
            run[1] = piece[1]
        else:
            run.extend(piece)
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
