"""Config: TOML from -c, $TUI_TTS_CONFIG or the user config dir, validated once into frozen typed objects."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, create_model

from tui_tts.audio.formats import FormatName
from tui_tts.errors import ConfigError

APP_NAME = "tui-tts"
CONFIG_ENV = "TUI_TTS_CONFIG"
DATA_DIR_ENV = "TUI_TTS_DATA_DIR"

DEFAULT_ENGINE = "local"


class SameAudio:
    """Marks an engine setting that does not change the audio (a key, a timeout, a price): it stays out of run
    identity, so changing it never starts a new run. Every engine setting without it is part of run identity."""

    def __repr__(self) -> str:
        return "SAME_AUDIO"


SAME_AUDIO = SameAudio()


def _http_address(value: str) -> str:
    """An endpoint's address is refused when read, not after a run has waited for it to answer."""
    parts = urlsplit(value)
    if value and (parts.scheme not in ("http", "https") or not parts.netloc):
        raise ValueError("must be an http:// or https:// address, e.g. https://host:port/path")
    return value


HTTP_ADDRESS = AfterValidator(_http_address)  # Annotated[str, HTTP_ADDRESS]: empty, or an http(s) address


class Section(BaseModel):
    """A config section: unknown keys and wrong types are errors, and the values never change once read."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class EngineSettings(Section):
    """An engine's section of the config (declared in its module in tui_tts.engines, listed by the registry)."""

    def audio_identity(self) -> dict[str, object]:
        """The settings that change the audio: every field not marked SAME_AUDIO."""
        same = {name for name, field in type(self).model_fields.items() if SAME_AUDIO in field.metadata}
        return self.model_dump(exclude=same)


class RunSettings(Section):
    """How the work is scheduled."""

    concurrency: Annotated[int, Field(ge=1, le=256)] = 4
    parallel: bool = True
    max_chars: Annotated[int, Field(ge=50, le=20_000)] = 400
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 5
    retry_base_delay: Annotated[float, Field(gt=0, le=60)] = 1.0
    retry_max_delay: Annotated[float, Field(gt=0, le=3600)] = 60.0
    outage_patience: Annotated[float, Field(gt=0, le=7 * 86400)] = 1800.0
    budget: Annotated[float | None, Field(gt=0)] = None  # spend cap, in the currency of the engine's prices


class OutputSettings(Section):
    """The finished file."""

    format: FormatName = "mp3"
    bitrate: Annotated[str, Field(pattern=r"^[1-9][0-9]{0,3}k$")] = "64k"
    ffmpeg: str = ""
    keep_chunks: bool = True
    loudnorm: bool = False
    loudness: Annotated[float, Field(ge=-40, le=-5)] = -18.0
    true_peak: Annotated[float, Field(ge=-9, le=0)] = -1.5
    part_hours: Annotated[float, Field(ge=0, le=1000)] = 0.0
    captions: Literal["", "srt", "vtt"] = ""
    preview_every: Annotated[float, Field(ge=0, le=86_400)] = 300.0


class SeamSettings(Section):
    """Pauses between chunks, by boundary, and how much of a chunk's own edge silence is kept."""

    enabled: bool = True
    sentence: Annotated[float, Field(ge=0, le=30)] = 0.35
    paragraph: Annotated[float, Field(ge=0, le=30)] = 0.8
    chapter: Annotated[float, Field(ge=0, le=30)] = 2.0
    start: Annotated[float, Field(ge=0, le=30)] = 0.5
    end: Annotated[float, Field(ge=0, le=30)] = 1.0
    edge: Annotated[float, Field(ge=0, le=1)] = 0.03
    threshold_db: Annotated[float, Field(ge=-90, le=-10)] = -50.0


class LexiconSettings(Section):
    """The pronunciation lexicon: a TOML or TSV file of word -> what the engine should read."""

    path: str = ""  # relative to the config file's folder; empty: no lexicon


