"""Build the configured engine."""

from __future__ import annotations

from tui_tts.config import Settings
from tui_tts.engines.base import Engine, EngineError
from tui_tts.engines.local import LocalEngine
from tui_tts.errors import ConfigError


def build_engine(settings: Settings) -> Engine:
    """The engine named by settings.engine, ready to use. Raises ConfigError when it cannot be set up."""
    if settings.engine != "local":
        raise ConfigError(f"the {settings.engine!r} engine is not available in this version; use engine = 'local'")
    try:
        return LocalEngine(settings.local)
    except EngineError as exc:
        raise ConfigError(f"cannot start the {settings.engine} engine: {exc}") from None
