"""Voices, the lexicon, `names` and `stitch --allow-gaps` as a user runs them: real engine, ffmpeg and SQLite."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.test_cli import tui_tts
from tui_tts.audio.probe import probe_file
from tui_tts.commands.cli import main

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "examples" / "alice-rabbit-hole.txt"
CHINESE = "我们今天去北京看朋友。天气很好，大家都很高兴。他说这个城市变化很大，到处都是新的建筑。"


def run_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def test_names_and_voices_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, names = run_in_process(capsys, "names", str(SAMPLE))
    assert code == 0 and any(line.split()[:3] == ["6", "Alice", "name"] for line in names.splitlines())
    code, starter = run_in_process(capsys, "names", str(SAMPLE), "--tsv")
    assert code == 0 and "\nAlice\tAlice\n" in starter
    code, voices = run_in_process(capsys, "voices")
    assert code == 0 and "* en-us " in voices and "\n  cmn " in voices
    config = tmp_path / "c.toml"
    config.write_text('[runpod]\nendpoint_url = "http://127.0.0.1:1"\nvoices = ["af_heart", "zf_xiaobei"]\n'
                      'input = { text = "{text}", voice = "zf_xiaobei" }\n')  # fmt: skip
    code, remote = run_in_process(capsys, "voices", "--engine", "runpod", "-c", str(config))
    assert code == 0 and remote.splitlines()[:2] == ["  af_heart", "* zf_xiaobei"]


def test_a_bad_lexicon_stops_before_anything_is_made(tmp_path: Path) -> None:
    lexicon = tmp_path / "bad.tsv"
    lexicon.write_text("Alice\tAl-iss\nre:(unclosed\tx\n", encoding="utf-8")
    data = tmp_path / "data"
    result = tui_tts("run", str(SAMPLE), "-o", str(tmp_path / "a.wav"), "--data-dir", str(data), "--lexicon",
                     str(lexicon), "--headless")  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "line 2: bad regular expression '(unclosed'" in result.stderr
    assert not (data / "tui-tts.db").exists()


@pytest.mark.slow
def test_the_lexicon_changes_what_is_read_not_what_is_shown(tmp_path: Path) -> None:
    text = tmp_path / "t.txt"
    text.write_text("Hermione waved.\n", encoding="utf-8")
    lexicon = tmp_path / "l.toml"
    lexicon.write_text('[words]\nhermione = "her my oh nee, the very best witch of her age and year"\n')
    durations = []
    for extra in ([], ["--lexicon", str(lexicon)]):
        data = tmp_path / f"data{len(extra)}"
        result = tui_tts("run", str(text), "-o", str(tmp_path / f"o{len(extra)}.wav"), "--data-dir", str(data),
                         "--headless", *extra)  # fmt: skip
        assert result.returncode == 0, result.stderr
        with sqlite3.connect(data / "tui-tts.db") as db:
            [(stored, duration)] = db.execute("SELECT text, duration FROM chunks").fetchall()
        assert stored == "Hermione waved."  # the text shown is the text of the book
        durations.append(duration)
    assert durations[1] > 2.5 * durations[0]  # the engine read the replacement


@pytest.mark.slow
def test_chinese_text_gets_a_chinese_voice_and_an_english_one_a_warning(tmp_path: Path) -> None:
    text = tmp_path / "zh.txt"
    text.write_text(CHINESE * 3, encoding="utf-8")
    data = str(tmp_path / "data")
    chosen = tui_tts("run", str(text), "-o", str(tmp_path / "cmn.wav"), "--data-dir", data, "--headless")
    assert chosen.returncode == 0, chosen.stderr
    assert "using the espeak-ng voice 'cmn'" in chosen.stderr and "voice cmn" in chosen.stderr
    forced = tui_tts("run", str(text), "-o", str(tmp_path / "en.wav"), "--data-dir", data, "--headless",
                     "--voice", "en-us")  # fmt: skip
    assert forced.returncode == 0, forced.stderr
    warning = [line for line in forced.stderr.splitlines() if line.startswith("warning: the text is Chinese")]
    assert warning and "--voice cmn" in warning[0]
    assert forced.stderr.index("warning:") < forced.stderr.index("/1 done")  # before anything was synthesised
    # English letter names for every character: far longer than the Chinese reading.
    assert probe_file(tmp_path / "en.wav").duration > 1.8 * probe_file(tmp_path / "cmn.wav").duration
    again = tui_tts("run", str(text), "-o", str(tmp_path / "cmn2.wav"), "--data-dir", data, "--headless")
    assert "resuming: " in again.stderr  # the chosen voice is chosen again: the same run


@pytest.mark.slow
def test_stitch_with_gaps_leaves_out_failed_chunks_and_names_their_text(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = tui_tts("run", str(SAMPLE), "-o", str(tmp_path / "full.wav"), "--data-dir", str(data), "--headless",
                   "--max-chars", "400", "--no-seams")  # fmt: skip
    assert made.returncode == 0, made.stderr
    with sqlite3.connect(data / "tui-tts.db") as db:
        rows = db.execute("SELECT idx, duration, text FROM chunks ORDER BY idx").fetchall()
        db.execute("UPDATE chunks SET state='failed', last_error='gone' WHERE idx IN (1, 3)")  # failed for good
    refused = tui_tts("stitch", "last", "-o", str(tmp_path / "gappy.wav"), "--data-dir", str(data), "--no-seams")
    assert refused.returncode == 2 and "2 chunk(s) are not done yet" in refused.stderr
    assert "--allow-gaps" in refused.stderr and not (tmp_path / "gappy.wav").exists()
    gappy = tui_tts("stitch", "last", "-o", str(tmp_path / "gappy.wav"), "--data-dir", str(data), "--no-seams",
                    "--allow-gaps")  # fmt: skip
    assert gappy.returncode == 0, gappy.stderr
    expected = sum(duration for idx, duration, _ in rows if idx not in (1, 3))
    assert probe_file(tmp_path / "gappy.wav").duration == pytest.approx(expected, abs=0.05)
    missing = [line for line in gappy.stderr.splitlines() if line.startswith("missing: ")]
    first_words = " ".join(rows[1][2].split()[:8])
    assert missing[0] == f"missing: chunk 2, chapter 1 'alice-rabbit-hole': '{first_words} …'"
    assert missing[1].startswith("missing: chunk 4, chapter 1") and len(missing) == 2
    shown = tui_tts("show", "last", "--data-dir", str(data))
    assert f"missing from the output: chunk 2, chapter 1 'alice-rabbit-hole': '{first_words} …'" in shown.stdout


def test_a_run_made_with_the_lexicon_flag_can_be_redone_and_resumed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "t.txt"
    text.write_text("Hermione waved.\n", encoding="utf-8")
    lexicon = tmp_path / "l.tsv"
    lexicon.write_text("hermione\ther my oh nee\n", encoding="utf-8")
    data = ["--data-dir", str(tmp_path / "data"), "--headless"]
    code, _ = run_in_process(capsys, "run", str(text), "-o", str(tmp_path / "o.wav"), "--lexicon", str(lexicon), *data)
    assert code == 0
    for command in (["redo", "last", "1"], ["resume", "last"]):  # the run's own lexicon, with no flag to repeat it
        assert main([*command, *data]) == 0, capsys.readouterr().err
    lexicon.write_text("hermione\ther-my-oh-nee\n", encoding="utf-8")  # a changed lexicon is another run
    assert main(["resume", "last", *data]) == 2 and "lexicon: " in capsys.readouterr().err


def test_missing_text_quotes_apostrophes_as_they_are() -> None:
    from tui_tts.models import Chunk, ChunkState
    from tui_tts.run.assemble import missing_text
    from tui_tts.store.records import ChunkRecord

    chunk = Chunk(0, 0, 0, 30, '"There\'s plenty of room!" said Alice.')
    record = ChunkRecord(chunk, ChunkState.FAILED, 1, "x", None, None, None)
    assert missing_text([record], ["Alice's Evidence"]) == [
        "chunk 1, chapter 1 'Alice's Evidence': '\"There's plenty of room!\" said Alice.'"
    ]
