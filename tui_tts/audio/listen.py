"""Listening to one chunk: a system player when there is one (ffplay, paplay, aplay, afplay), else a WAV to open."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tui_tts.audio.ffmpeg import Ffmpeg, run_ffmpeg

# (binary, arguments before the file, plays only WAV). ffplay and afplay read any format; the others want WAV.
PLAYERS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("ffplay", ("-nodisp", "-autoexit", "-loglevel", "quiet"), False),
    ("paplay", (), True),
    ("aplay", ("-q",), True),
    ("afplay", (), False),
)


@dataclass(frozen=True, slots=True)
class Playback:
    """What `listen` did: started a player on a file, or only wrote the WAV for the person to open."""

    path: Path
    player: str | None  # None: no player found; `path` is the WAV to open

    def describe(self) -> str:
        return f"playing {self.path.name} with {self.player}" if self.player else f"no audio player found: {self.path}"


def find_player() -> tuple[str, tuple[str, ...], bool] | None:
    for name, arguments, wav_only in PLAYERS:
        found = shutil.which(name)
        if found:
            return found, arguments, wav_only
    return None


async def as_wav(ffmpeg: Ffmpeg, source: Path, target: Path) -> Path:
    """The audio as a WAV file: the source itself when it is one, else decoded by ffmpeg into `target`."""
    if source.suffix.lower() == ".wav":
        return source
    target.parent.mkdir(parents=True, exist_ok=True)
    await run_ffmpeg(ffmpeg, ["-y", "-i", str(source), "-c:a", "pcm_s16le", str(target)])
    return target


async def listen(ffmpeg: Ffmpeg, source: Path, wav_target: Path) -> Playback:
    """Start playing the chunk (without waiting for the end), or write it as a WAV and say where."""
    player = find_player()
    if player is None:
        wav = await as_wav(ffmpeg, source, wav_target)
        if wav == source:  # still give the person a file of their own to open
            wav_target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, wav_target)
        return Playback(wav_target, None)
    binary, arguments, wav_only = player
    path = await as_wav(ffmpeg, source, wav_target) if wav_only else source
    # Not waited for: the person may go on while it plays; Python reaps it (the dashboard keeps running).
    subprocess.Popen([binary, *arguments, str(path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    return Playback(path, Path(binary).name)
