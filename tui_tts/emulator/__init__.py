"""`tui-tts emulate`: a RunPod-compatible serverless endpoint on 127.0.0.1, with latency and injectable faults."""

from tui_tts.emulator.config import EmulatorConfig
from tui_tts.emulator.server import Emulator, running_emulator

__all__ = ["Emulator", "EmulatorConfig", "running_emulator"]
