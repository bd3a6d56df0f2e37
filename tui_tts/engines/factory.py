"""Build the configured engine."""

from __future__ import annotations

from tui_tts.config import Settings
from tui_tts.engines.base import Engine, EngineError
from tui_tts.errors import ConfigError


def build_engine(settings: Settings) -> Engine:
    """The engine named by settings.engine, ready to use. Raises ConfigError when it cannot be set up."""
    concurrency = settings.run.concurrency
    try:
        if settings.engine == "runpod":
            from tui_tts.engines.runpod import RunpodEngine

            return RunpodEngine(settings.runpod, concurrency)
        if settings.engine == "openai":
            from tui_tts.engines.openai import OpenAIEngine

            return OpenAIEngine(settings.openai, concurrency)
        from tui_tts.engines.local import LocalEngine

        return LocalEngine(settings.local)
    except EngineError as exc:
        raise ConfigError(f"cannot start the {settings.engine} engine: {exc}") from None
