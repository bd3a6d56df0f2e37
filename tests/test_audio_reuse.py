"""Audio made once per text: reuse across runs, only changed chunks made again, edits and takes that survive kills."""

from __future__ import annotations

import signal
import sqlite3
import sys
from pathlib import Path

import httpx
import pytest

from tests.audio_helpers import decode_mono, dominant_frequency
from tests.test_crash_resume import cli, wait_until
from tests.test_remote_runs import free_port, start_server, wait_for_port
from tui_tts.audio.ffmpeg import Ffmpeg
from tui_tts.commands.headless import run_headless
from tui_tts.emulator import EmulatorConfig, running_emulator
from tui_tts.emulator.server import tone_frequency
from tui_tts.run.job_journal import read_jobs
from tui_tts.run.request import RunRequest

NAMED = {index for index in range(200) if index % 25 == 3}  # 8 sentences name Hermione
BOOK = " ".join(
    f"Sentence {index} tells of {'Hermione' if index in NAMED else 'the rabbit'} by the tree." for index in range(200)
)


def config_for(tmp_path: Path, url: str) -> Path:
    config = tmp_path / "c.toml"
    config.write_text(f'engine = "runpod"\n[run]\nconcurrency = 16\nmax_chars = 60\n[output]\nformat = "wav"\n'
                      f'[runpod]\nendpoint_url = "{url}"\npoll_initial = 0.02\n[seams]\nenabled = false\n')  # fmt: skip
    return config


@pytest.mark.slow
async def test_a_lexicon_change_makes_only_the_chunks_it_touches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = tmp_path / "book.txt"
    book.write_text(BOOK, encoding="utf-8")
    lexicon = tmp_path / "lexicon.tsv"
    async with running_emulator(EmulatorConfig(latency=0.01, workers=32)) as (url, emulator):
        config = config_for(tmp_path, url)

        async def run(*, fresh: bool = False, with_lexicon: bool = True) -> tuple[int, str]:
            before = emulator.stats().get("submitted", 0)
            overrides = {"lexicon": {"path": str(lexicon)}} if with_lexicon else {}
            request = RunRequest(input=book, output=tmp_path / "book.wav", config=str(config),
                                 data_dir=str(tmp_path / "data"), overrides=overrides, fresh=fresh)  # fmt: skip
            code = await run_headless(request)
            assert code == 0, capsys.readouterr().err
            return emulator.stats()["submitted"] - before, capsys.readouterr().err

        made, _ = await run(with_lexicon=False)
        assert made == 200
        lexicon.write_text("hermione\ther my oh nee\n", encoding="utf-8")
        made, stderr = await run()
        assert made == len(NAMED) == 8  # only the chunks that name her were made again
        assert "reusing 192 of 200 chunks; 8 to make" in stderr
        assert sum(count for text, count in emulator.submissions_by_text.items() if "Her my oh nee" in text) == 8
        again, stderr = await run()
        assert again == 0 and "resuming: 200/200 done" in stderr  # the same command again: nothing to make
        lexicon.write_text("hermione\ther my oh nee\nrabbit\thare\n", encoding="utf-8")
        made, stderr = await run()
        assert made == 192 and "reusing 8 of 200 chunks; 192 to make" in stderr  # a rabbit in every other one
        first_run = sorted((tmp_path / "data" / "runs").iterdir())[0]
        made, _ = await run(fresh=True)  # starts over: every chunk made anew ...
        assert made == 200
    assert len(list((first_run / "chunks").glob("*.wav"))) == 200  # ... and no run's paid audio was thrown away
    with sqlite3.connect(tmp_path / "data" / "tui-tts.db") as db:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 4


