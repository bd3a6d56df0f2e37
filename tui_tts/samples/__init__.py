"""Bundled public-domain sample text (Lewis Carroll, Alice's Adventures in Wonderland, 1865)."""

from pathlib import Path

SAMPLE = Path(__file__).with_name("alice-rabbit-hole.txt")
