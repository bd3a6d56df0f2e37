"""`tui-tts names BOOK` (words to put in a lexicon) and `tui-tts voices` (what --voice can name)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import httpx

from tui_tts.config import Settings
from tui_tts.engines.registry import load_settings
from tui_tts.errors import EXIT_OK
from tui_tts.run.language import configured_voice
from tui_tts.text.loading import load_document
from tui_tts.text.names import find_names, lexicon_starter

# OpenAI's own voices (https://platform.openai.com/docs/guides/text-to-speech), for servers that list none.
OPENAI_VOICES = ("alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse")


async def names_command(args: argparse.Namespace) -> int:
    document = load_document(Path(args.input), include_front_matter=args.include_front_matter)
    findings = find_names(document, args.min_count)
    if args.tsv:
        print(lexicon_starter(findings), end="")
        return EXIT_OK
    if not findings:
        print("no likely names or odd words found")
        return EXIT_OK
    width = max(len(finding.word) for finding in findings)
    print(f"{'COUNT':>5}  {'WORD':<{width}}  KIND  SAMPLE")
    for finding in findings:
        print(f"{finding.count:>5}  {finding.word:<{width}}  {finding.kind:<4}  {finding.sample}")
    names = sum(1 for finding in findings if finding.kind == "name")
    print(f"{names} likely name(s), {len(findings) - names} odd word(s); "
          f"'tui-tts names {args.input} --tsv > lexicon.tsv' starts a lexicon")  # fmt: skip
    return EXIT_OK


async def voices_command(args: argparse.Namespace) -> int:
    settings = load_settings(args.config, {"engine": args.engine} if args.engine else None)
    if settings.engine == "local":
        from tui_tts.engines.espeak_voices import espeak_voices

        for voice in espeak_voices():
            marker = "*" if voice.identifier == configured_voice(settings) else " "
            print(f"{marker} {voice.identifier:<18} {voice.name}  ({', '.join(voice.languages)})")
        print(f"{len(espeak_voices())} espeak-ng voices; * marks local.voice; choose with --voice NAME")
        return EXIT_OK
    voices, source = await remote_voices(settings)
    current = configured_voice(settings)
    for name in voices:
        print(f"{'*' if name == current else ' '} {name}")
    if current and current not in voices:
        print(f"* {current}  (configured)")
    print(f"{len(voices)} voice(s) for {settings.engine}, {source}; choose with --voice NAME")
    return EXIT_OK


async def remote_voices(settings: Settings) -> tuple[list[str], str]:
    """What the config declares, else what the server lists (OpenAI-compatible servers), with where it came from."""
    engine = settings.engine
    section = settings.engine_section()
    declared = getattr(section, "voices", None)
    if declared:
        return list(declared), "as the config declares"
    base_url = getattr(section, "base_url", "")
    if not base_url:  # a RunPod endpoint runs any handler: there is no route that lists voices
        return [], f"none declared: this engine cannot list them; set {engine}.voices = [...] in the config"
    url = base_url.rstrip("/") + "/audio/voices"  # Kokoro-FastAPI and openedai-speech
    key = os.environ.get(getattr(section, "api_key_env", ""), "")
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    fallback = list(OPENAI_VOICES) if engine == "openai" else []
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        return fallback, f"OpenAI's own (the server did not answer: {type(exc).__name__})"
    if answer.status_code == 200:
        listed = _voice_names(answer)
        if listed:
            return listed, f"as {url} lists them"
    return fallback, f"OpenAI's own ({url} answered {answer.status_code} without a list)"


def _voice_names(answer: httpx.Response) -> list[str]:
    try:
        body = answer.json()
    except ValueError:
        return []
    items = body.get("voices", body.get("data", [])) if isinstance(body, dict) else body
    names = []
    for item in items if isinstance(items, list) else []:
        name = item if isinstance(item, str) else item.get("id") or item.get("name") if isinstance(item, dict) else None
        if isinstance(name, str) and name:
            names.append(name)
    return names
