"""Markdown to sections of speakable text: headings start sections; markup, URLs and code are never spoken."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.token import Token

from tui_tts.models import Section

# Blocks whose text is not meant to be heard: code, raw HTML, front matter.
_SKIPPED_BLOCKS = {"fence", "code_block", "html_block", "hr", "front_matter"}


def markdown_sections(source: str, default_title: str) -> list[Section]:
    """Split Markdown at headings; each heading's text is the section title and its first paragraph."""
    parser = MarkdownIt("commonmark").enable("table").enable("strikethrough")
    tokens = parser.parse(_strip_front_matter(source))
    sections: list[tuple[str, list[str]]] = [(default_title, [])]
    in_heading = False
    for token in tokens:
        if token.type in _SKIPPED_BLOCKS:
            continue
        if token.type == "heading_open":
            in_heading = True
            continue
        if token.type == "heading_close":
            in_heading = False
            continue
        if token.type != "inline":
            continue
        text = _inline_text(token.children or [])
        if not text:
            continue
        if in_heading:
            if len(sections) == 1 and not sections[0][1]:
                sections[0] = (text, [text])  # the document opens with a heading: it names the first section
            else:
                sections.append((text, [text]))
        else:
            sections[-1][1].append(text)
    return [Section(title=title, text="\n\n".join(paras)) for title, paras in sections if paras]


def _inline_text(children: list[Token]) -> str:
    parts: list[str] = []
    for child in children:
        if child.type in {"text", "code_inline"}:
            parts.append(child.content)
        elif child.type in {"softbreak", "hardbreak"}:
            parts.append(" ")
        elif child.type == "image":
            alt = _inline_text(child.children or [])
            if alt:
                parts.append(alt)
        # link_open/close, em/strong markers and inline HTML carry no speakable text of their own.
    return " ".join("".join(parts).split())


def _strip_front_matter(source: str) -> str:
    """Drop a leading YAML front-matter block (---\\n...\\n---), common in blog posts and notes."""
    if not source.startswith("---\n"):
        return source
    end = source.find("\n---", 4)
    if end == -1:
        return source
    after = source.find("\n", end + 4)
    return source[after + 1 :] if after != -1 else ""
