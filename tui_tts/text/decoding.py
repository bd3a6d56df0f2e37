"""Bytes to str for text files: BOMs, strict UTF-8, then a well-kept detector; binary files are refused."""

from __future__ import annotations

import codecs
import unicodedata

from charset_normalizer import from_bytes

from tui_tts.errors import InputError

# Signatures of common binary formats people pass by mistake, with a name the error can show.
_MAGIC = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (EPUB, DOCX and ODT files are ZIP archives too)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x7fELF", "a program (ELF binary)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"ID3", "an MP3 file"),
    (b"RIFF", "a RIFF file (WAV or AVI)"),
    (b"OggS", "an Ogg file"),
    (b"fLaC", "a FLAC file"),
    (b"SQLite format 3", "an SQLite database"),
)

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_text(data: bytes, name: str) -> tuple[str, str]:
    """Return (text, encoding). Raises InputError for binary or undecodable bytes."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _checked(data.decode(encoding), name), encoding
            except UnicodeDecodeError:
                raise InputError(f"{name}: starts with a {encoding} byte-order mark but does not decode") from None
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise InputError(f"{name}: this is {what}, not text")
    bomless_utf16 = _bomless_utf16(data)
    if bomless_utf16:
        try:
            return _checked(data.decode(bomless_utf16), name), bomless_utf16
        except UnicodeDecodeError:
            pass
    try:
        return _checked(data.decode("utf-8"), name), "utf-8"
    except UnicodeDecodeError:
        pass
    matches = from_bytes(data)
    guess = matches.best()
    if guess is None or guess.encoding is None:
        raise InputError(f"{name}: not a text file (no text encoding fits its bytes)")
    # On a tie, prefer cp1252, by far the most common legacy encoding of Western text (the detector otherwise
    # often picks cp1250, which turns "brûlée" into "brűlée").
    for match in matches:
        if match.encoding == "cp1252" and match.chaos <= guess.chaos:
            guess = match
            break
    return _checked(str(guess), name), guess.encoding


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without a BOM shows as NUL bytes on every other position (for mostly-Latin text)."""
    sample = data[:4096]
    if len(sample) < 4 or sample.count(0) < len(sample) // 4:
        return None
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    half = len(sample) // 2
    if odd_nuls > 0.9 * half and even_nuls < 0.1 * half:
        return "utf-16-le"
    if even_nuls > 0.9 * half and odd_nuls < 0.1 * half:
        return "utf-16-be"
    return None


def _checked(text: str, name: str) -> str:
    """Refuse text that is mostly control characters: binary data that happened to decode."""
    sample = text[:65536]
    if not sample:
        return text
    controls = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\v")
    if "\x00" in sample or controls / len(sample) > 0.01:
        raise InputError(f"{name}: looks like a binary file, not text")
    return text
