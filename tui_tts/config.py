"""Config: TOML from -c, $TUI_TTS_CONFIG or the user config dir, validated once into frozen typed objects."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tui_tts.audio.formats import FormatName
from tui_tts.errors import ConfigError

APP_NAME = "tui-tts"
CONFIG_ENV = "TUI_TTS_CONFIG"
DATA_DIR_ENV = "TUI_TTS_DATA_DIR"

EngineName = Literal["local", "runpod", "openai"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class RunSettings(_Section):
    """How the work is scheduled."""

    concurrency: Annotated[int, Field(ge=1, le=256)] = 4
    parallel: bool = True
    max_chars: Annotated[int, Field(ge=50, le=20_000)] = 400
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 5
    retry_base_delay: Annotated[float, Field(gt=0, le=60)] = 1.0
    retry_max_delay: Annotated[float, Field(gt=0, le=3600)] = 60.0
    outage_patience: Annotated[float, Field(gt=0, le=7 * 86400)] = 1800.0


class OutputSettings(_Section):
    """The finished file."""

    format: FormatName = "mp3"
    bitrate: Annotated[str, Field(pattern=r"^[1-9][0-9]{0,3}k$")] = "64k"
    ffmpeg: str = ""
    keep_chunks: bool = True
    loudnorm: bool = False
    loudness: Annotated[float, Field(ge=-40, le=-5)] = -18.0
    true_peak: Annotated[float, Field(ge=-9, le=0)] = -1.5
    part_hours: Annotated[float, Field(ge=0, le=1000)] = 0.0


class SeamSettings(_Section):
    """Pauses between chunks, by boundary, and how much of a chunk's own edge silence is kept."""

    enabled: bool = True
    sentence: Annotated[float, Field(ge=0, le=30)] = 0.35
    paragraph: Annotated[float, Field(ge=0, le=30)] = 0.8
    chapter: Annotated[float, Field(ge=0, le=30)] = 2.0
    start: Annotated[float, Field(ge=0, le=30)] = 0.5
    end: Annotated[float, Field(ge=0, le=30)] = 1.0
    edge: Annotated[float, Field(ge=0, le=1)] = 0.03
    threshold_db: Annotated[float, Field(ge=-90, le=-10)] = -50.0


class LocalSettings(_Section):
    """The embedded espeak-ng engine."""

    voice: Annotated[str, Field(min_length=1, max_length=64)] = "en-us"
    rate: Annotated[int, Field(ge=80, le=450)] = 175
    backend: Literal["auto", "library", "binary"] = "auto"


class RunpodSettings(_Section):
    """A RunPod serverless endpoint."""

    endpoint_id: str = ""
    endpoint_url: str = ""
    api_key_env: Annotated[str, Field(min_length=1)] = "RUNPOD_API_KEY"
    mode: Literal["run", "runsync"] = "run"
    input: dict[str, Any] = Field(default_factory=lambda: {"text": "{text}"})
    audio_field: str = "audio_base64"
    policy: dict[str, int | bool] = Field(default_factory=dict)
    cost_per_second: Annotated[float, Field(ge=0)] = 0.0
    realtime_factor: Annotated[float, Field(gt=0, le=100)] = 0.1
    poll_initial: Annotated[float, Field(gt=0, le=60)] = 0.25
    poll_max: Annotated[float, Field(gt=0, le=300)] = 5.0
    runsync_wait_ms: Annotated[int, Field(ge=1000, le=300_000)] = 60_000
    job_deadline: Annotated[float, Field(gt=0)] = 600.0
    request_timeout: Annotated[float, Field(gt=0)] = 120.0
    voices: list[str] = Field(default_factory=list)  # what `tui-tts voices` lists (endpoints cannot list them)

    @field_validator("policy")
    @classmethod
    def _known_policy_keys(cls, value: dict[str, int | bool]) -> dict[str, int | bool]:
        allowed = {"executionTimeout", "ttl", "lowPriority"}
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise ValueError(f"unknown policy key {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")
        return value


class OpenAISettings(_Section):
    """An OpenAI-compatible /v1/audio/speech server."""

    base_url: str = "https://api.openai.com/v1"
    api_key_env: Annotated[str, Field(min_length=1)] = "OPENAI_API_KEY"
    model: str = "tts-1"
    voice: str = "alloy"
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] = "mp3"
    speed: Annotated[float, Field(ge=0.25, le=4.0)] = 1.0
    request_timeout: Annotated[float, Field(gt=0)] = 120.0
    cost_per_million_characters: Annotated[float, Field(ge=0)] = 0.0
    voices: list[str] = Field(default_factory=list)  # what `tui-tts voices` lists, over what the server lists


class LexiconSettings(_Section):
    """The pronunciation lexicon: a TOML or TSV file of word -> what the engine should read."""

    path: str = ""  # relative to the config file's folder; empty: no lexicon


class Settings(_Section):
    """The whole validated config."""

    engine: EngineName = "local"
    data_dir: str = ""
    run: RunSettings = Field(default_factory=RunSettings)
    output: OutputSettings = Field(default_factory=OutputSettings)
    seams: SeamSettings = Field(default_factory=SeamSettings)
    local: LocalSettings = Field(default_factory=LocalSettings)
    runpod: RunpodSettings = Field(default_factory=RunpodSettings)
    openai: OpenAISettings = Field(default_factory=OpenAISettings)
    lexicon: LexiconSettings = Field(default_factory=LexiconSettings)


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


def load_settings(explicit: str | None = None, overrides: dict[str, dict[str, Any] | Any] | None = None) -> Settings:
    """Read, merge CLI overrides into, and validate the config. Raises ConfigError with one line."""
    path, required = resolve_config_path(explicit)
    raw: dict[str, Any] = {}
    source = "built-in defaults"
    if path is not None:
        source = str(path)
        raw = _read_toml(path, required)
    merged = _merge(raw, overrides or {})
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(f"config error in {source}: {_describe(exc)}") from None


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


def _describe(exc: ValidationError) -> str:
    """One line for the first problem, naming the key and what is allowed."""
    first = exc.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    kind = first["type"]
    if kind == "extra_forbidden":
        section = ".".join(str(part) for part in first["loc"][:-1])
        allowed = _allowed_keys(section)
        return f"unknown key {key!r}; allowed here: {', '.join(allowed)}"
    message = first["msg"]
    got = first.get("input")
    more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
    if isinstance(got, dict | list):
        return f"key {key!r}: {message}{more}"
    return f"key {key!r}: {message} (got {got!r}){more}"


def _allowed_keys(section: str) -> list[str]:
    model: type[BaseModel] = Settings
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
