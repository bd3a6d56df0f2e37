"""WAV reading and writing without trusting header sizes (TTS servers often send 0xFFFFFFFF placeholders)."""

from __future__ import annotations

import struct

from tui_tts.models import AudioFacts

_PCM_CODECS = {(1, 8): "pcm_u8", (1, 16): "pcm_s16le", (1, 24): "pcm_s24le", (1, 32): "pcm_s32le", (3, 32): "pcm_f32le"}


class WavError(ValueError):
    """The bytes are not a usable WAV file."""


def pcm_to_wav(pcm: bytes, sample_rate: int, channels: int = 1, sample_width: int = 2) -> bytes:
    """A canonical 44-byte-header PCM WAV around raw little-endian samples."""
    block_align = channels * sample_width
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(pcm),
        b"WAVE",
        b"fmt ",
        16,
        1,
        channels,
        sample_rate,
        sample_rate * block_align,
        block_align,
        sample_width * 8,
        b"data",
        len(pcm),
    )
    return header + pcm


def repair_wav(data: bytes) -> tuple[bytes, AudioFacts]:
    """Parse a WAV, and return it with correct RIFF and data sizes plus its facts. Raises WavError."""
    tag, body, real, facts = _locate(data, len(data))
    pcm = data[body : body + real]
    if tag == 1:
        return pcm_to_wav(pcm, facts.sample_rate, facts.channels, _sample_width(facts)), facts
    header = bytearray(data[:body])  # float WAV: keep the original header layout, with the true sizes in it
    struct.pack_into("<I", header, body - 4, real)
    struct.pack_into("<I", header, 4, body - 8 + real)
    return bytes(header) + pcm, facts


def is_placeholder_size(size: int) -> bool:
    """Sizes streaming servers write before they know the length: 0, or (nearly) the largest 32-bit numbers."""
    return size == 0 or size >= 0x7FFFF000


def wav_facts(head: bytes, file_size: int, strict: bool = False) -> AudioFacts:
    """Facts from the first bytes of a WAV file and its size on disk (no need to read the samples).

    `strict`: a file shorter than its header says (not a placeholder size) is truncated, not "to the end of file".
    """
    return _locate(head, file_size, strict)[3]


def wav_data_span(head: bytes, file_size: int) -> tuple[int, int, AudioFacts]:
    """(offset, length) of the samples in a WAV file, from its first bytes and its size, plus its facts."""
    _tag, body, real, facts = _locate(head, file_size)
    return body, real, facts


def _sample_width(facts: AudioFacts) -> int:
    return {"pcm_u8": 1, "pcm_s16le": 2, "pcm_s24le": 3}.get(facts.codec, 4)


def _locate(data: bytes, file_size: int, strict: bool = False) -> tuple[int, int, int, AudioFacts]:
    """(format tag, data offset, data length in whole frames, facts) of a WAV whose first bytes are `data`."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise WavError("not a RIFF/WAVE file")
    offset = 12
    fmt: tuple[int, int, int, int] | None = None
    while offset + 8 <= len(data):
        chunk_id, size = struct.unpack_from("<4sI", data, offset)
        body = offset + 8
        if chunk_id == b"fmt ":
            if size < 16 or body + 16 > len(data):
                raise WavError("truncated fmt chunk")
            tag, channels, rate, _byte_rate, _align, bits = struct.unpack_from("<HHIIHH", data, body)
            if tag == 0xFFFE and size >= 40:  # WAVE_FORMAT_EXTENSIBLE: the real tag starts the sub-format GUID
                tag = struct.unpack_from("<H", data, body + 24)[0]
            fmt = (tag, channels, rate, bits)
        elif chunk_id == b"data":
            if fmt is None:
                raise WavError("data chunk before fmt chunk")
            available = file_size - body
            if strict and size > available and not is_placeholder_size(size):
                raise WavError(f"truncated: the header says {size} bytes of samples, the file holds {available}")
            # Placeholder sizes (0, 0xFFFFFFFF, 0x7FFFFFFF, ...) mean "to the end of the file".
            real = size if 0 < size <= available else available
            tag, channels, rate, bits = fmt
            codec = _PCM_CODECS.get((tag, bits))
            if codec is None or channels < 1 or rate < 1:
                raise WavError(f"unsupported WAV encoding (format tag {tag}, {bits} bits)")
            frame = channels * bits // 8
            real -= real % frame
            if real <= 0:
                raise WavError("WAV has no audio samples")
            return tag, body, real, AudioFacts(codec, "wav", rate, channels, real / (frame * rate))
        offset = body + size + (size & 1)
    raise WavError("WAV has no data chunk")
