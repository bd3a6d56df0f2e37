"""The dashboard's remembered theme, in the user's state dir (XDG_STATE_HOME), so a choice survives a restart."""

from __future__ import annotations

import json
from pathlib import Path

import platformdirs

from tui_tts.config import APP_NAME


def theme_state_path() -> Path:
    return Path(platformdirs.user_state_dir(APP_NAME)) / "dashboard.json"


def load_theme(path: Path) -> str | None:
    """The theme saved last time, or None (no file yet, or one we cannot read: the default theme is fine)."""
    try:
        theme = json.loads(path.read_text(encoding="utf-8")).get("theme")
    except (OSError, ValueError, AttributeError):
        return None
    return theme if isinstance(theme, str) else None


def save_theme(path: Path, theme: str) -> None:
    """Remember the theme; a read-only state dir only means it is not remembered."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"theme": theme}), encoding="utf-8")
    except OSError:
        return