class Settings(Section):
    """The whole validated config. The model that reads it adds one section per engine (see `settings_model`)."""

    engine: str = DEFAULT_ENGINE
    data_dir: str = ""
    run: RunSettings = Field(default_factory=RunSettings)
    output: OutputSettings = Field(default_factory=OutputSettings)
    seams: SeamSettings = Field(default_factory=SeamSettings)
    lexicon: LexiconSettings = Field(default_factory=LexiconSettings)

    def engine_section(self, name: str | None = None) -> EngineSettings:
        """The section of the engine named (by default: the engine in use). Settings hold the sections of the engine
        in use and of every engine the config has a section for."""
        section = getattr(self, name or self.engine)
        assert isinstance(section, EngineSettings)
        return section


def settings_model(names: tuple[str, ...], engines: Mapping[str, type[EngineSettings]]) -> type[Settings]:
    """The Settings model with `engine` limited to `names` and a section for each engine in `engines`."""
    fields: dict[str, Any] = {name: (model, Field(default_factory=model)) for name, model in engines.items()}
    fields["engine"] = (Literal[names], DEFAULT_ENGINE)
    return create_model("Settings", __base__=Settings, __module__=__name__, **fields)


def default_config_path() -> Path:
    """Where the config lives when neither -c nor $TUI_TTS_CONFIG says otherwise."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def resolve_config_path(explicit: str | None) -> tuple[Path | None, bool]:
    """Return (path, required). An explicit or $TUI_TTS_CONFIG path must exist; the default one may not."""
    if explicit:
        return Path(explicit).expanduser(), True
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env).expanduser(), True
    default = default_config_path()
    return (default if default.exists() else None), False


def read_config(explicit: str | None = None, overrides: dict[str, Any] | None = None) -> tuple[dict[str, Any], str]:
    """The config file's values with the CLI overrides merged in, not yet validated, and where they came from."""
    path, required = resolve_config_path(explicit)
    raw: dict[str, Any] = {}
    source = "built-in defaults"
    if path is not None:
        source = str(path)
        raw = _read_toml(path, required)
    return _merge(raw, overrides or {}), source


def validate_settings(model: type[Settings], merged: dict[str, Any], source: str) -> Settings:
    """Validate read_config's values against `model` (see `settings_model`; the engine registry's `load_settings`
    does both). Raises ConfigError with one line."""
    try:
        return model.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(f"config error in {source}: {_describe(exc, model)}") from None


def _read_toml(path: Path, required: bool) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if required:
            raise ConfigError(f"config file not found: {path}") from None
        return {}
    except IsADirectoryError:
        raise ConfigError(f"config path is a directory, not a file: {path}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"config error in {path}: the file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config error in {path}: invalid TOML: {exc}") from None


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe(exc: ValidationError, model: type[BaseModel]) -> str:
    """One line for the first problem, naming the key and what is allowed."""
    first = exc.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    kind = first["type"]
    if kind == "extra_forbidden":
        section = ".".join(str(part) for part in first["loc"][:-1])
        allowed = _allowed_keys(model, section)
        return f"unknown key {key!r}; allowed here: {', '.join(allowed)}"
    message = first["msg"].removeprefix("Value error, ")
    got = first.get("input")
    more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
    if isinstance(got, dict | list):
        return f"key {key!r}: {message}{more}"
    return f"key {key!r}: {message} (got {got!r}){more}"


def _allowed_keys(model: type[BaseModel], section: str) -> list[str]:
    for part in [p for p in section.split(".") if p]:
        annotation = model.model_fields[part].annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
        else:
            return []
    return sorted(model.model_fields)


def data_dir_for(settings: Settings, cli_value: str | None) -> Path:
    """Where the database and chunk audio live: --data-dir, then $TUI_TTS_DATA_DIR, then config, then XDG."""
    for candidate in (cli_value, os.environ.get(DATA_DIR_ENV), settings.data_dir):
        if candidate:
            return Path(candidate).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME))
