"""The codebase's own rules, checked by the test command: lint, format, types, the layers, and SQL only in store/."""

from __future__ import annotations

import ast
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


def test_the_layers_hold() -> None:
    """import-linter's contracts in pyproject.toml: only ui/ imports Textual, ui/ never reaches the store or the
    engines directly, orchestration never imports a front end, engines/store/audio/text never import orchestration,
    only the store speaks SQL, and nothing in the core loads the emulator."""
    result = subprocess.run([str(Path(sys.executable).with_name("lint-imports"))], cwd=REPO, capture_output=True,
                            text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout and result.stdout.count("KEPT") >= 7


def test_modules_stay_small_and_documented() -> None:
    for path in (REPO / "tui_tts").rglob("*.py"):
        text = path.read_text("utf-8")
        assert len(text.splitlines()) <= 450, f"{path} is over 450 lines"
        assert text.lstrip().startswith('"""'), f"{path} has no module docstring"


SQL_STATEMENT = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|REPLACE)\b.*?\b(FROM|INTO|SET)\b", re.DOTALL)


def sql_outside_store(package: Path) -> list[str]:
    """Every string literal (f-strings and implicitly joined strings included) under `package` that holds an SQL
    statement, outside its store/ folder, as 'path:line: text'."""
    found = []
    for path in sorted(package.rglob("*.py")):
        if (package / "store") in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
            elif isinstance(node, ast.JoinedStr):
                text = "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in node.values)
            else:
                continue
            if SQL_STATEMENT.search(text):
                found.append(f"{path.relative_to(package.parent)}:{node.lineno}: {text[:60]!r}")
    return found


def test_sql_is_written_only_in_the_store() -> None:
    """The store owns the schema: everything else asks `Store` for records by name (an import-linter contract keeps
    sqlite3 and the raw database out of every other package)."""
    assert sql_outside_store(REPO / "tui_tts") == []


def test_the_sql_check_finds_a_planted_statement(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "store").mkdir(parents=True)
    (package / "store" / "runs.py").write_text('Q = "SELECT * FROM runs"\n')  # the store may
    (package / "ui.py").write_text('"""Select a chunk, then press enter to see it."""\n')  # prose is not SQL
    assert sql_outside_store(package) == []
    (package / "runner.py").write_text('def f(t):\n    return (f"UPDATE {t} "\n            "SET state=? WHERE id=?")\n')
    (package / "manage.py").write_text('Q = """\n    DELETE\n    FROM runs WHERE id=?"""\n')
    found = [line.split(":")[:2] for line in sql_outside_store(package)]
    assert found == [["pkg/manage.py", "1"], ["pkg/runner.py", "2"]], found
