"""Shared fixtures: every test gets its own config and data dirs, so none touches a real home directory."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.delenv("TUI_TTS_CONFIG", raising=False)
    monkeypatch.delenv("TUI_TTS_DATA_DIR", raising=False)
    return home


@pytest.fixture
def ffmpeg():  # type: ignore[no-untyped-def]
    from tui_tts.audio.ffmpeg import find_ffmpeg

    return find_ffmpeg()
