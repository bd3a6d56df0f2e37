"""`tui-tts emulate`: a RunPod-compatible serverless endpoint on 127.0.0.1, with latency and injectable faults."""

from __future__ import annotations

from typing import Any

from tui_tts.emulator.config import EmulatorConfig

__all__ = ["Emulator", "EmulatorConfig", "running_emulator"]


def __getattr__(name: str) -> Any:
    # The server pulls in aiohttp; load it only when a server is wanted, not for every `tui-tts run`.
    if name in {"Emulator", "running_emulator"}:
        from tui_tts.emulator import server

        return getattr(server, name)
    raise AttributeError(name)
