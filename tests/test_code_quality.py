"""The codebase's own rules, checked by the test command: lint, format, types, and the core never importing Textual."""

from __future__ import annotations

import re
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


def test_no_module_outside_ui_imports_textual() -> None:
    pattern = re.compile(r"^\s*(from|import)\s+textual\b", re.MULTILINE)
    leaks = [
        str(path.relative_to(REPO))
        for path in (REPO / "tui_tts").rglob("*.py")
        if "ui" not in path.relative_to(REPO / "tui_tts").parts[:1] and pattern.search(path.read_text("utf-8"))
    ]
    assert leaks == []


def test_modules_stay_small_and_documented() -> None:
    for path in (REPO / "tui_tts").rglob("*.py"):
        text = path.read_text("utf-8")
        assert len(text.splitlines()) <= 450, f"{path} is over 450 lines"
        assert text.lstrip().startswith('"""'), f"{path} has no module docstring"
