"""Text loading: encodings are detected, binary files refused, Markdown reduced to speakable text."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from tui_tts.errors import InputError
from tui_tts.text.decoding import decode_text
from tui_tts.text.loading import load_document

PROSE = (
    "The quick brown fox jumps over the lazy dog. Café owners in the naïve old town served crème brûlée "
    "to every passer-by, and the façade of the building was painted a faded rosé. "
)
CHINESE = "我们今天去公园散步，天气非常好。孩子们在草地上玩耍，老人们在树下下棋。这是一个美好的星期天下午。" * 4


POLISH = "Zażółć gęślą jaźń, powiedział Paweł, i poszedł do domu przez łąkę pełną źdźbeł trawy. " * 3


@pytest.mark.parametrize(
    ("original", "encoded", "expected_encoding"),
    [
        (PROSE, PROSE.encode("utf-8"), "utf-8"),
        (PROSE, codecs.BOM_UTF8 + PROSE.encode("utf-8"), "utf-8-sig"),
        (PROSE, PROSE.encode("utf-16"), "utf-16"),
        (PROSE, PROSE.encode("utf-16-le"), "utf-16-le"),
        (PROSE * 3, (PROSE * 3).encode("cp1252"), "cp1252"),
        (CHINESE, CHINESE.encode("gbk"), None),  # the detector may name it gb18030, a superset of gbk
        (POLISH, POLISH.encode("cp1250"), "cp1250"),
    ],
)
def test_encodings_are_detected(original: str, encoded: bytes, expected_encoding: str | None) -> None:
    text, encoding = decode_text(encoded, "sample")
    assert text == original
    if expected_encoding:
        assert encoding == expected_encoding


def test_gbk_file_loads_as_chinese(tmp_path: Path) -> None:
    path = tmp_path / "chinese.txt"
    path.write_bytes(CHINESE.encode("gbk"))
    document = load_document(path)
    assert document.sections[0].text == CHINESE


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "PNG image"),
        (b"%PDF-1.7\n" + bytes(range(256)), "PDF document"),
        (bytes(range(256)) * 40, "binary"),
        (b"\x00\x01\x02\x03" * 500, "binary"),
    ],
)
def test_binary_files_are_refused(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "thing.txt"
    path.write_bytes(data)
    with pytest.raises(InputError, match=message):
        load_document(path)


@pytest.mark.parametrize("content", [b"", b"   \n\n\t  \r\n"])
def test_empty_files_are_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(InputError, match="empty"):
        load_document(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_document(tmp_path / "missing.txt")
    with pytest.raises(InputError, match="directory"):
        load_document(tmp_path)


def test_plain_text_paragraphs_and_hard_wraps(tmp_path: Path) -> None:
    path = tmp_path / "book.txt"
    path.write_text("First line\nwrapped here.\r\n\r\n  Second   paragraph.\n\n\n\nThird.", encoding="utf-8")
    document = load_document(path)
    assert document.title == "book"
    assert document.sections[0].text == "First line wrapped here.\n\nSecond paragraph.\n\nThird."


MARKDOWN = """---
title: A post
---
# Chapter One

Some **bold** and _italic_ text with a [link](https://example.com/very/long/url) and `code`.

![A cat on a mat](cat.png)

```python
print("never spoken")
```

- item one
- item two

## Chapter Two

> A quoted line.

<div>raw html</div>

| a | b |
|---|---|
| 1 | 2 |
"""


def test_markdown_markup_is_never_spoken(tmp_path: Path) -> None:
    path = tmp_path / "post.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    document = load_document(path)
    assert [section.title for section in document.sections] == ["Chapter One", "Chapter Two"]
    first, second = (section.text for section in document.sections)
    assert first.split("\n\n") == [
        "Chapter One",
        "Some bold and italic text with a link and code.",
        "A cat on a mat",
        "item one",
        "item two",
    ]
    everything = first + second
    for never in ("#", "*", "_", "http", "](", "print", "never spoken", "<div", "raw html", "---", "title:"):
        assert never not in everything
    assert "A quoted line." in second


def test_markdown_with_only_markup_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "code.md"
    path.write_text("```\ncode only\n```\n", encoding="utf-8")
    with pytest.raises(InputError, match="no speakable text"):
        load_document(path)
