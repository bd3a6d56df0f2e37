"""`tui-tts run BOOK --list-chapters`: the chapters, their size, the audio they should make and how much of the
book's text is read, before paying."""

from __future__ import annotations

import argparse
from pathlib import Path

from tui_tts.commands.overrides import run_overrides
from tui_tts.engines.registry import load_settings
from tui_tts.errors import EXIT_OK
from tui_tts.run.cost import CHARACTERS_PER_SECOND, estimate_cost
from tui_tts.run.progress import format_duration
from tui_tts.text.chunking import chunk_document
from tui_tts.text.coverage import coverage_notes
from tui_tts.text.loading import load_document, read_input_bytes, select_chapters


def list_chapters(args: argparse.Namespace) -> int:
    settings = load_settings(args.config, run_overrides(args))
    path = Path(args.input)
    document = load_document(path, read_input_bytes(path), bool(args.include_front_matter),
                             detect_chapters=not args.no_chapters)  # fmt: skip
    notes = coverage_notes(document.coverage, bool(args.strict_text), path.name)  # --strict-text: refused here
    numbered = list(enumerate(document.sections, 1))
    if args.chapters:
        chosen = set(select_chapters(document, args.chapters).sections)
        numbered = [(number, section) for number, section in numbered if section in chosen]
    byline = f" by {document.author}" if document.author else ""
    print(f"{document.title}{byline}: {len(document.sections)} chapters")
    for level, message in notes:
        print(f"warning: {message}" if level == "warning" else message)
    total_chars = 0
    for number, section in numbered:
        characters = len(section.text)
        total_chars += characters
        print(f"{number:>4}  {section.title[:60]:<60}  {characters:>8,} chars  "
              f"~{format_duration(characters / CHARACTERS_PER_SECOND)}")  # fmt: skip
    chunks = len(chunk_document(document, settings.run.max_chars))
    estimate = estimate_cost(settings, total_chars)
    cost = f", about ${estimate.dollars:.2f} with engine {settings.engine}" if estimate.paid else ""
    print(f"      {'selected' if args.chapters else 'all'}: {total_chars:,} characters, about "
          f"{format_duration(total_chars / CHARACTERS_PER_SECOND)} of audio{cost}; the whole book is {chunks} "
          f"chunks at max_chars {settings.run.max_chars}")  # fmt: skip
    return EXIT_OK
