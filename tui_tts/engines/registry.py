"""The engine registry: every engine by name, and the config read with their sections. Add an engine here."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the command line reads the names before anything else: pydantic loads only with a config
    from tui_tts.config import Settings
    from tui_tts.engines.base import Engine, EngineSpec

# One entry per engine: its name (the value of `engine` in the config, and its section) and the module defining its
# SPEC. The order is the order names are listed in (--help, error messages). Modules load only when a config is read
# or an engine built, so `tui-tts --help` stays fast.
ENGINES: dict[str, str | EngineSpec[Any]] = {
    "local": "tui_tts.engines.local",
    "runpod": "tui_tts.engines.runpod",
    "openai": "tui_tts.engines.openai",
}

_models: dict[tuple[tuple[str, ...], tuple[EngineSpec[Any], ...]], type[Settings]] = {}


def engine_names() -> tuple[str, ...]:
    """Every engine's name, without loading any engine."""
    return tuple(ENGINES)


def engine_spec(name: str) -> EngineSpec[Any]:
    """The spec of the engine with this name (loading its module the first time)."""
    from tui_tts.engines.base import EngineSpec

    entry = ENGINES[name]
    spec = importlib.import_module(entry).SPEC if isinstance(entry, str) else entry
    if not isinstance(spec, EngineSpec) or spec.name != name:
        raise TypeError(f"engine registry: {entry!r} does not define the EngineSpec of {name!r}")
    return spec


def load_settings(explicit: str | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Read, merge CLI overrides into, and validate the config. Raises ConfigError with one line.

    Only the engines the config uses are loaded (the one chosen, and any with a section): they are the ones the
    values can be wrong for. A config that is wrong is checked again with every engine, so the message lists them all.
    """
    from tui_tts.config import DEFAULT_ENGINE, read_config, validate_settings
    from tui_tts.errors import ConfigError

    merged, source = read_config(explicit, overrides)
    chosen = merged.get("engine", DEFAULT_ENGINE)
    used = tuple(name for name in ENGINES if name == chosen or name in merged)
    try:
        return validate_settings(_settings_model(used), merged, source)
    except ConfigError:
        return validate_settings(_settings_model(tuple(ENGINES)), merged, source)


def _settings_model(names: tuple[str, ...]) -> type[Settings]:
    from tui_tts.config import settings_model

    specs = tuple(engine_spec(name) for name in names)
    key = (engine_names(), specs)
    model = _models.get(key)
    if model is None:
        model = _models[key] = settings_model(engine_names(), {spec.name: spec.settings for spec in specs})
    return model


def build_engine(settings: Settings) -> Engine:
    """The engine named by settings.engine, ready to use. Raises ConfigError when it cannot be set up."""
    from tui_tts.engines.base import EngineError
    from tui_tts.errors import ConfigError

    spec = engine_spec(settings.engine)
    try:
        return spec.build(settings.engine_section(), settings.run.concurrency)
    except EngineError as exc:
        raise ConfigError(f"cannot start the {settings.engine} engine: {exc}") from None


def engine_cost(settings: Settings, characters: int, audio_seconds: float) -> float:
    """Dollars the engine in use charges for this much text and audio (0 for free engines)."""
    return engine_spec(settings.engine).cost(settings.engine_section(), characters, audio_seconds)
