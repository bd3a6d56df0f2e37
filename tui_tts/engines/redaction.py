"""Keeps API keys out of every message: the keys in use, in plain and base64 forms, are cut from any text."""

from __future__ import annotations

import base64

REDACTED = "[redacted]"
MIN_FORM = 8  # shorter fragments would redact ordinary words

_forms: set[str] = set()


def register_secret(key: str) -> None:
    """Remember a key in use, so `redact` removes it, and its base64 in any alignment, from every message."""
    if len(key) < MIN_FORM:  # not a real key (tests use "x"); redacting it would mangle ordinary text
        return
    _forms.add(key)
    raw = key.encode()
    for prefix in (b"", b"Bearer ", b":"):  # the key alone, as an Authorization value, as basic auth
        _forms.add(base64.b64encode(prefix + raw).decode().rstrip("="))
    for shift in range(3):  # the key inside a longer base64 text: its stable middle, for each byte alignment
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * shift + raw).decode().rstrip("=")
            start = (shift * 8 + 5) // 6
            middle = encoded[start : len(encoded) - 2]
            if len(middle) >= MIN_FORM:
                _forms.add(middle)


def redact(text: str) -> str:
    """The text with every registered key form replaced by [redacted]."""
    if not _forms or not text:
        return text
    for form in sorted(_forms, key=len, reverse=True):
        if form in text:
            text = text.replace(form, REDACTED)
    return text
