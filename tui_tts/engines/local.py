"""The embedded engine: espeak-ng through the library in the espeakng-loader wheel, or an espeak-ng binary."""

from __future__ import annotations

import asyncio
import ctypes
import shutil
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from tui_tts.audio.probe import AudioError, inspect_audio
from tui_tts.audio.wav import pcm_to_wav
from tui_tts.config import SAME_AUDIO, EngineSettings
from tui_tts.engines.base import (
    BadOutputError,
    Check,
    Engine,
    EngineSpec,
    FatalError,
    JobListener,
    RetryableError,
)
from tui_tts.models import Chunk, SynthesizedAudio

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_ESPEAK_CHARS_UTF8 = 1
_ESPEAK_RATE = 1
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class LocalSettings(EngineSettings):
    """The embedded espeak-ng engine."""

    voice: Annotated[str, Field(min_length=1, max_length=64)] = "en-us"
    rate: Annotated[int, Field(ge=80, le=450)] = 175
    backend: Annotated[Literal["auto", "library", "binary"], SAME_AUDIO] = "auto"


class EspeakLibrary:
    """The libespeak-ng C API via ctypes. The library has global state, so one synthesis at a time."""

    _instance: EspeakLibrary | None = None
    _instance_lock = threading.Lock()

    def __init__(self) -> None:
        import espeakng_loader

        self._lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self._lib.espeak_Initialize.restype = ctypes.c_int
        self._lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self._lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self._lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self._lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
            ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        data_path = espeakng_loader.get_data_path().encode()
        self.sample_rate = int(self._lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, 0))
        if self.sample_rate <= 0:
            raise FatalError("espeak-ng failed to initialise")
        self._buffer = bytearray()
        self._callback = _SYNTH_CALLBACK(self._receive)  # kept referenced while the library holds it
        self._lib.espeak_SetSynthCallback(self._callback)
        self._lock = threading.Lock()

    @classmethod
    def shared(cls) -> EspeakLibrary:
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def _receive(self, samples: ctypes._Pointer[ctypes.c_short], count: int, _events: int) -> int:
        if samples and count > 0:
            self._buffer += ctypes.string_at(samples, count * 2)
        return 0

    def check_voice(self, voice: str) -> None:
        """Raise FatalError, naming the voice, when espeak-ng does not have it."""
        with self._lock:
            if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise FatalError(f"espeak-ng has no voice named {voice!r} (e.g. 'en' is British, 'en-us' American)")

    def synthesize(self, text: str, voice: str, rate: int) -> bytes:
        """Raw 16-bit mono PCM for the text (blocking: call it from a thread)."""
        with self._lock:
            if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise FatalError(f"espeak-ng has no voice named {voice!r}")
            self._lib.espeak_SetParameter(_ESPEAK_RATE, rate, 0)
            self._buffer = bytearray()
            encoded = text.encode("utf-8") + b"\0"
            status = self._lib.espeak_Synth(encoded, len(encoded), 0, 0, 0, _ESPEAK_CHARS_UTF8, None, None)
            if status != 0:
                raise RetryableError(f"espeak-ng synthesis failed with status {status}")
            return bytes(self._buffer)


class LocalEngine(Engine):
    """Real speech with no account and no network. WAV out."""

    name = "local"

    def __init__(self, settings: LocalSettings) -> None:
        self.settings = settings
        binary = shutil.which("espeak-ng")
        if settings.backend == "binary" and binary is None:
            raise FatalError("backend 'binary' was asked for, but there is no espeak-ng on PATH")
        self._binary = binary if settings.backend in {"auto", "binary"} else None
        if self._binary is None:
            self._library = EspeakLibrary.shared()
            self._library.check_voice(settings.voice)

    def describe(self) -> str:
        how = "espeak-ng binary" if self._binary else "embedded espeak-ng"
        return f"local ({how}, voice {self.settings.voice}, {self.settings.rate} wpm)"

    async def synthesize(
        self, chunk: Chunk, listener: JobListener, resume_job_id: str | None = None
    ) -> SynthesizedAudio:
        if self._binary:
            data = await self._run_binary(chunk.text)
        else:
            pcm = await asyncio.to_thread(self._library.synthesize, chunk.text, self.settings.voice, self.settings.rate)
            data = pcm_to_wav(pcm, self._library.sample_rate)
        try:
            repaired, facts = inspect_audio(data)
        except AudioError as exc:
            raise BadOutputError(f"espeak-ng produced unusable audio: {exc}") from None
        return SynthesizedAudio(repaired, facts)

    async def _run_binary(self, text: str) -> bytes:
        assert self._binary is not None
        with tempfile.TemporaryDirectory(prefix="tui-tts-espeak-") as folder:
            out = Path(folder) / "out.wav"
            process = await asyncio.create_subprocess_exec(
                self._binary, "-w", str(out), "-v", self.settings.voice, "-s", str(self.settings.rate), "--stdin",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            _, stderr = await process.communicate(text.encode("utf-8"))
            if process.returncode != 0:
                message = stderr.decode(errors="replace").strip().splitlines()
                raise FatalError(f"espeak-ng failed: {message[-1] if message else process.returncode}")
            return out.read_bytes()


class _NoJobs:
    async def job_submitted(self, chunk: Chunk, job_id: str) -> None:
        return None


async def _checks(settings: LocalSettings, engine: Engine) -> AsyncIterator[Check]:
    started = time.monotonic()
    audio = await engine.synthesize(Chunk(0, 0, 0, 0, "Testing, one, two, three."), _NoJobs())
    yield Check("speech", True, f"{audio.facts.duration:.1f} s of audio in {time.monotonic() - started:.2f} s")


SPEC = EngineSpec("local", LocalSettings, lambda settings, concurrency: LocalEngine(settings), checks=_checks)
