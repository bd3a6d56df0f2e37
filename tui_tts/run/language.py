"""Does the voice fit the text? Picks an espeak-ng voice for the text's script when none was named, or warns."""

from __future__ import annotations

from dataclasses import dataclass

from tui_tts.config import Settings
from tui_tts.engines.espeak_voices import find_voice
from tui_tts.models import Document
from tui_tts.text.script import SCRIPT_LANGUAGE, ScriptGuess, fits, guess_script, voice_script

_MIN_SHARE = 0.3  # a few Latin words in a Chinese book, or Chinese quotes in an English one, are not a mismatch


@dataclass(frozen=True, slots=True)
class VoiceCheck:
    """The settings to run with (a local voice may have been chosen), and what to tell the person first."""

    settings: Settings
    notices: tuple[tuple[str, str], ...] = ()  # (level, message): "info" for a choice made, "warning" for a misfit


def configured_voice(settings: Settings) -> str:
    """The voice the configured engine will use ('' when the job input of a RunPod endpoint names none)."""
    if settings.engine == "local":
        return settings.local.voice
    if settings.engine == "openai":
        return settings.openai.voice
    voice = settings.runpod.input.get("voice", "")
    return voice if isinstance(voice, str) else ""


def voice_named(settings: Settings) -> bool:
    """Whether the person chose the local voice (config or --voice), rather than leaving the default."""
    return "voice" in settings.local.model_fields_set


def check_voice(settings: Settings, document: Document) -> VoiceCheck:
    """Choose or check the voice against the text's main script, before anything is synthesised."""
    guess = guess_script(document)
    if guess is None:
        return VoiceCheck(settings)
    unnamed = settings.engine == "local" and not voice_named(settings)
    if unnamed and guess.script in SCRIPT_LANGUAGE and guess.share >= _MIN_SHARE:
        chosen = SCRIPT_LANGUAGE[guess.script][1]
        local = settings.local.model_copy(update={"voice": chosen})
        message = (f"the text is {guess.language} ({guess.share:.0%} of its letters): using the espeak-ng voice "
                   f"{chosen!r} (local.voice or --voice chooses another; 'tui-tts voices' lists them)")  # fmt: skip
        return VoiceCheck(settings.model_copy(update={"local": local}), (("info", message),))
    warning = mismatch(settings, guess)
    return VoiceCheck(settings, (("warning", warning),) if warning else ())


def mismatch(settings: Settings, guess: ScriptGuess) -> str | None:
    """A one-line warning when the voice reads another script than most of the text is in."""
    voice = configured_voice(settings)
    if not voice or guess.share < _MIN_SHARE:
        return None
    language = None
    if settings.engine == "local":
        found = find_voice(voice)
        language = found.language if found else None
    reads = voice_script(voice, language)
    if reads is None or fits(guess.script, reads):
        return None
    suggestion = ""
    if guess.script in SCRIPT_LANGUAGE:
        espeak = SCRIPT_LANGUAGE[guess.script][1]
        suggestion = f" (e.g. --voice {espeak})" if settings.engine == "local" else ""
    reads_name = SCRIPT_LANGUAGE[reads][0] if reads in SCRIPT_LANGUAGE else f"{reads.capitalize()} script"
    return (f"the text is {guess.language} ({guess.share:.0%} of its letters), but the {settings.engine} voice "
            f"{voice!r} reads {reads_name}: expect it skipped, spelled out or mispronounced; choose a fitting voice "
            f"with --voice{suggestion}; 'tui-tts voices --engine {settings.engine}' lists them")  # fmt: skip
