"""The codebase's own rules, checked by the test command: lint, format, types, and the core never importing Textual."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=300)


def test_ruff_lint_and_format() -> None:
    folders = [name for name in ("tui_tts", "tests", "bench") if (REPO / name).is_dir()]
    lint = run("ruff", "check", *folders)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    form = run("ruff", "format", "--check", *folders)
    assert form.returncode == 0, form.stdout + form.stderr


@pytest.mark.slow
def test_mypy_strict_on_the_package() -> None:
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_layers_hold() -> None:
    """import-linter's contracts in pyproject.toml: only ui/ imports Textual, ui/ never reaches the store or the
    engines directly, orchestration never imports a front end, engines/store/audio/text never import orchestration,
    and nothing in the core loads the emulator."""
    result = subprocess.run([str(Path(sys.executable).with_name("lint-imports"))], cwd=REPO, capture_output=True,
                            text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout and result.stdout.count("KEPT") >= 6


def test_modules_stay_small_and_documented() -> None:
    for path in (REPO / "tui_tts").rglob("*.py"):
        text = path.read_text("utf-8")
        assert len(text.splitlines()) <= 450, f"{path} is over 450 lines"
        assert text.lstrip().startswith('"""'), f"{path} has no module docstring"
