"""Config: file discovery, CLI overrides, and one-line errors that name the file, the key and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from tui_tts.config import data_dir_for, default_config_path
from tui_tts.engines.registry import load_settings
from tui_tts.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_file() -> None:
    settings = load_settings(None)
    assert settings.engine == "local"
    assert settings.run.max_chars == 400
    assert settings.output.format == "mp3"


def test_explicit_file_is_read_and_frozen(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", 'engine = "local"\n[run]\nconcurrency = 9\nparallel = false\n')
    settings = load_settings(str(path))
    assert settings.run.concurrency == 9 and settings.run.parallel is False
    with pytest.raises(ValidationError, match="frozen"):
        settings.run.concurrency = 3  # type: ignore[misc]


def test_env_var_then_user_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = default_config_path()
    user.parent.mkdir(parents=True)
    write(user, "[run]\nmax_chars = 300\n")
    assert load_settings(None).run.max_chars == 300
    env = write(tmp_path / "env.toml", "[run]\nmax_chars = 250\n")
    monkeypatch.setenv("TUI_TTS_CONFIG", str(env))
    assert load_settings(None).run.max_chars == 250


def test_cli_overrides_win_over_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[run]\nconcurrency = 2\nmax_chars = 300\n")
    settings = load_settings(str(path), {"run": {"concurrency": 7}, "output": {"format": "wav"}})
    assert settings.run.concurrency == 7
    assert settings.run.max_chars == 300
    assert settings.output.format == "wav"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[run]\nconcurency = 3\n", "unknown key 'run.concurency'; allowed here: budget, concurrency"),
        ("colour = 1\n", "unknown key 'colour'"),
        ("[run]\nconcurrency = 0\n", "key 'run.concurrency': Input should be greater than or equal to 1 (got 0)"),
        ('[run]\nconcurrency = "4"\n', "key 'run.concurrency': Input should be a valid integer"),
        ('engine = "polly"\n', "key 'engine': Input should be 'local', 'runpod' or 'openai'"),
        ('[output]\nformat = "aiff"\n', "key 'output.format'"),
        ('[output]\nbitrate = "fast"\n', "key 'output.bitrate'"),
        ("[runpod]\npolicy = { ttl = 1, speed = 2 }\n", "unknown policy key 'speed'"),
        ('[runpod]\nendpoint_url = "127.0.0.1:8000/v2/x"\n', "key 'runpod.endpoint_url': must be an http:// or https"),
        ('[openai]\nbase_url = "ftp://example.com/v1"\n', "key 'openai.base_url': must be an http:// or https://"),
        ("[run\n", "invalid TOML"),
    ],
)
def test_bad_config_is_one_line_naming_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path / "bad.toml", text)
    with pytest.raises(ConfigError) as caught:
        load_settings(str(path))
    message = caught.value.message
    assert "\n" not in message
    assert str(path) in message
    assert expected in message


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(str(tmp_path / "nope.toml"))


def test_float_keys_accept_whole_numbers(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[run]\nretry_base_delay = 2\n[runpod]\ncost_per_second = 0\n")
    assert load_settings(str(path)).run.retry_base_delay == 2.0


def test_example_config_is_valid_and_documents_every_key() -> None:
    example = Path(__file__).resolve().parent.parent / "config.toml.example"
    settings = load_settings(str(example))
    text = example.read_text(encoding="utf-8")
    for section_name, section in type(settings).model_fields.items():  # every engine's section too
        annotation = section.annotation
        fields = getattr(annotation, "model_fields", None)
        if fields is None:
            assert f"{section_name} =" in text
            continue
        assert f"[{section_name}]" in text
        for key in fields:
            assert f"\n{key} =" in text or f"\n# {key} =" in text, f"{section_name}.{key} is not documented"
    assert settings.engine == "local"


def test_data_dir_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(None)
    assert data_dir_for(settings, "/x/cli") == Path("/x/cli")
    monkeypatch.setenv("TUI_TTS_DATA_DIR", "/x/env")
    assert data_dir_for(settings, None) == Path("/x/env")
    monkeypatch.delenv("TUI_TTS_DATA_DIR")
    assert "tui-tts" in str(data_dir_for(settings, None))
