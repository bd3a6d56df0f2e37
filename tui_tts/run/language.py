"""Does the voice fit the text? Picks an espeak-ng voice for the text's script when none was named, or warns."""

from __future__ import annotations

from dataclasses import dataclass

from tui_tts.config import Settings
from tui_tts.engines.espeak_voices import find_voice
from tui_tts.errors import UserError
from tui_tts.models import Document
from tui_tts.text.script import SCRIPT_LANGUAGE, ScriptGuess, fits, guess_script, voice_script

_MIN_SHARE = 0.3  # a few Latin words in a Chinese book, or Chinese quotes in an English one, are not a mismatch


@dataclass(frozen=True, slots=True)
class VoiceCheck:
    """The settings to run with (a local voice may have been chosen), and what to tell the person first."""

    settings: Settings
    notices: tuple[tuple[str, str], ...] = ()  # (level, message): "info" for a choice made, "warning" for a misfit


def configured_voice(settings: Settings) -> str:
    """The voice the engine in use will use: its `voice`, or its job input's ('' when it names none)."""
    section = settings.engine_section()
    voice = getattr(section, "voice", None)
    if voice is None:
        job_input = getattr(section, "input", None)
        voice = job_input.get("voice") if isinstance(job_input, dict) else None
    return voice if isinstance(voice, str) else ""


def with_voice(settings: Settings, voice: str) -> Settings:
    """The settings with the engine in use reading `voice` (--voice): its `voice` key, or its job input's."""
    if not voice.strip():
        raise UserError("--voice must not be empty ('tui-tts voices' lists them)")
    section = settings.engine_section()
    if "voice" in type(section).model_fields:
        changed = section.model_copy(update={"voice": voice})
    elif isinstance(getattr(section, "input", None), dict):
        changed = section.model_copy(update={"input": {**section.input, "voice": voice}})  # type: ignore[attr-defined]
    else:
        raise UserError(f"the {settings.engine} engine has no voice to set")
    return settings.model_copy(update={settings.engine: changed})


def voice_named(settings: Settings) -> bool:
    """Whether the person chose the voice (config or --voice), rather than leaving the engine's default."""
    return "voice" in settings.engine_section().model_fields_set


def check_voice(settings: Settings, document: Document) -> VoiceCheck:
    """Choose or check the voice against the text's main script, before anything is synthesised."""
    guess = guess_script(document)
    if guess is None:
        return VoiceCheck(settings)
    unnamed = settings.engine == "local" and not voice_named(settings)
    if unnamed and guess.script in SCRIPT_LANGUAGE and guess.share >= _MIN_SHARE:
        chosen = SCRIPT_LANGUAGE[guess.script][1]
        message = (f"the text is {guess.language} ({guess.share:.0%} of its letters): using the espeak-ng voice "
                   f"{chosen!r} (local.voice or --voice chooses another; 'tui-tts voices' lists them)")  # fmt: skip
        return VoiceCheck(with_voice(settings, chosen), (("info", message),))
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
