"""Compressed chunk audio decoded in this process (PyAV: ffmpeg's own libraries), as s16le PCM at a given layout.

One ffmpeg process per chunk cost ~20-27 ms of start-up each, most of the seam-aware join's time with MP3 chunks.
The samples are the same as `ffmpeg -i chunk -f s16le -ar RATE -ac CHANNELS -` gives: the same decoders and the
same resampler. Called from a worker thread; one chunk is in memory at a time.
"""

from __future__ import annotations

from pathlib import Path

import av
import av.error
import numpy as np

from tui_tts.errors import FfmpegError

# Our container names -> ffmpeg demuxers. Naming the demuxer skips probing the format.
_DEMUXERS = {"mp3": "mp3", "ogg": "ogg", "flac": "flac", "mp4": "mp4", "aac": "aac", "wav": "wav"}
# An MP3's first frame header says all a decoder needs: no need to read ahead to analyse the stream (as for WAV).
_HEADER_ONLY = {"mp3": {"probesize": "4096", "analyzeduration": "0"}}
_LAYOUTS = {1: "mono", 2: "stereo"}
_DIRECT = {"flt": 4, "fltp": 4, "s16": 2, "s16p": 2}  # sample formats converted without the resampler: bytes each


def decode_pcm(path: Path, container: str, layout: tuple[int, int]) -> bytes:
    """The first audio stream of `path` as s16le at (rate, channels). Raises FfmpegError."""
    rate, channels = layout
    frame_bytes = 2 * channels
    try:
        with av.open(str(path), format=_DEMUXERS.get(container), options=_HEADER_ONLY.get(container, {})) as source:
            if not source.streams.audio:
                raise FfmpegError(f"cannot decode chunk audio {path}: no audio stream")
            stream = source.streams.audio[0]
            resampler = av.AudioResampler(format="s16", layout=_LAYOUTS.get(channels, f"{channels}c"), rate=rate)
            # MP4's edit list ends the audio before the encoder's padding; ffmpeg's command line honours it.
            end = (
                ((stream.start_time or 0) + stream.duration) * stream.time_base
                if container == "mp4" and stream.duration and stream.time_base
                else None
            )
            parts: list[bytes] = []
            direct = _Direct(layout)
            for decoded in source.decode(stream):
                frame: av.AudioFrame | None = decoded
                if end is not None and decoded.pts is not None and decoded.time_base is not None:
                    frame = _cut(decoded, round((end - decoded.pts * decoded.time_base) * decoded.sample_rate))
                if frame is None:
                    break
                if direct.take(frame):
                    continue
                parts.append(direct.flush())
                for out in resampler.resample(frame):
                    parts.append(bytes(out.planes[0])[: out.samples * frame_bytes])
            parts.append(direct.flush())
            for out in resampler.resample(None):
                parts.append(bytes(out.planes[0])[: out.samples * frame_bytes])
            pcm = b"".join(parts)
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise FfmpegError(f"cannot decode chunk audio {path}: {exc}") from None
    return pcm


class _Direct:
    """Frames that differ from the wanted PCM only in sample format (the common case: an MP3 at the book's rate),
    gathered and converted in one step without the resampler. Rounds as ffmpeg's converter does (lrintf: to nearest,
    ties to even), so the bytes are the same."""

    def __init__(self, layout: tuple[int, int]) -> None:
        self.rate, self.channels = layout
        self.format: str | None = ""  # None once a frame needed the resampler
        self.planes: list[list[bytes]] = []

    def take(self, frame: av.AudioFrame) -> bool:
        """Gather the frame; False when it needs the resampler (from then on every frame does, to keep the order)."""
        name = frame.format.name
        same_layout = frame.sample_rate == self.rate and len(frame.layout.channels) == self.channels
        if self.format is None or not same_layout or name not in _DIRECT or self.format not in ("", name):
            self.format = None
            return False
        self.format = name
        width = _DIRECT[name] * frame.samples * (1 if frame.format.is_planar else self.channels)
        planes = frame.planes[: self.channels] if frame.format.is_planar else frame.planes[:1]
        if not self.planes:
            self.planes = [[] for _ in planes]
        for gathered, plane in zip(self.planes, planes, strict=True):
            gathered.append(bytes(plane)[:width])
        return True

    def flush(self) -> bytes:
        """The gathered frames as s16le (empty when there are none)."""
        if not self.planes:
            return b""
        kind = "<f4" if self.format and self.format.startswith("flt") else "<i2"
        columns = [np.frombuffer(b"".join(gathered), dtype=kind) for gathered in self.planes]
        samples = columns[0] if len(columns) == 1 else np.stack(columns, axis=1).reshape(-1)
        self.planes = []
        if kind == "<i2":
            return samples.tobytes()
        scaled = np.rint(samples * np.float32(32768.0))
        return bytes(np.clip(scaled, -32768, 32767).astype("<i2").tobytes())


def _cut(frame: av.AudioFrame, keep: int) -> av.AudioFrame | None:
    """The frame's first `keep` samples (the frame itself when it has no more; None when nothing is kept)."""
    if keep >= frame.samples:
        return frame
    if keep <= 0:
        return None
    width = keep if frame.format.is_planar else keep * len(frame.layout.channels)  # packed: samples interleaved
    cut = av.AudioFrame.from_ndarray(frame.to_ndarray()[:, :width], format=frame.format.name, layout=frame.layout.name)
    cut.sample_rate, cut.pts, cut.time_base = frame.sample_rate, frame.pts, frame.time_base
    return cut
