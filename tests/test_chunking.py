"""Chunking: sentence-aware packing, fallbacks for over-long sentences, CJK, and exact coverage of the text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tui_tts.models import Chunk, Document, Section
from tui_tts.text.chunking import chunk_document
from tui_tts.text.loading import normalize_paragraphs


def chunks_of(text: str, max_chars: int = 400) -> list[Chunk]:
    return chunk_document(Document("t", (Section("t", normalize_paragraphs(text)),)), max_chars)


def texts(text: str, max_chars: int = 400) -> list[str]:
    return [chunk.text for chunk in chunks_of(text, max_chars)]


def assert_exact_cover(section_text: str, chunks: list[Chunk], max_chars: int) -> None:
    """In order, the chunks cover every non-space character once; gaps between them are whitespace only."""
    position = 0
    for chunk in chunks:
        assert chunk.text, "empty chunk"
        assert len(chunk.text) <= max_chars
        assert chunk.start >= position
        assert section_text[position : chunk.start].strip() == ""
        assert chunk.text == " ".join(section_text[chunk.start : chunk.end].split())
        position = chunk.end
    assert section_text[position:].strip() == ""


def test_abbreviations_decimals_and_initials_do_not_split() -> None:
    text = "Mr. Smith paid $3.50 to Dr. Jones, e.g. for J. R. R. Tolkien's book. It was 2.5 km away. Done."
    # The first sentence is longer than 60: it falls back to its comma, never to "Dr." or "J.".
    assert texts(text, 60) == ["Mr. Smith paid $3.50 to Dr. Jones,", "e.g. for J. R. R. Tolkien's book. It was 2.5 km "
                               "away. Done."]  # fmt: skip
    sentences = texts(text, 10_000)
    assert sentences == [text]
    pieces = texts("Mr. Smith paid $3.50 to Dr. Jones today. It was 2.5 km away.", 45)
    assert pieces == ["Mr. Smith paid $3.50 to Dr. Jones today.", "It was 2.5 km away."]


def test_quotes_ellipses_and_dialogue() -> None:
    text = '"Oh!" said Alice. "Really?" She waited... And then it came... slowly. The end.'
    assert texts(text, 30) == ['"Oh!" said Alice. "Really?"', "She waited...", "And then it came... slowly.",
                               "The end."]  # fmt: skip


def test_dashes_are_clause_breaks_for_long_sentences() -> None:
    clause = "the rabbit ran on and on — past the hedge, over the field; under the old oak tree"
    pieces = texts(clause * 3, 100)
    assert all(len(piece) <= 100 for piece in pieces)
    assert all(piece[-1] in ",;—" or piece == pieces[-1] for piece in pieces)


def test_sentences_are_packed_up_to_max_chars() -> None:
    sentence = "This is a sentence of some length. "
    pieces = texts(sentence * 40, 200)
    assert all(len(piece) <= 200 for piece in pieces)
    assert all(piece.endswith(".") for piece in pieces)
    assert len(pieces) == 8  # 5 sentences of 35 characters fit in 200


def test_a_20000_character_sentence_without_punctuation() -> None:
    words = " ".join(f"word{n % 97}" for n in range(3000))
    text = words[:20_000].rstrip()
    chunks = chunks_of(text, 400)
    assert_exact_cover(text, chunks, 400)
    for chunk in chunks:
        assert not chunk.text.startswith(" ") and not chunk.text.endswith(" ")
    joined = " ".join(chunk.text for chunk in chunks)
    assert joined == text  # cut only at spaces: no word was split


def test_a_word_longer_than_max_chars_is_cut_hard() -> None:
    text = "x" * 1000
    pieces = texts(text, 300)
    assert pieces == ["x" * 300, "x" * 300, "x" * 300, "x" * 100]


def test_cjk_text_without_spaces() -> None:
    text = "我们今天去公园散步。天气非常好！孩子们在草地上玩耍？老人们在树下下棋。" * 10
    chunks = chunks_of(text, 40)
    assert_exact_cover(text, chunks, 40)
    assert all(chunk.text[-1] in "。！？" for chunk in chunks)
    long_clause = "我们今天去公园散步，天气非常好，孩子们在草地上玩耍，老人们在树下下棋，" * 5
    assert_exact_cover(long_clause, chunks_of(long_clause, 30), 30)


def test_chunks_keep_index_section_and_paragraph_end() -> None:
    document = Document("d", (Section("One", "A b c.\n\nD e f."), Section("Two", "G h i.")))
    chunks = chunk_document(document, 400)
    assert [(c.index, c.section, c.text, c.ends_paragraph) for c in chunks] == [
        (0, 0, "A b c. D e f.", True),
        (1, 1, "G h i.", True),
    ]


def test_never_an_empty_chunk_from_whitespace() -> None:
    assert chunks_of("   \n\n   ", 100) == []


_alphabet = st.sampled_from([*"abcdefghij ABC .,;:!?…—\"'()\n", "Mr.", "e.g.", "3.5", "。", "你好", "  "])


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(_alphabet, max_size=400), max_chars=st.integers(min_value=1, max_value=120))
def test_property_chunks_cover_all_speakable_text_once(parts: list[str], max_chars: int) -> None:
    section_text = normalize_paragraphs("".join(parts))
    chunks = chunk_document(Document("t", (Section("t", section_text),)), max_chars)
    assert_exact_cover(section_text, chunks, max_chars)
    assert "".join("".join(c.text.split()) for c in chunks) == "".join(section_text.split())
    assert [c.index for c in chunks] == list(range(len(chunks)))


def test_a_heading_ends_its_chunk_so_the_voice_pauses_before_the_text() -> None:
    text = "A Mad Tea-Party\n\nThere was a table set out under a tree.\n\nSaid the Hatter:\n\nNo room! No room!"
    chunks = chunk_document(Document("t", (Section("s", text),)), 200)
    assert [(chunk.text, chunk.ends_paragraph) for chunk in chunks] == [
        ("A Mad Tea-Party", True),  # alone: joined, it was read "A Mad Tea-Party There was a table" with no pause
        ("There was a table set out under a tree. Said the Hatter: No room! No room!", True),  # punctuated: joined
    ]
