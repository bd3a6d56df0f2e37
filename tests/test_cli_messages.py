"""What the command line says: output formats, chapter ranges, changed settings, help, version, doctor, demo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli import tui_tts
from tui_tts.audio.probe import probe_file

CHAPTERS = "".join(f"# Chapter {n}\n\nThe {n} rabbit ran. It ran far away.\n\n" for n in (1, 2, 3))


def _one_line_error(result: object, expected: str) -> str:
    assert getattr(result, "returncode", None) == 2, getattr(result, "stderr", "")
    lines = str(getattr(result, "stderr", "")).strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tui-tts: error: "), lines
    assert expected in lines[0], lines[0]
    return lines[0]


def test_an_output_extension_we_cannot_make_is_refused_in_run_and_stitch(tmp_path: Path) -> None:
    book = tmp_path / "b.txt"
    book.write_text("Hello there. A short text.", encoding="utf-8")
    data = str(tmp_path / "d")
    for name in ("x.aiff", "x.MP5"):
        line = _one_line_error(
            tui_tts("run", str(book), "-o", str(tmp_path / name), "--data-dir", data), "cannot write"
        )
        assert all(ext in line for ext in (".mp3", ".opus", ".flac", ".wav", ".m4b", ".m4a"))
    _one_line_error(tui_tts("run", str(book), "-o", str(tmp_path / "x"), "--data-dir", data), "no extension")
    assert not (tmp_path / "x.aiff").exists() and not (tmp_path / "x").exists()
    assert tui_tts("run", str(book), "--data-dir", data).returncode == 0
    line = _one_line_error(
        tui_tts("stitch", "last", "-o", str(tmp_path / "y.aiff"), "--data-dir", data), "cannot write"
    )
    assert ".m4a" in line


@pytest.mark.slow
def test_m4a_is_aac_in_mp4_with_chapters(tmp_path: Path) -> None:
    from mutagen.mp4 import MP4

    book = tmp_path / "book.md"
    book.write_text(CHAPTERS, encoding="utf-8")
    output = tmp_path / "book.m4a"
    result = tui_tts("run", str(book), "-o", str(output), "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 0, result.stderr
    assert probe_file(output).codec == "aac"
    chapters = list(MP4(output).chapters or [])  # type: ignore[no-untyped-call]
    assert [chapter.title for chapter in chapters] == ["Chapter 1", "Chapter 2", "Chapter 3"]
    restitched = tmp_path / "again.m4a"
    assert tui_tts("stitch", "last", "-o", str(restitched), "--data-dir", str(tmp_path / "d")).returncode == 0
    assert len(list(MP4(restitched).chapters or [])) == 3  # type: ignore[no-untyped-call]


@pytest.mark.slow
def test_reversed_chapter_range_and_text_without_words(tmp_path: Path) -> None:
    book = tmp_path / "book.md"
    book.write_text(CHAPTERS, encoding="utf-8")
    data = str(tmp_path / "d")
    _one_line_error(tui_tts("run", str(book), "--chapters", "3-1", "--data-dir", data), "reversed")
    _one_line_error(tui_tts("run", str(book), "--chapters", "2-7", "--data-dir", data), "chapters 1 to 3")
    for name, text in (("dots.txt", "... !!! ??? --- *** ///\n\n;;;"), ("emoji.txt", "\U0001f600 \U0001f407 \u2728")):
        (tmp_path / name).write_text(text, encoding="utf-8")
        _one_line_error(tui_tts("run", str(tmp_path / name), "--data-dir", data), "no speakable text")
    assert not (tmp_path / "dots.mp3").exists()


@pytest.mark.slow
def test_settings_changed_names_only_the_keys_that_differ(tmp_path: Path) -> None:
    book = tmp_path / "b.txt"
    book.write_text("One sentence here. Another sentence there.", encoding="utf-8")
    data = str(tmp_path / "d")
    assert tui_tts("run", str(book), "--data-dir", data).returncode == 0
    config = tmp_path / "c.toml"
    config.write_text('engine = "openai"\n[run]\nmax_attempts = 1\noutage_patience = 1\n'  # nothing listens there
                      '[openai]\nbase_url = "http://127.0.0.1:9/v1"\n')  # fmt: skip
    switched = tui_tts("run", str(book), "--data-dir", data, "-c", str(config))
    line = next(line for line in switched.stderr.splitlines() if line.startswith("settings changed"))
    assert "engine: 'local' -> 'openai'" in line
    assert "base_url" not in line and "voice" not in line and "{" not in line, line


@pytest.mark.slow
def test_runs_on_an_empty_data_dir_help_version_and_doctor(tmp_path: Path) -> None:
    empty = tui_tts("runs", "--data-dir", str(tmp_path / "nothing"))
    assert empty.returncode == 0 and empty.stdout.strip() == "no runs yet", empty.stderr
    assert json.loads(tui_tts("runs", "--json", "--data-dir", str(tmp_path / "nothing")).stdout) == []
    assert ".epub" in tui_tts("run", "--help").stdout
    version = tui_tts("-V")
    assert version.returncode == 0 and version.stdout.startswith("tui-tts ")
    doctor = tui_tts("doctor", "--data-dir", str(tmp_path / "d"))
    default = tmp_path / "home" / ".config" / "tui-tts" / "config.toml"
    assert str(default) in doctor.stdout, doctor.stdout  # where it looked, though nothing is there
    config = tmp_path / "c.toml"
    config.write_text('[local]\nvoice = "en"\n')
    read = tui_tts("doctor", "-c", str(config), "--data-dir", str(tmp_path / "d"))
    assert f"read {config}" in read.stdout, read.stdout


@pytest.mark.slow
def test_demo_leaves_no_temp_folders(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    result = tui_tts("demo", "--headless", "--latency", "0.05", "--seed", "3", env={"TMPDIR": str(temp)},
                     timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    output = Path(result.stderr.strip().splitlines()[-1].removeprefix("demo output: "))
    assert output.is_file() and probe_file(output).duration > 10
    assert [path.name for path in temp.iterdir()] == [output.name]  # the output only: no tui-tts-demo-* folder


def test_flags_out_of_range_are_blamed_on_the_flag_not_the_config(tmp_path: Path) -> None:
    book = tmp_path / "b.txt"
    book.write_text("Hello there. A short text.", encoding="utf-8")
    config = tmp_path / "c.toml"
    config.write_text("[run]\nmax_chars = 400\n", encoding="utf-8")
    for value in ("5", "20001"):
        line = _one_line_error(tui_tts("run", str(book), "--max-chars", value, "-c", str(config)), "--max-chars")
        assert "between 50 and 20000" in line and "c.toml" not in line
    line = _one_line_error(tui_tts("run", str(book), "--concurrency", "257", "-c", str(config)), "--concurrency")
    assert "at most 256" in line and "c.toml" not in line