@pytest.mark.slow
def test_an_edited_chunk_survives_kill_9_and_resume_and_is_paid_once(tmp_path: Path, ffmpeg: Ffmpeg) -> None:
    port = free_port()
    log = tmp_path / "emulator.log"
    emulator = start_server([sys.executable, "-m", "tui_tts", "emulate", "--port", str(port), "--workers", "8",
                             "--latency", "1.5", "--seconds-per-char", "0.03"], log)  # fmt: skip
    edited = "This sentence was edited by hand, and it is read in place of the old one."
    try:
        wait_for_port(port, emulator, log)
        url = f"http://127.0.0.1:{port}/v2/emulator"
        config = config_for(tmp_path, url)
        book = tmp_path / "book.txt"
        book.write_text(" ".join(BOOK.split(". ")[:6]) + ".", encoding="utf-8")
        data = tmp_path / "data"
        common = ("-c", str(config), "--data-dir", str(data), "--headless")
        first = cli("run", str(book), "-o", str(tmp_path / "book.wav"), *common)
        assert first.wait(timeout=120) == 0, first.communicate()[1]
        [run_dir] = (data / "runs").iterdir()
        journal = run_dir / "jobs.journal"
        old_job = read_jobs(journal)[2]
        redo = cli("redo", "last", "3", "--text", edited, *common)
        assert wait_until(lambda: read_jobs(journal).get(2) not in (None, old_job), 60)  # the edit's job was submitted
        redo.send_signal(signal.SIGKILL)
        redo.communicate(timeout=30)
        with sqlite3.connect(data / "tui-tts.db") as db:
            assert db.execute("SELECT text FROM text_edits").fetchall() == [(edited,)]
            assert db.execute("SELECT state FROM chunks WHERE idx=2").fetchone()[0] != "done"
        resumed = cli("resume", "last", *common)
        _out, stderr = resumed.communicate(timeout=120)
        assert resumed.returncode == 0, stderr
        assert "1 remote job(s) to re-attach" in stderr  # the job paid for before the kill was picked up again
        stats = httpx.get(f"{url}/stats").json()
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
    with sqlite3.connect(data / "tui-tts.db") as db:
        chunks = db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    assert stats["submitted"] == chunks + 1 and stats["repeat_submissions"] == 0  # one job for the edit, none twice
    assert len(list((run_dir / "takes").iterdir())) == 1  # the old take is kept
    with sqlite3.connect(data / "tui-tts.db") as db:
        [(path, duration)] = db.execute("SELECT audio_path, duration FROM chunks WHERE idx=2").fetchall()
    samples = decode_mono(ffmpeg, Path(path), 24_000)
    assert dominant_frequency(samples, 24_000) == pytest.approx(tone_frequency(edited), rel=0.03)
    assert duration == pytest.approx(0.03 * len(edited), rel=0.2)


@pytest.mark.slow
async def test_the_dashboard_edits_redoes_and_plays_a_chunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from textual.widgets import TextArea

    from tests.test_dashboard import live_dashboard, log_text, until
    from tui_tts.ui.chunk_fixes import ChunkFixScreen, EditChunkScreen

    monkeypatch.setenv("PATH", str(tmp_path / "no-players"))  # no ffplay, paplay, aplay, afplay: a WAV to open
    edited = "A chunk edited in the dashboard."
    async with live_dashboard(tmp_path, EmulatorConfig(latency=0.02, workers=8)) as (app, pilot, emulator):
        await until(pilot, lambda: app.finished and app.stage == "done", 60)
        submitted = emulator.stats()["submitted"]
        await pilot.press("enter")  # the grid's cursor: chunk 1
        await until(pilot, lambda: isinstance(app.screen, ChunkFixScreen))
        await pilot.press("a")
        await until(pilot, lambda: "no audio player found" in log_text(app))
        assert (app.controller.data_dir / "runs" / app.controller.plan.run.id / "listen" / "chunk-1.wav").is_file()
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, EditChunkScreen))
        app.screen.query_one(TextArea).text = edited
        await pilot.press("ctrl+s")
        await until(pilot, lambda: emulator.submissions_by_text.get(edited) == 1, 30)
        await until(pilot, lambda: app.finished and app.stage == "done" and "making it again" in log_text(app), 30)
        await pilot.press("right", "enter")  # chunk 2: a new take of it as it is
        await until(pilot, lambda: isinstance(app.screen, ChunkFixScreen))
        await pilot.press("R")
        await until(pilot, lambda: emulator.stats()["submitted"] == submitted + 2, 30)
        await until(pilot, lambda: app.finished and app.stage == "done", 30)
        details = await app.controller.chunk_details(0)
        assert details is not None and details.edited == edited  # shown as read, the book's text kept beside it
        assert log_text(app).count("wrote ") >= 3  # the book was joined again after each fix


def test_a_chunk_made_anew_never_reattaches_its_old_job(tmp_path: Path) -> None:
    from tui_tts.run.job_journal import NO_JOB, read_jobs, record_job

    journal = tmp_path / "jobs.journal"
    record_job(journal, 3, "job-old")
    record_job(journal, 4, "job-other")
    record_job(journal, 3, NO_JOB)  # redo/edit: the old take's job is done with
    assert read_jobs(journal) == {4: "job-other"}
    record_job(journal, 3, "job-new")
    assert read_jobs(journal) == {3: "job-new", 4: "job-other"}


def test_reused_audio_is_counted_once_and_freed_only_with_its_last_run(tmp_path: Path) -> None:
    from tui_tts.commands.prune import folder_bytes, freed_bytes
    from tui_tts.run.reuse import link_or_copy

    old, new = tmp_path / "old" / "chunks", tmp_path / "new" / "chunks"
    old.mkdir(parents=True)
    new.mkdir(parents=True)
    (old / "000000.wav").write_bytes(b"x" * 1000)
    (old / "000001.wav").write_bytes(b"y" * 500)
    link_or_copy(old / "000000.wav", new / "000000.wav")  # reused by the newer run
    seen: set[tuple[int, int]] = set()
    assert [folder_bytes(new.parent, seen), folder_bytes(old.parent, seen)] == [1000, 500]
    assert freed_bytes([old.parent]) == 500  # the other run still holds the reused audio
    assert freed_bytes([old.parent, new.parent]) == 1500
